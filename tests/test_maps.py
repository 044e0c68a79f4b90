"""Map builders: offline assets, escaping, payload size (rendered HTML, no browser)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from streamlit_folium import _get_feature_group_string, _get_map_string

from geo.coverage import sites_per_departement
from geo.maps import (
    DENSITY_BINS,
    LABEL_STYLES,
    VIEWS,
    base_map,
    density_class,
    density_layer,
    distance_classes,
    offline_map,
    site_popup_html,
    sites_geojson,
    sites_layer,
    view_center,
)
from geo.territories import display_geometries

HOSTILE = '<img src=x onerror="window.__pwned=1">'


@pytest.fixture(scope="module")
def deps_display(departements):
    return display_geometries(departements, 0.01)


def _render(m) -> str:
    return m.get_root().render()


def _asset_urls(html: str) -> set[str]:
    return set(re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html))


def test_offline_map_loads_assets_only_from_static():
    """Every script and stylesheet of a map comes from the app's /app/static."""
    urls = _asset_urls(_render(offline_map()))
    assert urls
    assert all(u.startswith("/app/static/") for u in urls), urls


def test_national_map_with_sites_loads_no_outside_asset(deps_display, centres):
    """Base map, cluster plugin and layers reference no CDN."""
    m = base_map(deps_display)
    sites_layer(centres).add_to(m)
    html = _render(m)
    assert all(u.startswith("/app/static/") for u in _asset_urls(html))
    for cdn in ("jsdelivr", "cdnjs", "unpkg", "jquery", "bootstrapcdn", "googleapis"):
        assert cdn not in html


def test_no_tiles_by_default_and_optional_tile_url():
    """Tiles are off unless a URL is given."""
    assert "L.tileLayer" not in _render(offline_map())
    assert "L.tileLayer" in _render(offline_map(tiles_url="http://localhost:8080/{z}/{x}/{y}.png"))


def test_base_map_draws_101_departements(deps_display):
    """The base layer holds one feature per département."""
    html = _render(base_map(deps_display))
    assert html.count('"type": "Feature"') + html.count('"type":"Feature"') == 101


def test_popup_escapes_every_field(centres):
    """Data text is escaped in popups: markup shows literally."""
    row = centres.iloc[0].copy()
    row["establishment"] = HOSTILE
    row["service"] = "<script>alert(1)</script>"
    row["crmr_name"] = "\"Réseau\" 'x' & <b>y</b>"
    popup = site_popup_html(row)
    assert "<img" not in popup and "<script" not in popup and "<b>" not in popup
    assert "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;" in popup
    assert "&amp;" in popup


def test_popup_source_link_only_for_http_urls(centres):
    """A javascript: URL never becomes a link."""
    row = centres.iloc[0].copy()
    row["source_url"] = "javascript:alert(1)"
    assert "href" not in site_popup_html(row)


def test_tooltip_property_is_escaped(centres):
    """The tooltip text of a site is escaped too."""
    frame = centres.head(1).copy()
    frame["establishment"] = HOSTILE
    feature = sites_geojson(frame, frame["label"].iloc[0])["features"][0]
    assert "<img" not in feature["properties"]["tip"]


def test_sites_layer_is_one_geojson_per_label_not_markers(centres):
    """Sites are drawn as GeoJSON layers (one per label present), never folium.Marker."""
    html = _render(offline_map().add_child(sites_layer(centres)))
    assert "L.marker(" not in html
    assert html.count("L.geoJson(") == centres["label"].nunique()


def test_national_map_payload_under_one_megabyte(deps_display, departements, centres):
    """Base map + every site + the density layer stay under 1 MB, as streamlit-folium sends them."""
    m = base_map(deps_display)
    base_js = _get_map_string(m)
    layers = [
        density_layer(
            display_geometries(departements, 0.02), sites_per_departement(centres, departements)
        ),
        sites_layer(centres),
    ]
    fg_js = "".join(_get_feature_group_string(fg, m, i) for i, fg in enumerate(layers))
    assert len(base_js.encode()) + len(fg_js.encode()) < 1_000_000


def test_base_map_script_is_identical_across_builds(deps_display):
    """The base map's script does not change between reruns, so the map is not remounted."""
    assert _get_map_string(base_map(deps_display)) == _get_map_string(base_map(deps_display))


@pytest.mark.parametrize("view", list(VIEWS))
def test_every_view_centres_inside_its_territory(view, deps_display):
    """Each one-click view is centred on its territory."""
    (lat, lon), zoom = view_center(view, deps_display)
    code = VIEWS[view][0]
    if code is None:
        assert 41 < lat < 52 and -5 < lon < 10
    else:
        x0, y0, x1, y1 = deps_display.loc[deps_display["code"] == code].total_bounds
        assert x0 <= lon <= x1 and y0 <= lat <= y1
    assert zoom >= 5


def test_view_center_rejects_unknown_view(deps_display):
    """An unknown view name is a ValueError naming the choices."""
    with pytest.raises(ValueError, match="Métropole"):
        view_center("Atlantis", deps_display)


@pytest.mark.parametrize(("value", "expected"), [(0.0, 0), (1.9, 0), (2.0, 1), (25.0, 4)])
def test_density_class_bins(value, expected):
    """Density classes follow DENSITY_BINS (upper bound exclusive)."""
    assert DENSITY_BINS[expected] <= value
    assert density_class(value) == expected


def test_density_layer_marks_unknown_population(deps_display, departements, centres):
    """Mayotte (population missing in the source) is shown as unknown, not as 0 per million."""
    html = _render(
        offline_map().add_child(
            density_layer(deps_display, sites_per_departement(centres, departements))
        )
    )
    assert "population inconnue" in html


def test_distance_classes_mark_no_site_and_no_position():
    """inf → 'no site in the territory' class, NaN → −1 (transparent)."""
    classes = distance_classes(np.array([10.0, 60.0, 250.0, np.inf, np.nan]))
    assert classes.tolist() == [0, 2, 4, 5, -1]


def test_every_label_has_a_distinct_colour_and_french_name():
    """The legend distinguishes every label by colour and names it in French."""
    colours = [s.colour for s in LABEL_STYLES.values()]
    assert len(set(colours)) == len(colours)
    assert all(s.name for s in LABEL_STYLES.values())


def test_sites_geojson_rounds_coordinates(centres):
    """Coordinates are rounded (payload) to 4 decimals."""
    frame = centres.head(3).copy()
    frame["lon"] = 2.123456789
    label = frame["label"].iloc[0]
    coords = sites_geojson(frame[frame["label"] == label], label)["features"][0]["geometry"]
    assert coords["coordinates"][0] == 2.1235


def test_popup_lists_network_filiere_label_vintage(centres):
    """A popup carries establishment, network, filière, label and vintage."""
    row = centres[centres["filiere"] != ""].iloc[0]
    popup = site_popup_html(row)
    for text in ("Réseau", "Filière", "Label", "Millésime", "Source"):
        assert text in popup
    assert pd.notna(row["vintage"])


def test_density_layer_keeps_its_name(deps_display, departements, centres):
    """The density layer is named as asked, not after the last département drawn."""
    layer = density_layer(deps_display, sites_per_departement(centres, departements), "Densité")
    assert layer.layer_name == "Densité"
