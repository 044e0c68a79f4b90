"""Folium map builders (pure: no streamlit), offline by construction.

Leaflet and Leaflet.markercluster are served by the app itself from ``static/``
(Streamlit static serving, URL prefix :data:`STATIC_URL`); folium's CDN defaults
(Leaflet, jQuery, Bootstrap, Font Awesome…) are replaced on every map built here.
Base tiles are off unless a tile URL is given: the territories are the base map.

Everything drawn is in WGS84 (EPSG:4326). Every text coming from data is
HTML-escaped in Python before it reaches the page (popups and tooltips are
inserted as HTML by Leaflet).

The national map is split as streamlit-folium wants it: :func:`base_map` is
constant across reruns (no remount), and the filter-dependent layers
(:func:`sites_layer`, :func:`density_layer`) are FeatureGroups passed through
``feature_group_to_add``.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.plugins import MarkerCluster
from folium.utilities import JsCode
from jinja2 import Template

STATIC_URL = "/app/static"
LEAFLET_JS = [("leaflet", f"{STATIC_URL}/leaflet/leaflet.js")]
LEAFLET_CSS = [("leaflet_css", f"{STATIC_URL}/leaflet/leaflet.css")]
CLUSTER_JS = [("markerclusterjs", f"{STATIC_URL}/markercluster/leaflet.markercluster.js")]
CLUSTER_CSS = [
    ("markerclustercss", f"{STATIC_URL}/markercluster/MarkerCluster.css"),
    ("markerclusterdefaultcss", f"{STATIC_URL}/markercluster/MarkerCluster.Default.css"),
]

#: Coordinates in the HTML are rounded to this many decimals (≈ 1 m at 5).
COORD_DECIMALS = 4


@dataclass(frozen=True)
class LabelStyle:
    """How one site label is drawn: French name, Okabe–Ito colour, marker radius (px)."""

    name: str
    colour: str
    radius: int


#: Okabe–Ito colour-blind-safe palette; the radius also varies with the level of care,
#: so that colour is never the only carrier of meaning.
LABEL_STYLES: dict[str, LabelStyle] = {
    "crmr_coordonnateur": LabelStyle("CRMR – site coordonnateur", "#D55E00", 9),
    "crmr_constitutif": LabelStyle("CRMR – site constitutif", "#E69F00", 8),
    "crmr_site": LabelStyle("CRMR – site (rôle non précisé)", "#CC79A7", 8),
    "ccmr": LabelStyle("Centre de compétence (CCMR)", "#0072B2", 6),
    "crc": LabelStyle("Centre de ressources et de compétences (CRC)", "#009E73", 6),
    "collaborateur": LabelStyle("Centre collaborateur", "#56B4E9", 5),
    "pemr": LabelStyle("Plateforme d'expertise (PEMR)", "#000000", 7),
}

#: One-click views: name → (département code or None, zoom). Métropole is the default.
VIEWS: dict[str, tuple[str | None, float]] = {
    "Métropole": (None, 5.5),
    "Guadeloupe": ("971", 9),
    "Martinique": ("972", 10),
    "Guyane": ("973", 7),
    "La Réunion": ("974", 10),
    "Mayotte": ("976", 11),
}
METROPOLE_CENTER = (46.4, 2.5)

#: Density classes (sites per million inhabitants), upper bounds; colours from
#: ColorBrewer "Blues" (sequential, colour-blind safe).
DENSITY_BINS = (0, 2, 5, 10, 20, np.inf)
DENSITY_COLOURS = ("#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b")
NO_SITE_COLOUR = "#ffffff"
UNKNOWN_COLOUR = "#bdbdbd"


class OfflineMarkerCluster(MarkerCluster):
    """MarkerCluster loading its assets from the app's ``static/`` folder."""

    default_js = CLUSTER_JS
    default_css = CLUSTER_CSS


def offline_map(
    center: tuple[float, float] = METROPOLE_CENTER,
    zoom: float = 5.5,
    tiles_url: str | None = None,
    tiles_attribution: str | None = None,
) -> folium.Map:
    """An empty folium map whose JS/CSS all come from :data:`STATIC_URL`.

    ``tiles_url`` (e.g. a local tile server) is optional; without it no tile is requested.
    """
    m = folium.Map(
        location=list(center),
        zoom_start=zoom,
        tiles=None,
        control_scale=True,
    )
    # Without a tile layer Leaflet has no zoom range, which MarkerCluster needs.
    m.options["minZoom"] = 2
    m.options["maxZoom"] = 18
    m.options["zoomSnap"] = 0.25
    m.default_js = LEAFLET_JS
    m.default_css = LEAFLET_CSS
    if tiles_url:
        folium.TileLayer(
            tiles=tiles_url, attr=tiles_attribution or "fond de carte", name="Fond de carte"
        ).add_to(m)
    return m


def _round_geometry(geom, decimals: int = COORD_DECIMALS):
    return shapely.set_precision(geom, 10.0**-decimals)


def territories_geojson(frame: gpd.GeoDataFrame, decimals: int = COORD_DECIMALS) -> dict:
    """GeoJSON dict of ``code``, ``name`` and geometry, coordinates rounded, names escaped."""
    out = gpd.GeoDataFrame(
        {"code": frame["code"].astype(str), "name": frame["name"].map(html.escape)},
        geometry=_round_geometry(frame.geometry.values, decimals),
        crs=frame.crs,
    )
    return json.loads(out.to_json(drop_id=True))


def view_center(view: str, departements: gpd.GeoDataFrame) -> tuple[tuple[float, float], float]:
    """Centre (lat, lon) and zoom of a :data:`VIEWS` entry."""
    if view not in VIEWS:
        raise ValueError(f"view must be one of {', '.join(VIEWS)}; got {view!r}")
    code, zoom = VIEWS[view]
    if code is None:
        return METROPOLE_CENTER, zoom
    geom = departements.loc[departements["code"] == code].geometry.iloc[0]
    c = geom.envelope.centroid
    return (round(c.y, 4), round(c.x, 4)), zoom


def legend_html() -> str:
    """The map legend (escaped, static): one swatch per label, with its size."""
    rows = "".join(
        f'<div style="display:flex;align-items:center;gap:6px;margin:2px 0">'
        f'<span aria-hidden="true" style="display:inline-block;width:{2 * s.radius}px;'
        f"height:{2 * s.radius}px;border-radius:50%;background:{s.colour};"
        f'border:1px solid #333"></span>{html.escape(s.name)}</div>'
        for s in LABEL_STYLES.values()
    )
    return (
        '<div class="rd-legend" role="region" aria-label="Légende" style="background:#fff;'
        "padding:4px 6px;border:1px solid #777;border-radius:4px;font:11px/1.25 sans-serif;"
        f'color:#111">{rows}</div>'
    )


class _Legend(MacroElement):
    """A static Leaflet control in the top-right corner holding :func:`legend_html`."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: "topright"});
        {{ this.get_name() }}.onAdd = function () {
            var div = L.DomUtil.create("div");
            div.innerHTML = {{ this.html|tojson }};
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str):
        super().__init__()
        self._name = "Legend"
        self.html = html_text


def base_map(
    departements: gpd.GeoDataFrame,
    center: tuple[float, float] = METROPOLE_CENTER,
    zoom: float = 5.5,
    tiles_url: str | None = None,
    tiles_attribution: str | None = None,
) -> folium.Map:
    """The constant part of the national map: département outlines (101) and the legend.

    ``departements`` should already be simplified for display
    (:func:`geo.territories.display_geometries`).
    """
    m = offline_map(center, zoom, tiles_url, tiles_attribution)
    folium.GeoJson(
        territories_geojson(departements),
        name="Départements",
        style_function=lambda _: {
            "color": "#555555",
            "weight": 0.8,
            "fillColor": "#eeeeee",
            "fillOpacity": 0.6 if not tiles_url else 0.1,
        },
        tooltip=folium.GeoJsonTooltip(fields=["name", "code"], aliases=["Département", "Code"]),
        control=False,
    ).add_to(m)
    _Legend(legend_html()).add_to(m)
    return m


def site_popup_html(row) -> str:
    """Popup HTML of one site, every value escaped; ``row`` has the registry columns."""

    def esc(v) -> str:
        return html.escape("" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))

    style = LABEL_STYLES.get(row["label"])
    label = style.name if style else row["label"]
    lines = [
        f"<strong>{esc(row['establishment']) or '(établissement non précisé)'}</strong>",
        f"Service : {esc(row['service'])}" if row["service"] else "",
        f"Réseau : {esc(row['crmr_name'])}",
        f"Filière : {esc(row['filiere'])}" if row["filiere"] else "",
        f"Label : {esc(label)}",
        f"Commune : {esc(row.get('commune', row['commune_code']))}",
        f"Millésime : {esc(row['vintage'])}",
    ]
    url = str(row["source_url"]).split(" ; ")[0].strip()
    if url.startswith(("http://", "https://")):
        lines.append(
            f'<a href="{html.escape(url, quote=True)}" target="_blank" '
            f'rel="noopener noreferrer">Source</a>'
        )
    return "<br>".join(x for x in lines if x)


_BIND_SITE = JsCode(
    """
    function (feature, layer) {
        layer.bindPopup(feature.properties.popup, {maxWidth: 340});
        layer.bindTooltip(feature.properties.tip);
    }
    """
)


def sites_geojson(centres: pd.DataFrame, label: str) -> dict:
    """GeoJSON points of one label, with escaped ``popup`` and ``tip`` properties."""
    rows = centres[centres["label"] == label]
    features = []
    for _, row in rows.iterrows():
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [
                        round(float(row["lon"]), COORD_DECIMALS),
                        round(float(row["lat"]), COORD_DECIMALS),
                    ],
                },
                "properties": {
                    "id": str(row["id"]),
                    "label": label,
                    "popup": site_popup_html(row),
                    "tip": html.escape(str(row["establishment"] or row["crmr_name"])),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def sites_layer(centres: pd.DataFrame, name: str = "Sites") -> folium.FeatureGroup:
    """All sites, clustered where dense, one GeoJSON layer per label (not one Marker each)."""
    group = folium.FeatureGroup(name=name)
    cluster = OfflineMarkerCluster(
        name=name,
        options={"showCoverageOnHover": False, "maxClusterRadius": 40, "spiderfyOnMaxZoom": True},
    )
    cluster.add_to(group)
    for label, style in LABEL_STYLES.items():
        data = sites_geojson(centres, label)
        if not data["features"]:
            continue
        folium.GeoJson(
            data,
            name=style.name,
            marker=folium.CircleMarker(radius=style.radius, weight=1, fill=True),
            style_function=lambda _f, s=style: {
                "color": "#222222",
                "weight": 1,
                "fillColor": s.colour,
                "fillOpacity": 0.9,
            },
            on_each_feature=_BIND_SITE,
            control=False,
        ).add_to(cluster)
    return group


def density_class(value: float) -> int:
    """Index of ``value`` (sites per million inhabitants) in :data:`DENSITY_BINS`."""
    return int(np.searchsorted(DENSITY_BINS[1:-1], value, side="right"))


def density_legend() -> list[tuple[str, str]]:
    """(colour, French label) pairs of the density classes."""
    out = [(NO_SITE_COLOUR, "aucun site"), (UNKNOWN_COLOUR, "population inconnue (Mayotte)")]
    bounds = DENSITY_BINS
    for i, colour in enumerate(DENSITY_COLOURS):
        lo, hi = bounds[i], bounds[i + 1]
        text = f"plus de {lo:g}" if np.isinf(hi) else f"{lo:g} à {hi:g}"
        out.append((colour, f"{text} sites par million d'habitants"))
    return out


def density_layer(
    departements: gpd.GeoDataFrame, density: pd.DataFrame, name: str = "Densité"
) -> folium.FeatureGroup:
    """Département choropleth of sites per million inhabitants.

    ``density`` is indexed by département code with columns ``sites`` and
    ``per_million`` (see :func:`geo.coverage.sites_per_departement`).
    """
    frame = departements[["code", "name", "geometry"]].copy()
    frame = frame.join(density[["sites", "per_million"]], on="code")
    data = territories_geojson(frame)
    for feature, (_, row) in zip(data["features"], frame.iterrows(), strict=True):
        sites = int(row["sites"]) if pd.notna(row["sites"]) else 0
        per_m = float(row["per_million"])
        label = feature["properties"]["name"]
        if np.isnan(per_m):
            fill, text = UNKNOWN_COLOUR, f"{label} : {sites} site(s), population inconnue"
        else:
            fill = NO_SITE_COLOUR if sites == 0 else DENSITY_COLOURS[density_class(per_m)]
            text = f"{label} : {sites} site(s), {per_m:.1f} par million d'habitants"
        feature["properties"]["fill"] = fill
        feature["properties"]["text"] = text
    return _filled_layer(data, name, opacity=0.85)


def _filled_layer(data: dict, name: str, opacity: float) -> folium.FeatureGroup:
    """A FeatureGroup drawing ``data`` filled with each feature's ``fill`` property and
    its (already escaped) ``text`` property as tooltip."""
    group = folium.FeatureGroup(name=name)
    folium.GeoJson(
        data,
        style_function=lambda f: {
            "color": "#444444",
            "weight": 0.6,
            "fillColor": f["properties"]["fill"],
            "fillOpacity": opacity,
        },
        tooltip=folium.GeoJsonTooltip(fields=["text"], labels=False),
        control=False,
    ).add_to(group)
    return group


# --------------------------------------------------------------------------- coverage maps

#: Distance classes (km, upper bounds) of the commune-level view, and their colours
#: (viridis, colour-blind safe, light = near); the last colour marks residents whose
#: territory has no site of the selection (no distance is given to the mainland).
DISTANCE_BINS_KM = (25.0, 50.0, 100.0, 200.0)
DISTANCE_COLOURS = ("#fde725", "#5ec962", "#21918c", "#3b528b", "#440154")
NO_SITE_IN_ZONE_COLOUR = "#8c8c8c"
UNCOVERED_COLOUR = "#D55E00"
COVERED_COLOUR = "#f0f0f0"


def distance_classes(distance_km: np.ndarray) -> np.ndarray:
    """Class of each distance: 0..4 by :data:`DISTANCE_BINS_KM`, 5 = no site in the
    territory (``inf``), −1 = no position (NaN)."""
    d = np.asarray(distance_km, dtype=float)
    out = np.digitize(np.where(np.isfinite(d), d, 0.0), DISTANCE_BINS_KM, right=True)
    out[np.isinf(d)] = len(DISTANCE_COLOURS)
    out[np.isnan(d)] = -1
    return out


def distance_palette() -> list[str]:
    """Colours indexed by :func:`distance_classes`."""
    return [*DISTANCE_COLOURS, NO_SITE_IN_ZONE_COLOUR]


def distance_legend() -> list[tuple[str, str]]:
    """(colour, French label) pairs of the distance classes."""
    bounds = (0.0, *DISTANCE_BINS_KM)
    out = []
    for i, colour in enumerate(DISTANCE_COLOURS):
        if i < len(DISTANCE_BINS_KM):
            out.append((colour, f"{bounds[i]:g} à {bounds[i + 1]:g} km"))
        else:
            out.append((colour, f"plus de {DISTANCE_BINS_KM[-1]:g} km"))
    out.append((NO_SITE_IN_ZONE_COLOUR, "aucun site dans le territoire (outre-mer, Corse)"))
    return out


def image_layer(png: bytes, bounds: list[list[float]], name: str, opacity: float = 0.8):
    """A FeatureGroup holding a PNG (inline data URL, no request) over ``bounds``."""
    import base64

    group = folium.FeatureGroup(name=name)
    folium.raster_layers.ImageOverlay(
        image="data:image/png;base64," + base64.b64encode(png).decode("ascii"),
        bounds=bounds,
        opacity=opacity,
        interactive=False,
        zindex=1,
    ).add_to(group)
    return group


def uncovered_layer(
    territories: gpd.GeoDataFrame, counts: pd.DataFrame, name: str = "Sans site"
) -> folium.FeatureGroup:
    """Choropleth of territories with no site of the selection (``counts`` from
    :func:`geo.coverage.territory_counts`, indexed by code)."""
    frame = territories[["code", "name", "geometry"]].join(counts[["sites"]], on="code")
    data = territories_geojson(frame)
    for feature, sites in zip(data["features"], frame["sites"].fillna(0), strict=True):
        n = int(sites)
        feature["properties"]["fill"] = UNCOVERED_COLOUR if n == 0 else COVERED_COLOUR
        feature["properties"]["text"] = f"{feature['properties']['name']} : " + (
            "aucun site de la sélection" if n == 0 else f"{n} site(s)"
        )
    return _filled_layer(data, name, opacity=0.75)
