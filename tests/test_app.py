"""AppTest smoke tests: every page runs on the embedded data without exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent

PAGES = [
    "app_pages/carte.py",
    "app_pages/ou_me_soigner.py",
    "app_pages/lacunes.py",
    "app_pages/import.py",
    "app_pages/reseau.py",
    "app_pages/scenarios.py",
    "app_pages/comparaison.py",
    "app_pages/sources.py",
]


def _app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    return at


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_without_exception(page):
    """Each page renders on the embedded data."""
    at = _app().run()
    at.switch_page(page).run()
    assert not at.exception, at.exception


def test_every_page_states_provenance_and_partial_compilation():
    """The sidebar says how many sites are loaded and that the compilation is partial."""
    at = _app().run()
    text = " ".join(m.value for m in at.sidebar.markdown)
    assert "sites" in text
    warnings = " ".join(w.value for w in at.sidebar.warning)
    assert "partielle" in warnings


def test_filiere_filter_changes_the_counts():
    """Choosing a filière in the sidebar narrows the sites shown on the national map."""
    at = _app().run()
    total = int(at.metric[0].value)
    at.sidebar.multiselect(key="f_filieres").select("FILNEMUS").run()
    assert not at.exception
    filtered = int(at.metric[0].value)
    assert 0 < filtered < total


def test_sidebar_filters_only_on_the_national_map():
    """The gaps page has its own selection: the map's filters are not shown there."""
    at = _app().run()
    at.switch_page("app_pages/lacunes.py").run()
    assert not at.exception
    assert not [w for w in at.sidebar.multiselect if w.key == "f_filieres"]


def test_bad_centres_file_falls_back_to_embedded_data(tmp_path, monkeypatch):
    """A CENTRES_FILE that fails validation shows an error and the embedded data."""
    bad = tmp_path / "centres.csv"
    bad.write_text("id,filiere\n1,FILNEMUS\n", encoding="utf-8")
    monkeypatch.setenv("CENTRES_FILE", str(bad))
    at = _app().run()
    assert not at.exception
    assert any("CENTRES_FILE" in e.value for e in at.error)
    assert int(at.metric[0].value) > 0
