"""Specification of a network's maillage (geo.network): catchments, per-site figures, links."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import folium
import numpy as np
import pandas as pd
import pytest

from geo.coverage import haversine_km
from geo.network import (
    CATCHMENT_PALETTE,
    assign_colours,
    build_maillage,
    catchment_figures,
    catchments,
    coordination_links,
    links_layer,
    network_sites,
    networks_without_coordinator,
    points_layer,
    site_points,
)

ROOT = Path(__file__).resolve().parent.parent
LAT = 46.0


@pytest.fixture
def line_communes() -> pd.DataFrame:
    """Five communes on the 46° N parallel (lon 0, 0.4, 1, 1.9, 3), one in La Réunion, one
    without point."""
    rows = [
        ("01001", "Zéro", "01", 10, 0.0, LAT),
        ("01002", "Quatre", "01", 20, 0.4, LAT),
        ("02001", "Un", "02", 30, 1.0, LAT),
        ("02002", "Un-neuf", "02", 40, 1.9, LAT),
        ("03001", "Trois", "03", 50, 3.0, LAT),
        ("97411", "Saint-Denis", "974", 60, 55.45, -20.88),
        ("15031", "Celles", "15", 7, np.nan, np.nan),
    ]
    frame = pd.DataFrame(rows, columns=["code", "name", "dep", "population", "lon", "lat"])
    frame["reg"] = "00"
    return frame


def site(
    sid,
    label,
    lon,
    dep,
    network="Réseau N",
    vintage="2017-2022",
    filiere="FILNEMUS",
    establishment=None,
):
    """One registry row at (lon, 46° N)."""
    return {
        "id": sid,
        "filiere": filiere,
        "crmr_name": network,
        "label": label,
        "establishment": establishment or f"CHU {sid}",
        "service": "",
        "commune_code": f"{dep}001",
        "commune": f"Commune {sid}",
        "dep": dep,
        "reg": "00",
        "lat": LAT,
        "lon": lon,
        "age_group": "both",
        "vintage": vintage,
        "source_url": "https://example.org",
    }


@pytest.fixture
def network() -> pd.DataFrame:
    """Coordinator at lon 0, a CCMR at lon 1, a constitutive site at lon 3."""
    return pd.DataFrame(
        [
            site("coord", "crmr_coordonnateur", 0.0, "01"),
            site("ccmr", "ccmr", 1.0, "02"),
            site("const", "crmr_constitutif", 3.0, "03"),
        ]
    )


def km(lon_a: float, lon_b: float) -> float:
    return float(haversine_km(lon_a, LAT, lon_b, LAT))


# --------------------------------------------------------------------------- catchments


def test_each_commune_joins_the_catchment_of_its_nearest_site(line_communes, network):
    """0 and 0.4 → coordinator, 1 and 1.9 → CCMR, 3 → constitutive (locations 0, 1, 2)."""
    result = catchments(line_communes, network)
    assert list(result.site_location) == [0, 1, 2]
    assert list(result.commune_location[:5]) == [0, 0, 1, 1, 2]
    assert result.commune_km[3] == pytest.approx(km(1.0, 1.9), rel=1e-9)


def test_a_territory_without_site_has_no_catchment(line_communes, network):
    """The Réunion commune (no site in its zone) is unassigned, at infinite distance;
    the commune without point is unassigned, at NaN."""
    result = catchments(line_communes, network)
    assert result.commune_location[5] == -1 and np.isinf(result.commune_km[5])
    assert result.commune_location[6] == -1 and np.isnan(result.commune_km[6])


def test_an_overseas_site_serves_only_its_territory(line_communes):
    """With a single site, in La Réunion, no metropolitan commune is assigned to it."""
    sites = pd.DataFrame([site("run", "ccmr", 55.45, "974")]).assign(lat=-20.88)
    result = catchments(line_communes, sites)
    assert list(result.commune_location) == [-1, -1, -1, -1, -1, 0, -1]


def test_per_site_population_and_farthest_commune(line_communes, network):
    """Population served sums the catchment; the farthest commune and its km are given."""
    figures = catchment_figures(line_communes, catchments(line_communes, network))
    assert list(figures["population"]) == [30, 70, 50]
    assert list(figures["communes"]) == [2, 2, 1]
    assert list(figures["farthest_name"]) == ["Quatre", "Un-neuf", "Trois"]
    assert figures.loc[1, "farthest_km"] == pytest.approx(round(km(1.0, 1.9), 1))
    assert figures.loc[2, "farthest_km"] == 0.0


def test_co_located_sites_share_one_catchment(line_communes, network):
    """A second site at the coordinator's point gets the same figures, flagged co-located."""
    both = pd.concat(
        [network, pd.DataFrame([site("twin", "crmr_constitutif", 0.0, "01")])],
        ignore_index=True,
    )
    m = build_maillage(line_communes, both, network="Réseau N")
    table = m.table.set_index("id")
    assert table.loc["twin", "population"] == table.loc["coord", "population"] == 30
    assert table.loc["twin", "co_located"] == 2
    assert table.loc["ccmr", "co_located"] == 1


def test_population_without_site_counts_territories_without_any(line_communes, network):
    """The 60 inhabitants of La Réunion have no site of the network in their territory."""
    m = build_maillage(line_communes, network, network="Réseau N")
    assert m.population_without_site == 60


# --------------------------------------------------------------------------- links


def test_every_site_links_to_its_coordinator(network):
    """Two links, to the coordinator, with their great-circle length (km)."""
    links = coordination_links(network).set_index("id")
    assert set(links.index) == {"ccmr", "const"}
    assert (links["coordinator_id"] == "coord").all()
    assert links.loc["const", "km"] == pytest.approx(km(0.0, 3.0))


def test_link_prefers_the_coordinator_of_the_same_round_then_the_nearest():
    """2023–2028 CCMR → 2023–2028 coordinator (farther); round unknown → nearest one."""
    sites = pd.DataFrame(
        [
            site("old", "crmr_coordonnateur", 0.0, "01", vintage="2017-2022"),
            site("new", "crmr_coordonnateur", 3.0, "03", vintage="2023-2028"),
            site("c1", "ccmr", 0.5, "01", vintage="2023-2028"),
            site("c2", "ccmr", 0.5, "01", vintage="unknown"),
        ]
    )
    links = coordination_links(sites).set_index("id")["coordinator_id"]
    assert links["c1"] == "new"
    assert links["c2"] == "old"


def test_a_network_without_coordinator_has_no_link_and_says_so(line_communes):
    """No coordinating site: no link, the network is listed, has_coordinator is False."""
    sites = pd.DataFrame([site("a", "crmr_site", 0.0, "01"), site("b", "crmr_site", 3.0, "03")])
    m = build_maillage(line_communes, sites, network="Réseau N")
    assert m.links.empty
    assert not m.has_coordinator
    assert m.without_coordinator == ["Réseau N"]
    assert (m.table["coordinator"] == "").all()


def test_filiere_view_links_each_network_to_its_own_coordinator(line_communes, network):
    """A filière with two networks: a site of network M links to M's coordinator only."""
    other = pd.DataFrame(
        [
            site("m-coord", "crmr_coordonnateur", 3.0, "03", network="Réseau M"),
            site("m-ccmr", "ccmr", 0.4, "01", network="Réseau M"),
            site("x", "ccmr", 1.0, "02", network="Réseau X"),
        ]
    )
    m = build_maillage(line_communes, pd.concat([network, other]), filiere="FILNEMUS")
    links = m.links.set_index("id")["coordinator_id"]
    assert links["m-ccmr"] == "m-coord"
    assert "x" not in links.index
    assert networks_without_coordinator(m.sites) == ["Réseau X"]


# --------------------------------------------------------------------------- choice and map


def test_network_sites_needs_exactly_one_choice(network):
    """network and filière are exclusive; PEMR platforms never belong to a network."""
    with pytest.raises(ValueError, match="exactly one"):
        network_sites(network)
    with pytest.raises(ValueError, match="exactly one"):
        network_sites(network, network="Réseau N", filiere="FILNEMUS")
    pemr = pd.concat([network, pd.DataFrame([site("p", "pemr", 1.0, "02", filiere="")])])
    assert "p" not in set(network_sites(pemr, network="Réseau N")["id"])


def test_build_maillage_rejects_a_choice_without_site(line_communes, network):
    """An unknown round leaves no site: ValueError."""
    with pytest.raises(ValueError, match="no site"):
        build_maillage(line_communes, network, network="Réseau N", vintages=("2099",))


def test_commune_classes_index_the_palette(line_communes, network):
    """Each assigned commune's class is its catchment colour; unassigned ones are −1."""
    m = build_maillage(line_communes, network, network="Réseau N")
    classes = m.commune_classes()
    palette = m.palette()
    colours = m.location_colours()
    for i, loc in enumerate(m.catchments.commune_location):
        assert classes[i] == (-1 if loc < 0 else palette.index(colours[loc]))


def test_nearby_catchments_get_different_colours():
    """Nine locations on a line: consecutive ones never share a colour."""
    locations = pd.DataFrame({"lon": np.arange(9.0), "lat": LAT})
    colours = assign_colours(locations)
    assert all(a != b for a, b in itertools.pairwise(colours))
    assert set(colours) <= set(CATCHMENT_PALETTE)


def test_map_layers_escape_registry_text(line_communes, network):
    """Markup in an establishment name reaches the map escaped, in tooltips and popups."""
    hostile = '<img src=x onerror="alert(1)">'
    sites = network.assign(establishment=[hostile, "CHU b", "CHU c"])
    m = build_maillage(line_communes, sites, network="Réseau N")
    fmap = folium.Map(tiles=None)
    links_layer(m).add_to(fmap)
    points_layer(site_points(m.sites), "Sites").add_to(fmap)
    page = fmap.get_root().render()
    assert "<img src=x" not in page
    assert "&lt;img src=x" in page


def test_points_layer_rejects_a_colour_that_is_not_hex():
    """Colours go into style objects: only #rrggbb is accepted."""
    bad = pd.DataFrame(
        [
            {
                "lon": 0,
                "lat": 0,
                "fill": "red;x",
                "stroke": "#000000",
                "radius": 3,
                "dash": "",
                "tip": "",
                "popup": "",
            }
        ]
    )
    with pytest.raises(ValueError, match="rrggbb"):
        points_layer(bad, "x")


# --------------------------------------------------------------------------- CLI and page


def test_cli_maillage_prints_the_per_site_table(monkeypatch, capsys, communes):
    """`maillage --filiere MHEMO --format json` lists every MHEMO site with its figures."""
    import geo.territories
    from geo.cli_committee import main

    monkeypatch.setattr(geo.territories, "load_communes", lambda data_dir=None: communes)
    assert main(["maillage", "--filiere", "MHEMO", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "filiere" and out["sites"] == len(out["table"]) > 0
    assert {"population", "farthest_name", "farthest_km", "coordinator"} <= set(out["table"][0])


def test_network_page_runs(monkeypatch, communes, departements, regions):
    """AppTest: the page renders for a network and for a filière without exception."""
    from streamlit.testing.v1 import AppTest

    import geo.territories
    import ui.data
    from geo.grid import CommuneGrid

    loaded = geo.territories.Territories(communes, departements, regions)
    monkeypatch.setattr(geo.territories, "load_territories", lambda data_dir=None: loaded)
    # the map raster is tested elsewhere: an empty 2 × 2 grid spares its 2 s build here
    empty = CommuneGrid((-5.2, 41.3, 9.6, 51.15), np.full((2, 2), -1, dtype=np.int32))
    monkeypatch.setattr(ui.data, "commune_grid", lambda view: (empty, np.zeros(0, dtype=int)))
    at = AppTest.from_file(str(ROOT / "app_pages" / "reseau.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    at.radio(key="net_mode").set_value("Filière").run()
    assert not at.exception, at.exception
    assert int(next(m for m in at.metric if m.label == "Sites").value) > 1
