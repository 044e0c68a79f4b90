"""The public page "Où me soigner ?" in a real browser: search, results, shared URL, print, axe.

The page is reached at ``/ou-me-soigner`` (``url_path`` given in ``dashboard.py``). Every
test runs under the ``page`` fixture's policy: no request outside localhost, no failed
request, no uncaught JavaScript error. Accessibility is checked with axe-core, vendored in
``static/axe/`` and injected from the local file (never fetched).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect
except ImportError:  # no playwright: the `browser` fixture skips (fails if REQUIRE_BROWSER=1)
    PlaywrightError, expect = Exception, None

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "static" / "axe" / "axe.min.js"
PATH = "/ou-me-soigner"
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
#: Result tables of Saint-Denis (974) + "poumon" (RespiFIL has no reference site in La Réunion).
SECTION_TITLES = (
    "Centres de compétence (CCMR, CRC) à La Réunion",
    "Centres de référence en métropole",
)
NO_LOCAL_REFERENCE = "Aucun site de ce niveau n'est connu à La Réunion dans les données chargées."
#: axe impacts that fail the test when found in our components.
BLOCKING = {"serious", "critical"}
#: Where our components live: the main area of the page (everything the page script draws).
OURS = '[data-testid="stMain"]'

#: Leaflet layers of the result map: lines drawn and circle markers (origin + site points).
MAP_LAYERS_JS = """
() => {
    const map = window.map_div;
    if (!window.L || !(map instanceof L.Map)) return null;
    let lines = 0, dashed = 0, markers = 0;
    map.eachLayer((layer) => {
        if (layer instanceof L.Polyline && !(layer instanceof L.Polygon)) {
            lines += 1;
            if (layer.options.dashArray) dashed += 1;
        } else if (layer instanceof L.CircleMarker) {
            markers += 1;
        }
    });
    return {lines, dashed, markers};
}
"""

#: Run axe on the main document; keep, per violation, its impact and where each node is.
AXE_RUN_JS = """
async (ours) => {
    const result = await axe.run(document, {resultTypes: ["violations"]});
    return result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => {
            const el = document.querySelector(n.target[0]);
            return {
                target: n.target.join(" "),
                ours: !!(el && el.closest(ours)),
                html: n.html.slice(0, 160),
                summary: (n.failureSummary || "").slice(0, 240),
            };
        }),
    }));
}
"""


# --------------------------------------------------------------------------- helpers


def open_public_page(page: Page, url: str) -> None:
    """Load the page and wait for its title (fails clearly when it is not in the navigation)."""
    page.goto(url)
    try:
        page.get_by_role("heading", name="Où me soigner ?", exact=True).wait_for(timeout=90_000)
    except PlaywrightError as exc:
        raise AssertionError(
            f"{url}: the page « Où me soigner ? » did not show; is it registered in "
            "dashboard.py with url_path='ou-me-soigner'?"
        ) from exc


def search(page: Page, commune: str, keyword: str) -> None:
    """Type a commune and a keyword, each confirmed with the Enter key."""
    box = page.get_by_role("textbox", name="Commune ou code postal")
    box.fill(commune)
    box.press("Enter")
    word = page.get_by_role("textbox", name="Maladie ou organe")
    word.fill(keyword)
    word.press("Enter")


def section_tables(page: Page, titles=SECTION_TITLES) -> dict[str, list[str]]:
    """Rows of each result table (cells joined by " | "), found by its accessible name."""
    out = {}
    for title in titles:
        table = page.get_by_role("table", name=title, exact=True)
        table.wait_for()
        out[title] = [
            " | ".join(cell.strip() for cell in row.locator("td, th").all_inner_texts())
            for row in table.locator("tbody tr").all()
        ]
    return out


def wait_for_params(page: Page, **want: str) -> dict[str, str]:
    """Wait until the address bar holds ``want`` among its query parameters; return them."""
    deadline = time.monotonic() + 30
    while True:
        params = {k: v[-1] for k, v in parse_qs(urlsplit(page.url).query).items()}
        if all(params.get(k) == v for k, v in want.items()):
            return params
        if time.monotonic() > deadline:
            raise AssertionError(f"URL never held {want}: {page.url}")
        page.wait_for_timeout(100)


def map_layers(page: Page, timeout_s: float = 45) -> dict:
    """Lines and markers drawn by Leaflet in the result map (waits for the map to exist)."""
    page.locator(MAP_IFRAME).wait_for(timeout=60_000)
    deadline = time.monotonic() + timeout_s
    while True:
        frame = page.locator(MAP_IFRAME).element_handle().content_frame()
        state = frame.evaluate(MAP_LAYERS_JS) if frame else None
        if state and state["lines"]:
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"the result map never drew its lines: {state}")
        page.wait_for_timeout(200)


class Inflight:
    """Counts the page's requests in flight (frames included), to leave a page only once idle.

    Streamlit loads widget code lazily and the map in an iframe: navigating away while
    one of them loads aborts it, which the no-failed-request policy reports.
    """

    def __init__(self, page: Page):
        self.pending: set = set()
        self.last = time.monotonic()
        page.on("request", self._start)
        page.on("requestfinished", self._end)
        page.on("requestfailed", self._end)

    def _start(self, request) -> None:
        self.pending.add(request)
        self.last = time.monotonic()

    def _end(self, request) -> None:
        self.pending.discard(request)
        self.last = time.monotonic()

    def settle(self, page: Page, quiet_s: float = 0.7, timeout_s: float = 30) -> None:
        """Wait until no request has been in flight for ``quiet_s`` seconds."""
        deadline = time.monotonic() + timeout_s
        while self.pending or time.monotonic() - self.last < quiet_s:
            if time.monotonic() > deadline:
                raise AssertionError(f"requests still in flight: {[r.url for r in self.pending]}")
            page.wait_for_timeout(100)


def run_axe(page: Page) -> list[dict]:
    """axe-core's violations on the current document (axe injected from the local file)."""
    assert AXE_JS.is_file(), "static/axe/axe.min.js missing: run scripts/vendor_axe.sh"
    page.add_script_tag(path=str(AXE_JS))
    return page.evaluate(AXE_RUN_JS, OURS)


def axe_report(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        ours = sum(n["ours"] for n in v["nodes"])
        lines.append(
            f"{v['impact']:>8}  {v['id']}: {v['help']} "
            f"({len(v['nodes'])} node(s), {ours} in our components)"
        )
        for n in v["nodes"][:4]:
            where = "OURS" if n["ours"] else "streamlit"
            lines.append(f"          [{where}] {n['target']}  {n['html']}")
    return "\n".join(lines) or "no violation"


def assert_accessible(page: Page, tmp_path_factory, name: str) -> None:
    """No serious or critical axe violation in our components; the full report is kept."""
    violations = run_axe(page)
    report = axe_report(violations)
    out = tmp_path_factory.mktemp("axe") / f"axe-{name}.json"
    out.write_text(json.dumps(violations, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"\naxe report, {name} ({out}):\n{report}")
    blocking = [
        v for v in violations if v["impact"] in BLOCKING and any(n["ours"] for n in v["nodes"])
    ]
    assert not blocking, f"serious/critical axe violations in our components:\n{report}"


# --------------------------------------------------------------------------- tests


def test_search_results_and_shared_url(page, app_url, traffic, tmp_path_factory):
    """97400 + "poumon": Réunion sites first, mainland flagged; the URL reproduces the answer."""
    inflight = Inflight(page)
    open_public_page(page, app_url + PATH)
    search(page, "97400", "poumon")
    expect(page.get_by_text("Commune : Saint-Denis (974) – 97400")).to_be_visible()
    expect(page.get_by_text("« poumon » : filière(s) RespiFIL.")).to_be_visible()
    first = section_tables(page)
    expect(page.get_by_role("heading", name="Centres de référence à La Réunion")).to_be_visible()
    expect(page.get_by_text(NO_LOCAL_REFERENCE)).to_be_visible()
    assert any("Saint-Denis (974)" in row for row in first[SECTION_TITLES[0]])  # a local CCMR
    assert not any("(974)" in row for row in first[SECTION_TITLES[1]])
    assert len(first[SECTION_TITLES[1]]) == 3
    params = wait_for_params(page, commune="97411", mode="keyword", value="poumon", n="3")
    assert set(params) <= {"commune", "mode", "value", "n", "lang"}
    assert "Distances à vol d'oiseau (grand cercle" in page.inner_text(OURS)

    # The map draws one line per site (dashed to the mainland) and the commune.
    state = map_layers(page)
    assert state["lines"] == sum(len(r) for r in first.values())
    assert state["dashed"] == 3

    # The link shown to share is the address bar's.
    shared = page.get_by_test_id("stCode").inner_text()
    assert "commune=97411" in shared and "mode=keyword" in shared

    # Accessibility of the page with its results and map.
    assert_accessible(page, tmp_path_factory, "results-overseas")

    # Reloading the shared URL (a new session) gives the same answer.
    url = page.url
    inflight.settle(page)
    page.goto("about:blank")
    open_public_page(page, url)
    expect(page.get_by_role("textbox", name="Commune ou code postal")).to_have_value(
        "Saint-Denis (974)"
    )
    assert section_tables(page) == first
    wait_for_params(page, commune="97411", mode="keyword", value="poumon", n="3")
    assert traffic.external == []


def test_homonyms_with_the_keyboard_and_printable_version(page, app_url):
    """ "Saint-Denis" asks which one (chosen with the keyboard); the printable version hides
    the map and, in print media, the sidebar."""
    open_public_page(page, app_url + PATH)
    page.get_by_role("radiogroup", name="Chercher par").get_by_text("Groupe de maladies").click()
    search_box = page.get_by_role("textbox", name="Commune ou code postal")
    search_box.fill("saint denis")
    search_box.press("Enter")
    pick = page.get_by_role(
        "combobox", name="Plusieurs communes correspondent : choisissez la vôtre"
    )
    pick.focus()
    page.keyboard.type("(93)")
    page.keyboard.press("Enter")
    expect(search_box).to_have_value("Saint-Denis (93)")
    map_layers(page)  # group 1 is shown; let its map settle before asking for another group
    group = page.get_by_role("combobox", name="Groupe de maladies")
    group.focus()
    page.keyboard.type("neuromusc")
    page.keyboard.press("Enter")
    expect(
        page.get_by_role("heading", name="Centres les plus proches de Saint-Denis (93)")
    ).to_be_visible()
    wait_for_params(page, commune="93066", mode="group", value="10")
    page.get_by_role("table", name="Centres de référence les plus proches").wait_for()
    map_layers(page)  # fully loaded: hiding a loading iframe would abort its requests

    page.get_by_text("Version imprimable").click()
    expect(page.locator(MAP_IFRAME)).to_have_count(0)
    expect(page.get_by_role("table", name="Version imprimable")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.get_by_test_id("stSidebar")).to_be_hidden()
    page.emulate_media(media="screen")


def test_unknown_keyword_says_so_and_suggests(page, app_url, tmp_path_factory):
    """A misspelt keyword finds nothing, says it, and offers close keywords as buttons."""
    open_public_page(page, app_url + PATH + "?commune=69123&mode=keyword&value=mucovicidose")
    expect(page.get_by_text("Aucun mot-clé ne correspond à « mucovicidose »")).to_be_visible()
    assert_accessible(page, tmp_path_factory, "keyword-not-found")
    page.get_by_role("button", name="mucoviscidose").click()
    page.get_by_role("table", name="Centres de référence les plus proches").wait_for()
    map_layers(page)
    wait_for_params(page, commune="69123", mode="keyword", value="mucoviscidose")


def test_english_switch(page, app_url):
    """The sidebar's language switch turns the page into English and keeps the answer."""
    open_public_page(page, app_url + PATH + "?commune=97411&mode=filiere&value=RespiFIL&n=2")
    map_layers(page)
    page.get_by_role("radiogroup", name="Langue / Language").get_by_text("English").click()
    expect(page.get_by_role("heading", name="Where can I get care?", exact=True)).to_be_visible()
    page.get_by_role("table", name="Reference centres in mainland France").wait_for()
    map_layers(page)
    params = wait_for_params(page, commune="97411", mode="filiere", value="RespiFIL", n="2")
    assert params.get("lang") == "English"  # bind="query-params" writes the option's label
    assert re.search(r"Straight-line distances", page.inner_text(OURS))


def test_public_mode_shows_only_the_patient_page_and_the_map(page, start_app):
    """PUBLIC=1: "Où me soigner ?" at the root, the national map, nothing else; the full
    dashboard's shared links still work."""
    base = start_app(PUBLIC="1")
    inflight = Inflight(page)
    open_public_page(page, base + "/")
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link")).to_have_count(2)
    expect(nav.get_by_role("link", name="Où me soigner ?")).to_be_visible()
    expect(nav.get_by_role("link", name="Carte nationale")).to_be_visible()
    inflight.settle(page)
    open_public_page(page, base + PATH + "?commune=69123&mode=filiere&value=OSCAR&n=1")
    page.get_by_role("table", name="Centres de référence les plus proches").wait_for()
    map_layers(page)
    for hidden in ("/lacunes", "/importer"):
        inflight.settle(page)
        page.goto(base + hidden)
        expect(page.get_by_text("Page not found")).to_be_visible()
        expect(page.get_by_role("heading", name="Zones sans couverture")).to_have_count(0)
    inflight.settle(page)
