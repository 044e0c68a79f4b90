"""Specification of the keyword table (data/keywords.csv) and its matching (geo.keywords)."""

from __future__ import annotations

import pytest

from geo.centres import FILIERES
from geo.keywords import (
    CONTAINS,
    EXACT,
    NONE,
    PREFIX,
    keyword_summary,
    load_keywords,
    match_keyword,
    normalise_keyword,
    suggest_keywords,
)


@pytest.fixture(scope="module")
def table():
    """The embedded keyword table."""
    return load_keywords()


def test_table_is_valid_and_documented(table):
    """Every row names one of the 23 filières, a language, and the columns are documented."""
    assert list(table.columns[:4]) == ["keyword", "lang", "filiere", "note"]
    assert set(table["filiere"]) <= set(FILIERES)
    assert set(table["lang"]) == {"fr", "en"}
    assert not table.duplicated(["key", "lang", "filiere"]).any()
    # every filière can be reached by at least one French keyword
    assert set(table.loc[table["lang"] == "fr", "filiere"]) == set(FILIERES)


@pytest.mark.parametrize(
    ("query", "filieres"),
    [
        ("mucoviscidose", {"MUCO-CFTR"}),
        ("myopathie", {"FILNEMUS"}),
        ("peau", {"FIMARAD"}),
        ("rein", {"ORKiD"}),
        ("hémophilie", {"MHEMO"}),
        ("épilepsie", {"DéfiScience"}),
        ("surdité", {"SENSGENE", "TETECOU"}),
        ("os", {"OSCAR"}),
        ("foie", {"FILFOIE"}),
        ("cœur", {"CARDIOGEN"}),
        ("poumon", {"RespiFIL"}),
        ("sang", {"MaRIH", "MCGRE", "MHEMO"}),
        ("yeux", {"SENSGENE"}),
        ("dents", {"TETECOU"}),
        ("SLA", {"FILSLAN"}),
        ("lupus", {"FAI2R"}),
        ("drépanocytose", {"MCGRE"}),
        ("Marfan", {"FAVA-Multi"}),
        ("cystic fibrosis", {"MUCO-CFTR"}),
        ("kidney", {"ORKiD"}),
    ],
)
def test_common_keywords_map_to_their_filieres(table, query, filieres):
    """The keywords a patient types first are in the table, exactly."""
    match = match_keyword(query, table)
    assert match.status == EXACT
    assert set(match.filieres) == filieres


@pytest.mark.parametrize(
    ("query", "keyword"),
    [
        ("MUCOVISCIDOSE", "mucoviscidose"),
        ("Drepanocytose", "drépanocytose"),
        ("hemophilies", "hémophilie"),
        ("myopathies", "myopathie"),
        ("reins", "rein"),
        ("coeur", "cœur"),
        ("Cœurs", "cœur"),
        ("poumons", "poumon"),
        ("  épilepsies ", "épilepsie"),
        ("charcot-marie-tooth", "Charcot-Marie-Tooth"),
        ("Charcot Marie Tooth", "Charcot-Marie-Tooth"),
        ("oeil", "œil"),
        ("sla", "SLA"),
    ],
)
def test_matching_ignores_accents_case_punctuation_and_plurals(table, query, keyword):
    match = match_keyword(query, table)
    assert match.status == EXACT and match.keywords == (keyword,)


@pytest.mark.parametrize(
    ("query", "keywords", "filieres"),
    [
        ("maladie de Marfan", ("Marfan",), ("FAVA-Multi",)),
        ("maladie du rein", ("rein",), ("ORKiD",)),
        ("maladie de Charcot", ("Charcot",), ("FILSLAN",)),
        # the more specific keyword wins over the words it contains
        ("maladie de Charcot-Marie-Tooth", ("Charcot-Marie-Tooth",), ("FILNEMUS",)),
        ("une malformation cardiaque", ("malformation cardiaque",), ("CARDIOGEN",)),
    ],
)
def test_a_keyword_inside_a_longer_query(table, query, keywords, filieres):
    match = match_keyword(query, table)
    assert match.status == CONTAINS
    assert match.keywords == keywords and match.filieres == filieres


def test_a_unique_prefix_is_accepted(table):
    match = match_keyword("mucov", table)
    assert match.status == PREFIX and match.keywords == ("mucoviscidose",)


@pytest.mark.parametrize(
    ("query", "suggested"),
    [
        ("mucovicidose", "mucoviscidose"),
        ("hemo", "hémophilie"),
        ("drepanocitose", "drépanocytose"),
        ("maladie de marfann", "Marfan"),
    ],
)
def test_nothing_matches_but_close_keywords_are_suggested(table, query, suggested):
    """A misspelt or partial query finds nothing and says which keywords are close."""
    match = match_keyword(query, table)
    assert match.status == NONE and not match.found and match.filieres == ()
    assert suggested in match.suggestions


def test_no_match_at_all_has_no_filiere(table):
    match = match_keyword("zzzz", table)
    assert match.status == NONE and match.filieres == () and match.suggestions == ()
    assert suggest_keywords("", table) == ()


def test_notes_say_which_part_of_the_filiere(table):
    """A keyword pointing to two filières explains each."""
    notes = {f: note for _, f, note in match_keyword("surdité", table).notes}
    assert set(notes) == {"SENSGENE", "TETECOU"} and all(notes.values())


def test_suggestions_prefer_the_interface_language(table):
    fr = suggest_keywords("hem", table, lang="fr")
    en = suggest_keywords("hem", table, lang="en")
    assert fr[0] in {"hémophilie", "hémorragie", "hémochromatose"}
    assert en[0] in {"hemophilia"}


def test_normalise_keyword():
    assert normalise_keyword("Œsophage ") == "oesophage"
    assert normalise_keyword("Os") == "os"
    assert normalise_keyword("X-fragile") == "x fragile"
    assert normalise_keyword("lupus") == normalise_keyword("LUPUS")


def test_summary_has_one_row_per_keyword(table):
    summary = keyword_summary(table, "fr")
    assert summary["keyword"].is_unique
    assert summary.loc[summary["keyword"] == "sang", "filieres"].item() == "MaRIH, MCGRE, MHEMO"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("keyword,lang,filiere,note\nfoo,fr,NOPE,\n", "unknown filière 'NOPE'"),
        ("keyword,lang,filiere,note\nfoo,de,OSCAR,\n", "lang must be one of"),
        ("keyword,lang,filiere,note\n,fr,OSCAR,\n", "line 2: empty keyword"),
        ("keyword,filiere\nfoo,OSCAR\n", "missing columns lang, note"),
    ],
)
def test_a_bad_table_is_rejected_naming_the_line(tmp_path, content, message):
    path = tmp_path / "keywords.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_keywords(path)
