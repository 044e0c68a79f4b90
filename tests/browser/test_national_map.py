"""The national map in a real browser: départements, sites, filters, views, privacy, escaping.

The map lives in streamlit-folium's iframe; its Leaflet map object is ``window.map_div`` and
the filter-dependent layers (sites, density) are the FeatureGroups of ``window.feature_group``
that are currently on the map. Sites are circle markers inside a MarkerClusterGroup, so they
are counted through the cluster group's layers (clustered and off-screen ones included), and
the SVG paths in the DOM are checked against the Leaflet layers that draw them.
"""

from __future__ import annotations

import csv
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect
except ImportError:  # no playwright: the `browser` fixture skips (fails if REQUIRE_BROWSER=1)
    PlaywrightError, expect = Exception, None

if TYPE_CHECKING:
    from playwright.sync_api import Frame, Page

from geo.centres import CENTRES_FILE, load_centres
from geo.territories import load_communes

pytestmark = pytest.mark.browser

MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
DEPARTEMENTS = 101
REUNION = (-21.1, 55.5)

#: Counts of what the map draws, read from Leaflet (and the DOM) inside the map frame.
MAP_STATE_JS = """
() => {
    const map = window.map_div;
    if (!window.L || !(map instanceof L.Map)) return null;
    const groups = (window.feature_group || []).filter((g) => map.hasLayer(g));
    const dynamic = new Set();
    let markers = 0;
    const walk = (layer) => {
        dynamic.add(L.stamp(layer));
        if (layer instanceof L.MarkerClusterGroup) markers += layer.getLayers().length;
        if (layer.getLayers) layer.getLayers().forEach(walk);
    };
    groups.forEach(walk);
    let departements = 0, density = 0, drawnMarkers = 0;
    map.eachLayer((layer) => {
        if (layer instanceof L.Polygon) {
            if (dynamic.has(L.stamp(layer))) density += 1;
            else if (layer._path && layer._path.isConnected) departements += 1;
        } else if (layer instanceof L.CircleMarker && layer._path && layer._path.isConnected) {
            drawnMarkers += 1;
        }
    });
    const center = map.getCenter();
    return {
        departements, density, markers, drawnMarkers,
        paths: document.querySelectorAll("path.leaflet-interactive").length,
        lat: center.lat, lng: center.lng, zoom: map.getZoom(),
    };
}
"""

#: Condition on MAP_STATE_JS: each wanted key equals a number or lies in a [lo, hi] range.
MAP_WAIT_JS = (
    "(want) => { const s = (" + MAP_STATE_JS + ")(); return s !== null && "
    "Object.entries(want).every(([k, v]) => Array.isArray(v) "
    "? s[k] >= v[0] && s[k] <= v[1] : s[k] === v); }"
)

#: Bring the first site into view (zooming into its cluster), then tag its SVG path.
TAG_FIRST_SITE_JS = """
() => new Promise((resolve) => {
    const map = window.map_div;
    let cluster = null;
    map.eachLayer((layer) => { if (layer instanceof L.MarkerClusterGroup) cluster = layer; });
    const site = cluster.getLayers()[0];
    cluster.zoomToShowLayer(site, () => {
        site._path.setAttribute("data-testid", "first-site");
        resolve(true);
    });
})
"""


# --------------------------------------------------------------------------- helpers


def map_frame(page: Page) -> Frame:
    """The streamlit-folium iframe's frame (looked up afresh: reruns may remount it)."""
    frame = page.locator(MAP_IFRAME).element_handle().content_frame()
    assert frame is not None, "the map iframe has no frame"
    return frame


def map_state(page: Page) -> dict | None:
    return map_frame(page).evaluate(MAP_STATE_JS)


def wait_for_map(page: Page, timeout_s: float = 45, **want) -> dict:
    """Wait until the map state matches ``want`` (numbers, or (lo, hi) ranges); return it."""
    deadline = time.monotonic() + timeout_s
    while True:
        remaining_ms = max(1.0, (deadline - time.monotonic()) * 1000)
        try:
            map_frame(page).wait_for_function(MAP_WAIT_JS, arg=want, timeout=remaining_ms)
            return map_state(page)
        except PlaywrightError as exc:
            if time.monotonic() < deadline and "Timeout" not in str(exc):
                continue  # the frame was remounted by a rerun: look it up again
            raise AssertionError(
                f"map never reached {want}; last state: {map_state(page)}"
            ) from exc


def open_map(page: Page, url: str) -> dict:
    """Load the national map page and wait until Leaflet has drawn the départements."""
    page.goto(url)
    page.locator(MAP_IFRAME).wait_for(timeout=60_000)
    return wait_for_map(page, timeout_s=60, departements=DEPARTEMENTS)


def metric_value(page: Page, label: str):
    return page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue")


def assert_paths_match_layers(state: dict) -> None:
    """Every interactive SVG path in the DOM is a département, density cell or site drawn."""
    assert state["paths"] == state["departements"] + state["density"] + state["drawnMarkers"]


@pytest.fixture(scope="module")
def registry():
    """The registry the server loads (``$CENTRES_FILE`` or the embedded file)."""
    return load_centres(communes=load_communes())


# --------------------------------------------------------------------------- tests


def test_national_map_shows_every_departement_and_site(page, app_url, registry):
    """The national map draws the 101 départements and one marker per registry row."""
    open_map(page, app_url)
    state = wait_for_map(page, departements=DEPARTEMENTS, density=0, markers=len(registry))
    assert_paths_match_layers(state)
    expect(metric_value(page, "Sites affichés")).to_have_text(str(len(registry)))


def test_filiere_filter_changes_markers_and_metric(page, app_url, registry):
    """Choosing the FILNEMUS filière shows exactly its sites, on the map and in the metric."""
    expected = int((registry["filiere"] == "FILNEMUS").sum())
    assert 0 < expected < len(registry)
    open_map(page, app_url)
    wait_for_map(page, markers=len(registry))

    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_test_id("stMultiSelect").filter(has_text="Filière (FSMR)").click()
    page.keyboard.type("FILNEMUS")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")

    expect(metric_value(page, "Sites affichés")).to_have_text(str(expected))
    state = wait_for_map(page, departements=DEPARTEMENTS, markers=expected)
    assert_paths_match_layers(state)


def test_territory_selector_moves_the_view_to_la_reunion(page, app_url):
    """Selecting "La Réunion" centres the map on the island."""
    before = open_map(page, app_url)
    assert before["lat"] > 40  # métropole first

    page.get_by_test_id("stRadio").filter(has_text="Territoire").get_by_text("La Réunion").click()
    lat, lng = REUNION
    state = wait_for_map(page, lat=(lat - 0.3, lat + 0.3), lng=(lng - 0.3, lng + 0.3))
    assert state["zoom"] >= 9


def test_density_toggle_adds_a_choropleth_of_every_departement(page, app_url, registry):
    """Turning on "Densité par département" adds 101 choropleth cells over the outlines."""
    open_map(page, app_url)
    wait_for_map(page, departements=DEPARTEMENTS, density=0, markers=len(registry))

    page.get_by_text("Densité par département").click()
    state = wait_for_map(
        page, departements=DEPARTEMENTS, density=DEPARTEMENTS, markers=len(registry)
    )
    assert_paths_match_layers(state)
    expect(page.get_by_text("Densité (sites par million d'habitants)")).to_be_visible()


def test_sources_page_loads_from_the_navigation(page, app_url):
    """The sources page opens from the sidebar and says the compilation is partial."""
    open_map(page, app_url)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Sources et méthode").click()
    expect(page.get_by_role("heading", name="Sources et méthode")).to_be_visible()
    expect(page.get_by_text("Compilation partielle")).to_be_visible()
    expect(page.get_by_role("heading", name="Méthode", exact=True)).to_be_visible()


def test_no_request_leaves_localhost(page, app_url, traffic):
    """Map, clusters, popups and density load everything from the app: no CDN, tiles or stats."""
    open_map(page, app_url)
    page.get_by_text("Densité par département").click()
    wait_for_map(page, density=DEPARTEMENTS)
    frame = map_frame(page)
    frame.evaluate(TAG_FIRST_SITE_JS)
    page.frame_locator(MAP_IFRAME).get_by_test_id("first-site").click()
    expect(page.frame_locator(MAP_IFRAME).locator(".leaflet-popup-content")).to_be_visible()

    local = [u for u in traffic.requests if u.startswith(app_url)]
    assert any(u.endswith("/app/static/leaflet/leaflet.js") for u in local)
    assert any("/app/static/markercluster/" in u for u in local)
    forbidden = re.compile(
        r"streamlit\.io|cdn|unpkg|jsdelivr|googleapis|gstatic|openstreetmap|tile|fontawesome",
        re.IGNORECASE,
    )
    assert [u for u in traffic.requests if forbidden.search(u) and not u.startswith(app_url)] == []
    traffic.assert_clean()


HOSTILE = {
    "establishment": '<img src=x onerror="window.__pwned=1">',
    "service": "<script>window.__pwned=2</script>",
    "crmr_name": "\"Réseau\" 'test' & <b>bold</b>",
}


def write_hostile_registry(path: Path) -> Path:
    """The first two rows of the embedded registry, with markup in every free-text field."""
    with open(CENTRES_FILE, encoding="utf-8", newline="") as src:
        reader = csv.DictReader(src)
        rows = [{**row, **HOSTILE} for _, row in zip(range(2), reader, strict=False)]
        fields = reader.fieldnames
    with open(path, "w", encoding="utf-8", newline="") as dst:
        writer = csv.DictWriter(dst, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_hostile_registry_text_is_shown_literally(page, start_app, tmp_path, traffic):
    """Markup in registry text is displayed as text in popups, never executed or inserted."""
    url = start_app(CENTRES_FILE=str(write_hostile_registry(tmp_path / "hostile.csv")))
    open_map(page, url)
    expect(metric_value(page, "Sites affichés")).to_have_text("2")
    wait_for_map(page, departements=DEPARTEMENTS, markers=2)

    map_frame(page).evaluate(TAG_FIRST_SITE_JS)
    inside = page.frame_locator(MAP_IFRAME)
    inside.get_by_test_id("first-site").click()
    popup = inside.locator(".leaflet-popup-content")
    for text in HOSTILE.values():
        expect(popup).to_contain_text(text)
    expect(popup).to_contain_text("<img src=x")
    expect(popup.locator("img, script, b")).to_have_count(0)

    # The "Réseau CRMR" selector lists the network name as text too.
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_test_id("stSelectbox").filter(has_text="Réseau CRMR").click()
    expect(page.get_by_role("option", name=HOSTILE["crmr_name"])).to_be_visible()
    page.keyboard.press("Escape")

    for where in (page, inside):
        expect(where.locator("img[src='x']")).to_have_count(0)
        expect(where.locator("b", has_text="bold")).to_have_count(0)
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    assert map_frame(page).evaluate("() => typeof window.__pwned") == "undefined"
    assert not [u for u in traffic.requests if re.search(r"/x(\?|$)", u)]
