"""Specification of the interface strings (ui.i18n): complete in both languages, used keys exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo.centres import FILIERES, LABELS
from geo.coverage import METRO
from geo.groups import group_names
from geo.maps import LABEL_STYLES
from geo.nearest import LEVELS, MAP_TEXTS_FR, MODES
from geo.sources import OFFICIAL_TOTALS
from geo.territories import OVERSEAS
from ui.i18n import DEFAULT_LANG, LANGS, STRINGS, md, placeholders, translate

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "app_pages" / "ou_me_soigner.py"


@pytest.mark.parametrize("key", sorted(STRINGS))
def test_every_key_has_both_languages_with_the_same_placeholders(key):
    """French and English exist, are non-empty and take the same ``{placeholders}``."""
    entry = STRINGS[key]
    assert set(entry) == set(LANGS), f"{key}: languages {sorted(entry)}"
    assert all(entry[lang].strip() for lang in LANGS), key
    assert placeholders(entry["fr"]) == placeholders(entry["en"]), key


def test_every_literal_key_used_by_the_page_exists():
    """Each ``t("…")`` of the page names a key of STRINGS."""
    source = PAGE.read_text(encoding="utf-8")
    used = set(re.findall(r'\bt\(\s*"([a-z_.]+)"', source))
    assert used, "no t() call found"
    assert sorted(used - set(STRINGS)) == []


def test_every_computed_key_used_by_the_page_exists():
    """Keys built from data (``t(f"label.{…}")`` …) exist for every value they can take."""
    computed = (
        [f"label.{x}" for x in LABELS]
        + [f"filiere.{f}" for f in FILIERES]
        + [f"group.{g}" for g in group_names()]
        + [f"territory.{z}" for z in (METRO, *OVERSEAS)]
        + [f"territory_in.{z}" for z in (METRO, *OVERSEAS)]
        + [f"oms.mode.{m}" for m in MODES]
        + [f"oms.level.{lv}" for lv in LEVELS]
        + [f"oms.section.{lv}" for lv in LEVELS]
        + [f"oms.section.{lv}_in" for lv in LEVELS]
        + [f"oms.map.{k}" for k in MAP_TEXTS_FR if k not in ("mainland", "no_establishment")]
    )
    assert sorted(set(computed) - set(STRINGS)) == []


def test_map_texts_keep_the_placeholders_of_the_builder():
    """The page passes translated map texts with the placeholders nearest_map formats."""
    for key in ("origin", "distance", "sites_here"):
        for lang in LANGS:
            assert placeholders(STRINGS[f"oms.map.{key}"][lang]) == placeholders(MAP_TEXTS_FR[key])


def test_french_names_agree_with_the_data_modules():
    """No drift: label names, group names and official totals as the rest of the app says them."""
    for label, style in LABEL_STYLES.items():
        assert STRINGS[f"label.{label}"]["fr"] == style.name
    for gid, name in group_names().items():
        assert STRINGS[f"group.{gid}"]["fr"] == name
    assert STRINGS["sidebar.official_totals"]["fr"] == OFFICIAL_TOTALS
    for code, name in OVERSEAS.items():
        assert STRINGS[f"territory.{code}"]["fr"] == name


@pytest.mark.parametrize(
    ("path", "keys"),
    [
        (
            "dashboard.py",
            [
                "nav.map",
                "nav.gaps",
                "nav.sources",
                "nav.import",
                "nav.network",
                "nav.scenarios",
                "nav.compare",
                "app.page_title",
            ],
        ),
        (
            "ui/sidebar.py",
            ["sidebar.loaded", "sidebar.by_filiere", "sidebar.user_list", "sidebar.partial"],
        ),
    ],
)
def test_frame_strings_are_the_ones_the_app_shows(path, keys):
    """Each frame string is either still written in French in the file, or used by key."""
    source = (ROOT / path).read_text(encoding="utf-8")
    flat = re.sub(r'"\s*\n\s*"', "", source)  # join implicitly concatenated literals
    for key in keys:
        assert STRINGS[key]["fr"] in flat or f't("{key}"' in source, f"{path}: {key}"


def test_translate_formats_and_falls_back_to_french():
    assert translate("oms.commune.chosen", "en", label="Paris (75)") == "Commune: **Paris (75)**"
    assert translate("oms.title", "de") == STRINGS["oms.title"][DEFAULT_LANG]
    with pytest.raises(KeyError):
        translate("no.such.key", "fr")


@pytest.mark.parametrize(
    "text",
    ["[x](http://evil.example)", "**bold** _it_", "<img src=x>", "$x^2$", ":red[alert]", "`c`"],
)
def test_md_escapes_markdown_links_html_and_directives(text):
    """Escaped data text keeps no active Markdown character."""
    escaped = md(text)
    assert re.search(r"(?<!\\)[\[\]()*_<>$:`]", escaped) is None
    assert re.sub(r"\\(.)", r"\1", escaped) == text


def test_page_in_english_from_a_shared_link():
    """The page runs in English (lang set by the sidebar switch) from URL parameters."""
    at = AppTest.from_file(str(PAGE), default_timeout=90)
    at.session_state["lang"] = "en"
    at.query_params.update({"commune": "97411", "mode": "group", "value": "7", "n": "2"})
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Where can I get care?"
    headings = [h.value for h in at.subheader]
    assert "Reference centres in mainland France" in headings
    assert any("in Réunion" in h for h in headings)
    assert at.radio(key="oms_mode").value == "group"
    assert at.selectbox(key="oms_group").value == 7
    assert at.table, "results are shown as tables"
    assert dict(at.query_params) == {"commune": "97411", "mode": "group", "value": "7", "n": "2"}
