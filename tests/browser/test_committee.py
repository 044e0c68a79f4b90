"""Committee tools in a real browser: a what-if scenario, and an exported map opened offline.

Needs the scenarios page in the navigation of ``dashboard.py`` as
``st.Page("app_pages/scenarios.py", title="Scénarios", url_path="scenarios")``.
The shared ``page`` fixture checks that nothing is requested outside localhost.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from geo.exports import standalone_html
from geo.grid import CommuneGrid
from geo.maps import base_map, image_layer, view_center
from geo.network import legend_control, points_layer, site_points
from geo.territories import display_geometries, load_communes, load_departements

pytestmark = pytest.mark.browser

MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
DEPARTEMENTS = 101

#: Hypothetical sites drawn in the map frame (white fill, dashed outline), and all circles.
HYPOTHETICAL_MARKERS_JS = """
() => {
    const map = window.map_div;
    if (!window.L || !(map instanceof L.Map)) return -1;
    let n = 0;
    map.eachLayer((layer) => {
        if (layer instanceof L.CircleMarker && layer.options.dashArray === "4 3"
            && layer.options.fillColor === "#FFFFFF") n += 1;
    });
    return n;
}
"""

#: What an exported file draws: its Leaflet map, département polygons and site circles.
EXPORTED_MAP_JS = """
() => {
    if (!window.L) return null;
    const map = Object.values(window).find((v) => v instanceof L.Map);
    if (!map) return null;
    let polygons = 0, circles = 0, images = 0;
    map.eachLayer((layer) => {
        if (layer instanceof L.Polygon && layer._path && layer._path.isConnected) polygons += 1;
        else if (layer instanceof L.CircleMarker) circles += 1;
        else if (layer instanceof L.ImageOverlay) images += 1;
    });
    return {polygons, circles, images};
}
"""


def metric(page: Page, label: str):
    return page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue")


def test_adding_a_hypothetical_site_changes_the_figures(page, app_url, traffic):
    """Scenarios page: add a site in Brest; the beyond-100-km figure drops, Finistère becomes
    covered, and the map shows the hypothetical site in its own style."""
    page.goto(f"{app_url}/scenarios")
    expect(page.get_by_role("heading", name="Scénarios", exact=True)).to_be_visible()
    beyond = metric(page, "Habitants à plus de 100 km")
    expect(beyond).to_have_text(re.compile(r"\d"), timeout=90_000)
    before = beyond.inner_text()

    field = page.get_by_label("Commune (nom ou code INSEE)")
    field.fill("Brest")
    field.press("Enter")
    expect(page.get_by_text(re.compile(r"→ Brest \(29"))).to_be_visible()
    page.get_by_role("button", name="Ajouter le site hypothétique").click()

    expect(beyond).not_to_have_text(before)
    delta = page.get_by_test_id("stMetric").filter(has_text="Habitants à plus de 100 km")
    expect(delta.get_by_test_id("stMetricDelta")).to_contain_text("-")
    expect(page.get_by_text(re.compile("nouvellement couverts.*Finistère"))).to_be_visible()
    expect(page.get_by_text("Nouveau site – Brest (hypothétique)").first).to_be_visible()

    page.locator(MAP_IFRAME).wait_for(timeout=60_000)
    frame = page.locator(MAP_IFRAME).element_handle().content_frame()
    assert frame is not None, "the map iframe has no frame"
    frame.wait_for_function(f"() => ({HYPOTHETICAL_MARKERS_JS})() === 1", timeout=60_000)
    traffic.assert_clean()


@pytest.fixture(scope="module")
def exported_html() -> str:
    """A standalone export like the pages make: départements, a commune raster, sites, legend."""
    communes = load_communes()
    departements = display_geometries(load_departements(), 0.01)
    finistere = communes[communes["dep"] == "29"]
    x0, y0, x1, y1 = finistere.total_bounds
    grid = CommuneGrid.build(finistere, (x0, y0, x1, y1), cell_deg=0.02)
    classes = np.arange(len(finistere)) % 3
    sites = pd.DataFrame(
        {
            "id": ["a", "b"],
            "label": ["ccmr", "crmr_coordonnateur"],
            "establishment": ["CHU de Brest <b>", "CHU de Rennes"],
            "service": ["", ""],
            "crmr_name": ["Réseau", "Réseau"],
            "filiere": ["FILNEMUS", "FILNEMUS"],
            "commune_code": ["29019", "35238"],
            "commune": ["Brest", "Rennes"],
            "vintage": ["2023-2028", "2023-2028"],
            "source_url": ["https://example.org", ""],
            "lon": [-4.4861, -1.6778],
            "lat": [48.3904, 48.1173],
        }
    )
    center, zoom = view_center("Métropole", departements)
    fmap = base_map(departements, center=center, zoom=zoom)
    png = grid.render_png(classes, ["#CC6677", "#332288", "#DDCC77"])
    image_layer(png, grid.leaflet_bounds, "Zones").add_to(fmap)
    points_layer(site_points(sites), "Sites").add_to(fmap)
    legend_control([("#CC6677", "Zone de Brest")], "Légende").add_to(fmap)
    return standalone_html(fmap, "Export de test", "Export de test — hors ligne")


def test_exported_html_opens_offline_and_shows_the_map(page, traffic, exported_html, tmp_path):
    """The saved file opens from disk and draws the map with no request beyond the file."""
    path: Path = tmp_path / "carte.html"
    path.write_text(exported_html, encoding="utf-8")
    url = path.as_uri()
    page.goto(url)
    page.wait_for_function(f"() => ({EXPORTED_MAP_JS})() !== null", timeout=30_000)
    state = page.evaluate(EXPORTED_MAP_JS)
    assert state == {"polygons": DEPARTEMENTS, "circles": 2, "images": 1}
    expect(page.get_by_text("Zone de Brest")).to_be_visible()
    expect(page.get_by_text("Export de test — hors ligne")).to_be_visible()
    expect(page.locator("b", has_text="CHU de Brest")).to_have_count(0)

    fetched = [u for u in traffic.requests if not u.startswith("data:")]
    assert fetched == [url], fetched
    traffic.requests.remove(url)  # the file itself; the shared check covers everything else
