"""The import page in a real browser: a hostile CSV is reported and previewed as plain text.

The uploaded file (``tests/fixtures/import/hostile.csv``) carries markup in every free-text
field: an ``<img onerror>``, a ``<script>``, a Markdown image pointing off-host and a
formula. The page must show them literally (report tables, preview table, map popups),
execute nothing (``window.__pwned`` stays undefined in the page and in the map frame) and
request nothing outside localhost (checked by the shared ``page`` fixture).

Needs the page in the navigation of ``dashboard.py`` (title "Importer une liste").
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

HOSTILE_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "import" / "hostile.csv"
IMG = "<img src=x onerror=window.__pwned=1>"
SCRIPT = "<script>window.__pwned=2</script>"
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'

#: Number of sites in the map's marker cluster (clustered and off-screen ones included).
CLUSTERED_SITES_JS = """
() => {
    const map = window.map_div;
    if (!window.L || !(map instanceof L.Map)) return -1;
    let n = 0;
    map.eachLayer((layer) => {
        if (layer instanceof L.MarkerClusterGroup) n += layer.getLayers().length;
    });
    return n;
}
"""

#: Open the popup of the first site (zooming into its cluster); resolve with its text.
OPEN_FIRST_POPUP_JS = """
() => new Promise((resolve) => {
    const map = window.map_div;
    let cluster = null;
    map.eachLayer((layer) => { if (layer instanceof L.MarkerClusterGroup) cluster = layer; });
    const site = cluster.getLayers()[0];
    cluster.zoomToShowLayer(site, () => { site.openPopup(); resolve(true); });
})
"""


def metric(page: Page, label: str):
    return page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue")


def open_import_page(page: Page, url: str) -> None:
    """Load the app and follow the navigation link to the import page."""
    page.goto(url)
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible()
    link = page.get_by_test_id("stSidebarNav").get_by_role(
        "link", name=re.compile("Importer une liste")
    )
    expect(link, "app_pages/import.py is not in dashboard.py's st.navigation").to_be_visible(
        timeout=10_000
    )
    link.click()
    expect(page.get_by_role("heading", name="Importer une liste")).to_be_visible()


def test_hostile_upload_is_reported_and_shown_literally(page, app_url, traffic):
    """Markup in an uploaded list is displayed as text and never runs, in page and map."""
    open_import_page(page, app_url)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(HOSTILE_FILE))

    expect(metric(page, "Lignes lues")).to_have_text("3", timeout=60_000)
    expect(metric(page, "Avec avertissement")).to_have_text("2")
    expect(metric(page, "Rejetées")).to_have_text("1")

    preview = page.get_by_test_id("stTable")
    expect(preview).to_contain_text(IMG)
    expect(preview).to_contain_text(SCRIPT)
    expect(preview).to_contain_text("![x](http://127.0.0.9/leak.png)")
    expect(preview).to_contain_text("**gras** :red[rouge]")
    rejected = page.get_by_test_id("stDownloadButton").filter(has_text="lignes rejetées")
    expect(rejected).to_be_visible()

    page.locator(MAP_IFRAME).wait_for(timeout=60_000)
    frame = page.frame_locator(MAP_IFRAME)
    map_frame = page.locator(MAP_IFRAME).element_handle().content_frame()
    assert map_frame is not None, "the map iframe has no frame"
    map_frame.wait_for_function(f"() => ({CLUSTERED_SITES_JS})() === 2", timeout=60_000)
    map_frame.evaluate(OPEN_FIRST_POPUP_JS)
    popup = frame.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("Filière : FILNEMUS")
    expect(popup.locator("img, script")).to_have_count(0)
    popup_text = popup.inner_text()
    assert IMG in popup_text or "**gras** :red[rouge]" in popup_text, popup_text

    for where in (page, frame):
        expect(where.locator("img[src='x']")).to_have_count(0)
        expect(where.locator("img[src*='leak']")).to_have_count(0)
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    assert map_frame.evaluate("() => typeof window.__pwned") == "undefined"

    page.get_by_role("button", name=re.compile("Utiliser cette liste")).click()
    expect(page.get_by_test_id("stAlert").filter(has_text="Liste importée")).to_be_visible()
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    traffic.assert_clean()
