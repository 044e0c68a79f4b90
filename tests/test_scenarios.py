"""Specification of what-if scenarios (geo.scenarios): arithmetic, counting rule, strict JSON."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from geo.centres import CENTRES_FILE
from geo.coverage import DistanceTable, Selection, compute_gaps
from geo.scenarios import (
    HYPOTHETICAL_SUFFIX,
    MAX_ADDITIONS,
    MAX_SCENARIO_BYTES,
    SCENARIO_FORMAT,
    HypotheticalSite,
    Scenario,
    ScenarioError,
    evaluate_scenario,
    extend_table,
    scenario_from_json,
    scenario_sites,
    site_at_commune,
    site_from_registry,
)

ROOT = Path(__file__).resolve().parent.parent
PARIS = (2.3522, 48.8566)
LYON = (4.8357, 45.7640)
MARSEILLE = (5.3698, 43.2965)
BREST = (-4.4861, 48.3904)
SAINT_DENIS_974 = (55.4504, -20.8789)
AJACCIO = (8.7369, 41.9192)
THRESHOLDS = (50.0, 100.0, 200.0)
SELECTION = Selection(filieres=("FILNEMUS",), labels=("crmr_coordonnateur", "ccmr"))


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def tiny_communes() -> pd.DataFrame:
    """Paris, Lyon, Marseille, Brest, Saint-Denis (974), Ajaccio (2A), a Cantal commune
    without point."""
    rows = [
        ("75056", "Paris", "75", "11", 100, *PARIS),
        ("69123", "Lyon", "69", "84", 50, *LYON),
        ("13055", "Marseille", "13", "93", 30, *MARSEILLE),
        ("29019", "Brest", "29", "53", 20, *BREST),
        ("97411", "Saint-Denis", "974", "04", 40, *SAINT_DENIS_974),
        ("2A004", "Ajaccio", "2A", "94", 10, *AJACCIO),
        ("15031", "Celles", "15", "84", 7, np.nan, np.nan),
    ]
    return pd.DataFrame(rows, columns=["code", "name", "dep", "reg", "population", "lon", "lat"])


@pytest.fixture
def tiny_departements(tiny_communes) -> pd.DataFrame:
    """One département per tiny commune (same population)."""
    return pd.DataFrame(
        {
            "code": tiny_communes["dep"],
            "name": "Département " + tiny_communes["dep"],
            "population": tiny_communes["population"],
        }
    ).reset_index(drop=True)


def registry_row(sid, label, code, lonlat, dep, filiere="FILNEMUS", vintage="2017-2022"):
    """One registry row (prepared form: commune, dep, reg added)."""
    return {
        "id": sid,
        "filiere": filiere,
        "crmr_name": f"Réseau {filiere}",
        "label": label,
        "establishment": f"CHU {sid}",
        "service": "",
        "commune_code": code,
        "lat": lonlat[1],
        "lon": lonlat[0],
        "age_group": "both",
        "vintage": vintage,
        "source_url": "https://example.org",
        "commune": code,
        "dep": dep,
        "reg": "00",
    }


@pytest.fixture
def tiny_centres() -> pd.DataFrame:
    """FILNEMUS: coordinator in Paris, CCMR in Lyon; a FILNEMUS CRC (not counted) in
    Marseille; a MHEMO site in Ajaccio (other filière)."""
    return pd.DataFrame(
        [
            registry_row("p", "crmr_coordonnateur", "75056", PARIS, "75"),
            registry_row("l", "ccmr", "69123", LYON, "69"),
            registry_row("m", "crc", "13055", MARSEILLE, "13"),
            registry_row("a", "ccmr", "2A004", AJACCIO, "2A", filiere="MHEMO"),
        ]
    )


def from_scratch(communes, departements, centres, removals, added):
    """compute_gaps on a registry holding the hypothetical sites as ordinary counted rows."""
    kept = centres[~centres["id"].isin(removals)]
    extra = pd.DataFrame(
        [
            registry_row(f"new{i}", "ccmr", code, lonlat, dep)
            for i, (code, lonlat, dep) in enumerate(added)
        ]
    )
    registry = pd.concat([kept, extra], ignore_index=True)
    return compute_gaps(communes, departements, registry, SELECTION, "departement", THRESHOLDS)


def assert_same_gaps(incremental, scratch):
    """Same national figures, per-département table and commune distances/accessibility."""
    assert incremental.national == scratch.national
    assert_frame_equal(incremental.territories, scratch.territories, check_exact=False)
    # arccos near 1 is precise to ~0.1 m: compare distances to the metre
    np.testing.assert_allclose(
        incremental.commune_km, scratch.commune_km, atol=1e-3, equal_nan=True
    )
    np.testing.assert_allclose(
        incremental.commune_accessibility, scratch.commune_accessibility, rtol=1e-9
    )


# --------------------------------------------------------------------------- arithmetic


def test_adding_sites_equals_recomputation_from_scratch(
    tiny_communes, tiny_departements, tiny_centres
):
    """Brest and Saint-Denis added: the incremental "after" equals a fresh computation."""
    scenario = (
        Scenario("s")
        .with_addition(site_at_commune(tiny_communes, "29019", "ccmr"))
        .with_addition(site_at_commune(tiny_communes, "97411", "ccmr"))
    )
    result = evaluate_scenario(
        tiny_communes, tiny_departements, tiny_centres, SELECTION, scenario, THRESHOLDS
    )
    scratch = from_scratch(
        tiny_communes,
        tiny_departements,
        tiny_centres,
        [],
        [("29019", BREST, "29"), ("97411", SAINT_DENIS_974, "974")],
    )
    assert_same_gaps(result.after, scratch)
    assert result.after.national["sites"] == 4


def test_removing_a_site_equals_recomputation_from_scratch(
    tiny_communes, tiny_departements, tiny_centres
):
    """Lyon removed: the "after" equals the gaps of the registry without it."""
    result = evaluate_scenario(
        tiny_communes,
        tiny_departements,
        tiny_centres,
        SELECTION,
        Scenario("s").with_removals(["l"]),
        THRESHOLDS,
    )
    assert_same_gaps(
        result.after, from_scratch(tiny_communes, tiny_departements, tiny_centres, ["l"], [])
    )
    assert list(result.removed["id"]) == ["l"]


def test_add_and_remove_on_the_real_registry_equals_recomputation(communes, departements, centres):
    """On the embedded data: +Brest, +Aurillac, +Saint-Denis (974), −one site, as a fresh
    computation on a registry holding them."""
    selection = Selection(filieres=("FILNEMUS",), labels=("crmr_coordonnateur", "ccmr"))
    first = selection.sites(centres)["id"].iloc[0]
    codes = ["29019", "15014", "97411"]
    scenario = Scenario("réel").with_removals([first])
    for code in codes:
        scenario = scenario.with_addition(site_at_commune(communes, code, "ccmr"))
    table = DistanceTable.from_frames(communes, centres)
    result = evaluate_scenario(
        communes, departements, centres, selection, scenario, THRESHOLDS, table=table
    )
    info = communes.set_index("code")
    extra = pd.DataFrame(
        [
            {
                **centres.iloc[0].to_dict(),
                "id": f"new-{code}",
                "filiere": "FILNEMUS",
                "label": "ccmr",
                "commune_code": code,
                "lon": info.at[code, "lon"],
                "lat": info.at[code, "lat"],
                "dep": info.at[code, "dep"],
            }
            for code in codes
        ]
    )
    registry = pd.concat([centres[centres["id"] != first], extra], ignore_index=True)
    scratch = compute_gaps(communes, departements, registry, selection, "departement", THRESHOLDS)
    assert_same_gaps(result.after, scratch)
    assert result.after.national != result.before.national


def test_extended_table_equals_a_fresh_table_for_new_locations(tiny_communes, tiny_centres):
    """The added column of a new location holds the distances a fresh table computes."""
    scenario = Scenario("s").with_addition(site_at_commune(tiny_communes, "29019", "ccmr"))
    after = scenario_sites(tiny_centres, SELECTION, scenario, tiny_communes)
    new = after[after["hypothetical"].astype(bool)]
    table = DistanceTable.from_frames(tiny_communes, tiny_centres)
    extended = extend_table(table, tiny_centres, tiny_communes, new)
    fresh = DistanceTable.from_frames(tiny_communes, new)
    np.testing.assert_array_equal(
        extended.by_location[extended.location_of_site[new.index[0]]], fresh.by_location[0]
    )
    assert extended.by_location.shape[0] == table.by_location.shape[0] + 1


def test_a_site_at_an_existing_location_reuses_its_column(tiny_communes, tiny_centres):
    """A hypothetical site in Paris maps to Paris' column: no new column."""
    scenario = Scenario("s").with_addition(site_at_commune(tiny_communes, "75056", "ccmr"))
    after = scenario_sites(tiny_centres, SELECTION, scenario, tiny_communes)
    new = after[after["hypothetical"].astype(bool)]
    table = DistanceTable.from_frames(tiny_communes, tiny_centres)
    extended = extend_table(table, tiny_centres, tiny_communes, new)
    assert extended.by_location.shape == table.by_location.shape
    assert extended.location_of_site[new.index[0]] == table.location_of_site[0]


def test_empty_scenario_changes_nothing(tiny_communes, tiny_departements, tiny_centres):
    """Before and after are identical for an empty scenario."""
    result = evaluate_scenario(
        tiny_communes, tiny_departements, tiny_centres, SELECTION, Scenario("vide")
    )
    assert result.before.national == result.after.national
    assert (result.national()["change"].fillna(0) == 0).all()


def test_hypothetical_site_counts_whatever_its_label(
    tiny_communes, tiny_departements, tiny_centres
):
    """A hypothetical CRC counts although the selection counts only coordinators and CCMR."""
    scenario = Scenario("s").with_addition(site_at_commune(tiny_communes, "29019", "crc"))
    result = evaluate_scenario(tiny_communes, tiny_departements, tiny_centres, SELECTION, scenario)
    assert result.after.national["sites"] == result.before.national["sites"] + 1


def test_removal_outside_the_selection_is_ignored_and_reported(
    tiny_communes, tiny_departements, tiny_centres
):
    """Removing the Marseille CRC (not counted by the selection) changes nothing."""
    result = evaluate_scenario(
        tiny_communes,
        tiny_departements,
        tiny_centres,
        SELECTION,
        Scenario("s").with_removals(["m"]),
    )
    assert result.ignored_removals == ("m",)
    assert result.before.national == result.after.national


def test_departements_newly_covered_and_uncovered(tiny_communes, tiny_departements, tiny_centres):
    """+Brest covers Finistère (29); −Lyon uncovers the Rhône (69)."""
    scenario = (
        Scenario("s")
        .with_addition(site_at_commune(tiny_communes, "29019", "ccmr"))
        .with_removals(["l"])
    )
    result = evaluate_scenario(tiny_communes, tiny_departements, tiny_centres, SELECTION, scenario)
    assert list(result.newly_covered()["code"]) == ["29"]
    assert list(result.newly_uncovered()["code"]) == ["69"]
    table = result.departements().set_index("code")
    assert table.at["29", "beyond_100_change"] == -20  # Brest's 20 inhabitants now within
    assert table.at["29", "accessibility_after"] > table.at["29", "accessibility_before"]


def test_overseas_site_covers_only_its_territory(tiny_communes, tiny_departements, tiny_centres):
    """A site in Saint-Denis (974) covers La Réunion and nobody in metropolitan France."""
    scenario = Scenario("s").with_addition(site_at_commune(tiny_communes, "97411", "ccmr"))
    result = evaluate_scenario(tiny_communes, tiny_departements, tiny_centres, SELECTION, scenario)
    before, after = result.before.commune_km, result.after.commune_km
    reunion = (tiny_communes["dep"] == "974").to_numpy()
    assert np.isinf(before[reunion]).all() and (after[reunion] == 0).all()
    np.testing.assert_array_equal(before[~reunion], after[~reunion])


def test_hypothetical_sites_are_marked_and_data_untouched(
    tiny_communes, tiny_departements, tiny_centres
):
    """Hypothetical rows carry the suffix and the flag; data/centres.csv is not written."""
    digest = hashlib.sha256(CENTRES_FILE.read_bytes()).hexdigest()
    scenario = Scenario("s").with_addition(
        site_at_commune(tiny_communes, "29019", "ccmr", name="CH de Brest")
    )
    result = evaluate_scenario(tiny_communes, tiny_departements, tiny_centres, SELECTION, scenario)
    new = result.sites_after[result.sites_after["hypothetical"].astype(bool)]
    assert list(new["establishment"]) == ["CH de Brest" + HYPOTHETICAL_SUFFIX]
    assert not new["id"].isin(tiny_centres["id"]).any()
    assert hashlib.sha256(CENTRES_FILE.read_bytes()).hexdigest() == digest


def test_site_from_registry_takes_the_establishment_point(tiny_centres):
    """Picking an establishment places the site at its registry point and keeps its id."""
    site = site_from_registry(tiny_centres, "m", "ccmr")
    assert (site.lon, site.lat, site.commune_code) == (*MARSEILLE, "13055")
    assert site.source == "registry" and site.registry_id == "m"
    assert site.name == "CHU m"


# --------------------------------------------------------------------------- JSON


def test_json_round_trip(tiny_communes, tiny_centres):
    """A scenario written to JSON reads back equal (checked against communes and registry)."""
    scenario = (
        Scenario("Comité du 12 mars – « Brest »")
        .with_addition(site_at_commune(tiny_communes, "29019", "ccmr", name="CH <Brest>"))
        .with_addition(site_from_registry(tiny_centres, "m", "crmr_constitutif"))
        .with_removals(["l", "p"])
    )
    data = scenario.to_json_bytes()
    assert json.loads(data)["format"] == SCENARIO_FORMAT
    assert scenario_from_json(data, tiny_communes, tiny_centres) == scenario


def valid_document() -> dict:
    return {
        "format": SCENARIO_FORMAT,
        "version": 1,
        "name": "Test",
        "additions": [
            {
                "name": "CH de Brest",
                "label": "ccmr",
                "commune_code": "29019",
                "lon": BREST[0],
                "lat": BREST[1],
                "source": "commune",
            }
        ],
        "removals": ["l"],
    }


def mutate(path: str, value):
    """A valid document with one field replaced (``additions.0.lat``), or deleted (...)."""

    def build() -> bytes:
        doc = valid_document()
        *parents, last = path.split(".")
        target = doc
        for p in parents:
            target = target[int(p)] if p.isdigit() else target[p]
        if value is ...:
            del target[last]
        else:
            target[int(last) if last.isdigit() else last] = value
        return json.dumps(doc).encode("utf-8")

    return build


BAD_JSON = {
    "not UTF-8": (lambda: '{"name": "é"}'.encode("latin-1"), "UTF-8"),
    "empty": (lambda: b"   ", "vide"),
    "malformed": (lambda: b'{"format": ', "JSON mal formé"),
    "not an object": (lambda: b"[1, 2]", "doit être un objet"),
    "wrong format": (mutate("format", "autre"), "pas un scénario"),
    "wrong version": (mutate("version", 2), "Version"),
    "boolean version": (mutate("version", True), "Version"),
    "unknown key": (mutate("extra", 1), "inattendue"),
    "missing key": (mutate("removals", ...), "manquante"),
    "duplicate key": (lambda: b'{"name": "a", "name": "b"}', "deux fois"),
    "NaN": (lambda: valid_document_text().replace(b'"lat": 48.3904', b'"lat": NaN'), "NaN"),
    "empty name": (mutate("name", "  "), "vide"),
    "long name": (mutate("name", "x" * 200), "dépasse"),
    "name not text": (mutate("name", 3), "doit être un texte"),
    "additions not a list": (mutate("additions", {}), "doit être une liste"),
    "unknown label": (mutate("additions.0.label", "hopital"), "label"),
    "bad commune code": (mutate("additions.0.commune_code", 29019), "code INSEE invalide"),
    "unknown commune": (mutate("additions.0.commune_code", "99999"), "absent"),
    "latitude as text": (mutate("additions.0.lat", "48.39"), "doit être un nombre"),
    "outside France": (mutate("additions.0.lon", 30.0), "hors de France"),
    "point in another territory": (mutate("additions.0.lon", 55.45), "hors de France"),
    "unknown source": (mutate("additions.0.source", "web"), "source"),
    "unknown removal": (mutate("removals", ["zzz"]), "absents du registre"),
    "duplicate removal": (mutate("removals", ["l", "l"]), "deux fois"),
    "control characters": (mutate("name", "a\u0007b"), "contrôle"),
    "too big": (lambda: b" " * (MAX_SCENARIO_BYTES + 1), "trop volumineux"),
    "too many sites": (mutate("additions", [valid_document()["additions"][0]] * 201), "Trop"),
}


def valid_document_text() -> bytes:
    return json.dumps(valid_document()).encode("utf-8")


@pytest.mark.parametrize("case", list(BAD_JSON))
def test_bad_json_is_rejected_with_a_french_message(case, tiny_communes, tiny_centres):
    """Every malformed scenario file raises ScenarioError naming the problem, never a crash."""
    make, expected = BAD_JSON[case]
    with pytest.raises(ScenarioError, match=expected):
        scenario_from_json(make(), tiny_communes, tiny_centres)


def test_point_in_another_territory_is_rejected(tiny_communes):
    """A Brest site with Réunion coordinates is refused (territory of the commune)."""
    doc = valid_document()
    doc["additions"][0].update(lon=SAINT_DENIS_974[0], lat=SAINT_DENIS_974[1])
    with pytest.raises(ScenarioError, match="pas dans le territoire"):
        scenario_from_json(json.dumps(doc), tiny_communes)


def test_scenario_refuses_more_than_the_maximum_of_sites():
    """with_addition stops at MAX_ADDITIONS with a French message."""
    site = HypotheticalSite("x", "ccmr", "29019", *BREST)
    scenario = Scenario("s", (site,) * MAX_ADDITIONS)
    with pytest.raises(ScenarioError, match="au plus"):
        scenario.with_addition(site)


# --------------------------------------------------------------------------- page


def test_scenarios_page_adds_a_site_and_updates_the_figures(
    monkeypatch, communes, departements, regions, commune_names
):
    """AppTest: giving a commune (INSEE code) and adding the site changes the "beyond 100 km"
    metric (the name lookup is exercised by the browser test)."""
    from streamlit.testing.v1 import AppTest

    import geo.territories
    import ui.data
    from geo.grid import CommuneGrid

    # the page's loaders read these session fixtures instead of the files again
    loaded = geo.territories.Territories(communes, departements, regions)
    monkeypatch.setattr(geo.territories, "load_territories", lambda data_dir=None: loaded)
    monkeypatch.setattr(geo.territories, "load_commune_names", lambda data_dir=None: commune_names)
    # the map raster is tested elsewhere: an empty 2 × 2 grid spares its 2 s build here
    empty = CommuneGrid((-5.2, 41.3, 9.6, 51.15), np.full((2, 2), -1, dtype=np.int32))
    monkeypatch.setattr(ui.data, "commune_grid", lambda view: (empty, np.zeros(0, dtype=int)))
    at = AppTest.from_file(str(ROOT / "app_pages" / "scenarios.py"), default_timeout=120).run()
    assert not at.exception, at.exception

    def beyond_100():
        return next(m for m in at.metric if m.label == "Habitants à plus de 100 km")

    before = beyond_100().value
    at.text_input(key="scn_commune_text").input("29019").run()
    at.button(key="scn_add").click().run()
    assert not at.exception, at.exception
    assert beyond_100().value != before
    assert beyond_100().delta.startswith("-")
    assert any("Finistère" in s.value for s in at.success)
