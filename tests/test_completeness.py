"""Specification of the completeness checks against the official 2017–2022 composition."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from geo.centres import CENTRES_FILE, FILIERES, REFERENCE_LABELS, read_centres_csv
from geo.completeness import (
    MATCH_METHODS,
    OFFICIAL_FILE,
    ORPHANET_FILIERES,
    RAW_OFFICIAL_FILE,
    build_official,
    canonical_filiere,
    compared_groups,
    complete_networks,
    filiere_completeness,
    load_matching,
    load_official,
    name_tokens,
    network_completeness,
    official_networks,
    propose_matches,
    selection_completeness,
)
from geo.coverage import Selection
from geo.errors import DataFileError

CRMW = "Centre de référence de la maladie de Willebrand"  # MHEMO, official 1 + 2 + 0
CRMW_LOADED = "Centre de Référence de la Maladie de Willebrand (CRMW)"
CNR_MAT = "Centre de référence des microangiopathies thrombotiques (CNR-MAT)"  # 1 + 5 + 21


@pytest.fixture(scope="module")
def official():
    return load_official()


@pytest.fixture(scope="module")
def matching():
    return load_matching()


def registry(rows):
    """A minimal registry: (filiere, crmr_name, label, vintage) tuples."""
    frame = pd.DataFrame(rows, columns=["filiere", "crmr_name", "label", "vintage"])
    frame.insert(0, "id", [f"r{i}" for i in range(len(frame))])
    return frame


# --------------------------------------------------------------------------- official file


def test_official_totals(official):
    assert len(official) == 112  # rows of Orphanet's table
    assert int(official["n_coordonnateur"].sum()) == 114
    assert int(official["n_constitutif"].sum()) == 286
    assert int(official["n_competence"].sum()) == 1769
    assert int(official[["n_coordonnateur", "n_constitutif", "n_competence"]].sum().sum()) == 2169


def test_official_networks_merge_the_two_c_mavem_rows(official):
    nets = official_networks(official)
    assert len(nets) == 111
    assert int(nets["n_total"].sum()) == 2169
    cmavem = nets[nets["official_crmr_name"].str.contains("C- MAVEM")]
    assert len(cmavem) == 1
    counts = ["n_coordonnateur", "n_constitutif", "n_competence", "rows"]
    assert cmavem.iloc[0][counts].tolist() == [1, 7, 34, 2]


def test_shipped_official_file_is_the_raw_file_plus_filiere():
    shipped = pd.read_csv(OFFICIAL_FILE, dtype=str, keep_default_na=False, encoding="utf-8")
    pd.testing.assert_frame_equal(shipped, build_official())
    raw = pd.read_csv(RAW_OFFICIAL_FILE, dtype=str, keep_default_na=False, encoding="utf-8")
    for col in raw.columns:
        assert shipped[col].tolist() == raw[col].tolist()


def test_every_official_filiere_maps_to_one_of_the_23():
    raw = pd.read_csv(RAW_OFFICIAL_FILE, dtype=str, keep_default_na=False, encoding="utf-8")
    spellings = set(raw["filiere_orphanet"])
    assert spellings <= set(ORPHANET_FILIERES)
    mapped = {canonical_filiere(s) for s in spellings}
    assert mapped == set(FILIERES)  # all 23, each from one spelling
    assert len(spellings) == 23
    with pytest.raises(ValueError):
        canonical_filiere("FILIERE-INCONNUE")


# --------------------------------------------------------------------------- matching table


def test_matching_names_exist_in_their_files(matching, official):
    centres = read_centres_csv(CENTRES_FILE)
    loaded = set(zip(centres["filiere"], centres["crmr_name"], strict=True))
    for row in matching.itertuples(index=False):
        assert (row.filiere, row.crmr_name) in loaded, row.crmr_name
    matched = matching[matching["official_crmr_name"] != ""]
    nets = official_networks(official).set_index(["filiere", "official_crmr_name"])
    for row in matched.itertuples(index=False):
        assert (row.filiere, row.official_crmr_name) in nets.index, row.official_crmr_name
        net = nets.loc[(row.filiere, row.official_crmr_name)]
        assert row.orphanet_network_id == net["orphanet_network_id"]
    assert len(matched) > 0


def test_matching_methods_are_consistent(matching):
    matched = matching[matching["official_crmr_name"] != ""]
    assert set(matched["method"]) <= set(MATCH_METHODS)
    for row in matched.itertuples(index=False):
        if row.method == "exact":
            assert row.crmr_name == row.official_crmr_name
        elif row.method == "normalised":
            assert name_tokens(row.crmr_name) == name_tokens(row.official_crmr_name)
        else:
            assert row.note, f"manual match without a note: {row.crmr_name}"
    unmatched = matching[matching["official_crmr_name"] == ""]
    assert (unmatched["note"] != "").all()
    assert (unmatched["method"] == "").all()


def test_load_matching_rejects_a_bad_method(tmp_path, matching):
    bad = matching.copy()
    idx = bad.index[bad["official_crmr_name"] != ""][0]
    bad.loc[idx, "method"] = "guess"
    path = tmp_path / "m.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(DataFileError, match="guess"):
        load_matching(path)


def test_propose_matches_finds_exact_and_normalised(official):
    centres = registry(
        [
            ("MaRIH", CNR_MAT, "crmr_coordonnateur", "2017-2022"),
            ("SENSGENE", "Centre de Référence des surdités génétiques", "ccmr", "2017-2022"),
            ("MHEMO", CRMW_LOADED, "crmr_constitutif", "2017-2022"),
        ]
    )
    props = propose_matches(centres, official).set_index("crmr_name")
    assert props.loc[CNR_MAT, "method"] == "exact"
    assert props.loc["Centre de Référence des surdités génétiques", "method"] == "normalised"
    assert props.loc[CRMW_LOADED, "official_crmr_name"] == CRMW
    assert props.loc[CRMW_LOADED, "method"] == "similar"


# --------------------------------------------------------------------------- per network

#: A synthetic official table (one filière, two networks) and its matching.
TOY_OFFICIAL = pd.DataFrame(
    {
        "filiere": ["G2M", "G2M"],
        "filiere_orphanet": ["G2M", "G2M"],
        "orphanet_network_id": ["1", "1"],
        "official_crmr_name": ["Réseau A", "Réseau B"],
        "crmr_name": ["Réseau A", "Réseau B"],
        "n_coordonnateur": [1, 1],
        "n_constitutif": [1, 0],
        "n_competence": [2, 0],
    }
)
TOY_MATCHING = pd.DataFrame(
    {
        "crmr_name": ["A (page)", "B", "C"],
        "filiere": ["G2M", "G2M", "G2M"],
        "orphanet_network_id": ["1", "1", ""],
        "official_crmr_name": ["Réseau A", "Réseau B", ""],
        "method": ["manual", "manual", ""],
        "note": ["x", "x", "unmatched"],
    }
)
TOY_CENTRES = registry(
    [
        ("G2M", "A (page)", "crmr_coordonnateur", "2017-2022"),
        ("G2M", "A (page)", "crmr_site", "2017-2022"),
        ("G2M", "A (page)", "ccmr", "2017-2022"),
        ("G2M", "A (page)", "ccmr", "before-2017"),
        ("G2M", "A (page)", "collaborateur", "2017-2022"),
        ("G2M", "B", "crmr_site", "2017-2022"),
        ("G2M", "C", "ccmr", "2017-2022"),
    ]
)


def toy(**kwargs):
    return network_completeness(
        TOY_CENTRES, official=TOY_OFFICIAL, matching=TOY_MATCHING, **kwargs
    ).set_index("official_crmr_name")


def test_network_completeness_counts_share_and_complete():
    t = toy()
    a = t.loc["Réseau A"]
    assert a["crmr_names"] == ("A (page)",)
    assert (a["official_reference"], a["official_competence"], a["official_total"]) == (2, 2, 4)
    # the before-2017 ccmr and the collaborateur do not count; crmr_site counts as reference
    assert (a["loaded_coordonnateur"], a["loaded_site"], a["loaded_reference"]) == (1, 1, 2)
    assert (a["loaded_competence"], a["loaded_total"]) == (1, 3)
    assert a["share"] == pytest.approx(3 / 4)
    assert not a["complete"]  # competence 1 < 2
    b = t.loc["Réseau B"]
    assert (b["loaded_total"], b["official_total"], b["share"], b["complete"]) == (1, 1, 1.0, True)
    assert list(t.columns)[:2] == ["filiere", "crmr_names"]


def test_network_completeness_labels_restrict_the_compared_levels():
    t = toy(labels=REFERENCE_LABELS)
    a = t.loc["Réseau A"]
    assert (a["official_compared"], a["loaded_compared"]) == (2, 2)
    assert a["share"] == 1.0 and a["complete"]
    t = toy(labels=["crmr_coordonnateur"])
    assert t.loc["Réseau A", "official_compared"] == 1
    assert t.loc["Réseau A", "complete"]
    assert not t.loc["Réseau B", "complete"]  # its only loaded site has no stated role
    assert compared_groups(["ccmr", "crc"]) == ("competence",)
    assert compared_groups(["collaborateur", "pemr"]) == ()


def test_network_completeness_vintage_and_unmatched():
    t = toy(vintage=None)  # every row: the before-2017 ccmr now counts
    assert t.loc["Réseau A", "loaded_competence"] == 2
    assert t.loc["Réseau A", "complete"]
    t = toy(vintage="2023-2028")
    assert t.loc["Réseau A", "loaded_total"] == 0
    assert t.loc["Réseau A", "share"] == 0.0


def test_network_completeness_on_the_real_tables(official, matching):
    centres = registry(
        [
            ("MHEMO", CRMW_LOADED, "crmr_coordonnateur", "2017-2022"),
            ("MHEMO", CRMW_LOADED, "crmr_constitutif", "2017-2022"),
            ("MHEMO", CRMW_LOADED, "crmr_site", "2017-2022"),
            ("MaRIH", CNR_MAT, "crmr_coordonnateur", "2017-2022"),
        ]
    )
    t = network_completeness(centres, official=official, matching=matching).set_index(
        "official_crmr_name"
    )
    assert len(t) == 2
    w = t.loc[CRMW]
    assert (w["official_total"], w["loaded_total"], w["share"], w["complete"]) == (3, 3, 1.0, True)
    m = t.loc[CNR_MAT]
    assert (m["official_total"], m["loaded_total"], m["complete"]) == (27, 1, False)
    assert m["share"] == pytest.approx(1 / 27)
    ref = network_completeness(
        centres, labels=REFERENCE_LABELS, official=official, matching=matching
    ).set_index("official_crmr_name")
    assert ref.loc[CNR_MAT, "official_compared"] == 6
    assert ref.loc[CNR_MAT, "share"] == pytest.approx(1 / 6)
    everything = network_completeness(
        centres, official=official, matching=matching, include_unmatched=True
    )
    assert len(everything) == 111


def test_complete_networks_returns_only_complete_ones():
    names = complete_networks(TOY_CENTRES, official=TOY_OFFICIAL, matching=TOY_MATCHING)
    assert names == ["B"]
    # A misses a competence centre; at reference level both are complete
    names = complete_networks(
        TOY_CENTRES, labels=REFERENCE_LABELS, official=TOY_OFFICIAL, matching=TOY_MATCHING
    )
    assert names == ["A (page)", "B"]
    # a complete network with no row of the vintage gives no name
    assert (
        complete_networks(
            TOY_CENTRES, vintage="2023-2028", official=TOY_OFFICIAL, matching=TOY_MATCHING
        )
        == []
    )


def test_filiere_completeness(official, matching):
    centres = registry(
        [
            ("MHEMO", CRMW_LOADED, "crmr_coordonnateur", "2017-2022"),
            ("MHEMO", "(CRC-MHC, MHEMO; CRMR not named)", "crc", "2017-2022"),
            ("MHEMO", "un réseau non rapproché", "ccmr", "2017-2022"),
            ("MHEMO", CRMW_LOADED, "crmr_constitutif", "before-2017"),
        ]
    )
    f = filiere_completeness(centres, official=official, matching=matching).set_index("filiere")
    assert list(f.index) == list(FILIERES)
    assert int(f["official_total"].sum()) == 2169
    mhemo = f.loc["MHEMO"]
    assert (mhemo["official_networks"], mhemo["official_total"]) == (4, 39)
    assert (mhemo["loaded_reference"], mhemo["loaded_competence"], mhemo["loaded_total"]) == (
        1,
        2,
        3,
    )
    assert mhemo["matched_networks"] == 2
    assert mhemo["share"] == pytest.approx(3 / 39)
    assert f.loc["G2M", "loaded_total"] == 0


# --------------------------------------------------------------------------- selection


def test_selection_completeness_message_mentions_the_numbers(official, matching):
    centres = registry(
        [
            ("MHEMO", CRMW_LOADED, "crmr_coordonnateur", "2017-2022"),
            ("MHEMO", CRMW_LOADED, "crmr_constitutif", "2017-2022"),
            ("MHEMO", CRMW_LOADED, "crmr_constitutif", "2017-2022"),
            ("MHEMO", CRMW_LOADED, "crmr_site", "before-2017"),
        ]
    )
    sel = Selection(filieres=("MHEMO",), vintages=("2017-2022",))
    r = selection_completeness(centres, sel, official, matching)
    assert (r["official"], r["loaded"], r["n_networks"], r["complete"]) == (39, 3, 4, False)
    assert r["share"] == pytest.approx(3 / 39)
    assert r["complete_networks"] == [CRMW_LOADED]
    assert r["n_complete_networks"] == 1
    assert r["message"].startswith("Sélection incomplète : 3 sites chargés sur 39 sites officiels")
    assert "2017–2022" in r["message"] and "(8\u00a0%)" in r["message"]
    assert "1 réseau complet sur 4" in r["message"]
    assert not r["indicative"] and "indicative" not in r["message"]

    one = selection_completeness(
        centres, Selection(network=CRMW_LOADED, vintages=("2017-2022",)), official, matching
    )
    assert one["complete"] and one["networks"] == [CRMW]
    assert one["message"].startswith("Sélection complète : 3 sites chargés sur 3 sites officiels")

    ref = selection_completeness(
        centres,
        Selection(filieres=("MHEMO",), labels=REFERENCE_LABELS, vintages=("2017-2022",)),
        official,
        matching,
    )
    assert ref["official"] == 9 and "sur 9 sites de référence officiels" in ref["message"]


def test_selection_completeness_other_vintages_are_indicative(official, matching):
    centres = registry([("MaRIH", CNR_MAT, "crmr_coordonnateur", "before-2017")])
    r = selection_completeness(centres, Selection(), official, matching)
    assert r["indicative"] and r["official"] == 2169 and r["loaded"] == 1
    assert "2\u202f169" in r["message"] and "tous millésimes" in r["message"]
    assert "indicative" in r["message"] and "moins de 1\u00a0%" in r["message"]


def test_selection_completeness_when_not_measurable(official, matching):
    centres = registry(
        [
            ("FAI2R", "CERAINOM", "crmr_constitutif", "2023-2028"),
            ("", "PEMR X", "pemr", "2020"),
        ]
    )
    r = selection_completeness(centres, Selection(network="CERAINOM"), official, matching)
    assert r["official"] is None and r["share"] is None and r["complete"] is None
    assert "CERAINOM" in r["message"] and "non mesurable" in r["message"]
    r = selection_completeness(centres, Selection(labels=("pemr",)), official, matching)
    assert r["groups"] == [] and "non mesurable" in r["message"]
    assert math.isnan(
        network_completeness(
            centres,
            labels=REFERENCE_LABELS,
            official=official,
            matching=matching,
            include_unmatched=True,
        )
        .set_index("official_crmr_name")
        .loc["Centre de référence des maladies auto-immunes systémiques rares", "share"]
    )  # 0 official reference sites: nothing to compare
