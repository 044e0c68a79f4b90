"""Specification of the centre registry: schema validation, reading, filtering, counts."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from geo.centres import (
    CENTRES_ENV,
    CENTRES_FILE,
    FILIERES,
    LABELS,
    REQUIRED_COLUMNS,
    default_centres_path,
    filter_centres,
    in_france,
    load_centres,
    prepare_centres,
    read_centres_csv,
    summarise,
    validate_centres,
)
from geo.errors import DataFileError, RegistryError

#: One valid registry row (the first of data/centres.csv), as read from a CSV: all strings.
VALID_ROW = {
    "id": "anddirares-508971aef6",
    "filiere": "AnDDI-Rares",
    "crmr_name": "Anomalies du développement et syndromes malformatifs de l'Ouest (CLAD-Ouest)",
    "label": "crmr_coordonnateur",
    "establishment": "CHU de Rennes",
    "service": "",
    "commune_code": "35238",
    "lat": "48.09307",
    "lon": "-1.67494",
    "age_group": "both",
    "vintage": "before-2017",
    "source_url": (
        "http://www.chu-rennes.fr/je-cherche/prise-en-charge-specifique/centre-de-reference-"
        "anomalies-du-developpement-et-syndromes-malformatifs-clad-ouest-543.html"
    ),
    "vintage_note": "unknown (labellisé depuis 2010)",
}


def registry(*rows: dict) -> pd.DataFrame:
    """A registry frame of VALID_ROW copies, each updated with one dict of changes."""
    return pd.DataFrame([{**VALID_ROW, **changes} for changes in rows])


@pytest.fixture(scope="module")
def commune_codes(communes):
    """The INSEE codes of the Code officiel géographique."""
    return set(communes["code"])


# --------------------------------------------------------------------------- embedded registry


def test_embedded_registry_is_valid(centres):
    """data/centres.csv loads without a validation problem and is not empty."""
    assert len(centres) > 0


def test_embedded_registry_cites_a_source_for_every_row(centres):
    """Every site carries the public URL it was read from."""
    assert centres["source_url"].str.startswith("http").all()


def test_embedded_registry_ids_are_unique(centres):
    """No two sites share an id."""
    assert centres["id"].is_unique


def test_embedded_registry_is_joined_to_communes(centres):
    """load_centres(communes=...) adds each site's commune name, département and région."""
    assert centres[["commune", "dep", "reg"]].notna().all().all()


def test_valid_row_passes(commune_codes):
    """The reference row used below is valid on its own."""
    assert validate_centres(registry({}), commune_codes) == []


# --------------------------------------------------------------------------- validation errors


def test_missing_columns_are_listed():
    """Missing required columns are named, and unexpected ones pointed out."""
    frame = registry({}).drop(columns=["label", "lat"]).assign(latitude="48.1")
    problems = validate_centres(frame)
    assert len(problems) == 1
    assert re.search(r"Colonnes manquantes : label, lat\b", problems[0])
    assert "Colonnes inattendues : latitude" in problems[0]


def test_empty_id_is_rejected():
    """A row without id is reported on its file line."""
    assert validate_centres(registry({"id": "  "})) == [
        "Ligne 2 : identifiant vide ; donnez un id unique à chaque site."
    ]


def test_duplicate_id_names_both_lines():
    """A repeated id is reported on its second line, naming the first."""
    (problem,) = validate_centres(registry({}, {"id": "autre"}, {}))
    assert re.search(r"^Ligne 4 : identifiant « anddirares-\w+ » déjà utilisé ligne 2", problem)


@pytest.mark.parametrize(
    ("changes", "pattern"),
    [
        ({"label": "ccrm"}, r"label « ccrm » inconnu \(vouliez-vous dire « ccmr » \?\)"),
        ({"label": "centre"}, r"label « centre » inconnu ; valeurs admises : crmr_coordonnateur"),
        ({"filiere": "FILNEMUSS"}, r"« FILNEMUSS » inconnue \(vouliez-vous dire « FILNEMUS »"),
        ({"filiere": "Defiscience"}, r"filière « Defiscience » inconnue \(vouliez-vous dire"),
        ({"filiere": ""}, r"filière «  » inconnue"),
        ({"lat": "abc"}, r"latitude/longitude absentes ou non numériques \(« abc »"),
        ({"lat": "", "lon": ""}, r"latitude/longitude absentes ou non numériques"),
        ({"lat": "-1.67494", "lon": "48.09307"}, r"hors de France .* inversées"),
        ({"lat": "51.5072", "lon": "-0.1276"}, r"hors de France"),
        ({"commune_code": "7505"}, r"code commune INSEE « 7505 » invalide"),
        ({"commune_code": "35 238"}, r"code commune INSEE « 35 238 » invalide"),
        ({"commune_code": "35000"}, r"« 35000 » absent du Code officiel géographique"),
        ({"age_group": "children"}, r"tranche d'âge « children » inconnue ; valeurs admises"),
        ({"vintage": "2023/2028"}, r"millésime « 2023/2028 » invalide"),
        ({"vintage": "récent"}, r"millésime « récent » invalide"),
    ],
    ids=[
        "label-typo",
        "label-unknown",
        "filiere-typo",
        "filiere-spelling",
        "filiere-empty",
        "lat-not-numeric",
        "lat-lon-empty",
        "lat-lon-swapped",
        "outside-france",
        "commune-code-short",
        "commune-code-space",
        "commune-code-not-in-cog",
        "age-group",
        "vintage-slash",
        "vintage-word",
    ],
)
def test_invalid_value_is_reported_with_its_fix(commune_codes, changes, pattern):
    """Each invalid field gives exactly one problem on line 2, with the admitted values."""
    (problem,) = validate_centres(registry(changes), commune_codes)
    assert problem.startswith("Ligne 2 : ")
    assert re.search(pattern, problem)


def test_commune_code_checked_against_cog_only_when_communes_given():
    """Without the COG, a well-formed but unknown commune code passes."""
    assert validate_centres(registry({"commune_code": "35000"})) == []


def test_empty_filiere_allowed_for_pemr(commune_codes):
    """An expertise platform (pemr) needs no filière."""
    assert validate_centres(registry({"filiere": "", "label": "pemr"}), commune_codes) == []


@pytest.mark.parametrize("vintage", ["2023-2028", "2017-2022", "before-2017", "2020", "unknown"])
def test_valid_vintages(vintage):
    """Labellisation rounds, a year (PEMR) and « unknown » are valid vintages."""
    assert validate_centres(registry({"vintage": vintage})) == []


@pytest.mark.parametrize("code", ["2A004", "2B033", "97411"])
def test_corsican_and_overseas_commune_codes_are_well_formed(code):
    """Corsican (2A/2B) and overseas codes match the INSEE format."""
    assert validate_centres(registry({"commune_code": code})) == []


def test_registry_error_lists_every_problem(communes):
    """prepare_centres raises RegistryError whose problems cover all rows, on file lines."""
    frame = registry({}, {"id": "b", "label": "x"}, {"id": "c"}, {"id": "d", "vintage": "x"})
    with pytest.raises(RegistryError, match=r"Ligne 3 : label « x » inconnu.*\(et 1 autres\)") as e:
        prepare_centres(frame, communes)
    assert len(e.value.problems) == 2
    assert [p.split(" : ")[0] for p in e.value.problems] == ["Ligne 3", "Ligne 5"]


def test_prepare_centres_types_coordinates():
    """Valid rows come back with float lat/lon and stripped text."""
    out = prepare_centres(registry({"establishment": "  CHU de Rennes  "}))
    assert out["lat"].dtype == float
    assert out.at[0, "lon"] == pytest.approx(-1.67494)
    assert out.at[0, "establishment"] == "CHU de Rennes"


def test_prepare_centres_defaults_capacity_to_one():
    """A missing or non-numeric capacity counts as 1."""
    out = prepare_centres(registry({"capacity": "3"}, {"id": "b", "capacity": ""}))
    assert out["capacity"].tolist() == [3.0, 1.0]


# --------------------------------------------------------------------------- reading files


def test_read_centres_csv_missing_file(tmp_path):
    """A missing registry file raises DataFileError naming it."""
    path = tmp_path / "absent.csv"
    with pytest.raises(DataFileError, match=rf"introuvable : {re.escape(str(path))}"):
        read_centres_csv(path)


def test_read_centres_csv_not_utf8(tmp_path):
    """A Latin-1 file raises DataFileError asking for UTF-8."""
    path = tmp_path / "latin1.csv"
    path.write_bytes("id,filiere\nx,DéfiScience\n".encode("latin-1"))
    with pytest.raises(DataFileError, match=r"illisible.*UTF-8"):
        read_centres_csv(path)


def test_read_centres_csv_empty_file(tmp_path):
    """An empty file raises DataFileError, not a pandas error."""
    path = tmp_path / "vide.csv"
    path.write_bytes(b"")
    with pytest.raises(DataFileError, match="illisible"):
        read_centres_csv(path)


def test_read_centres_csv_keeps_strings(tmp_path):
    """Cells are read as text: leading zeros and empty cells survive."""
    path = tmp_path / "centres.csv"
    registry({"commune_code": "01053"}).to_csv(path, index=False)
    frame = read_centres_csv(path)
    assert frame.at[0, "commune_code"] == "01053"
    assert frame.at[0, "service"] == ""


def test_load_centres_round_trip(tmp_path, communes):
    """A registry written to CSV loads back valid, joined to its commune."""
    path = tmp_path / "centres.csv"
    registry({}).to_csv(path, index=False)
    loaded = load_centres(path, communes)
    assert loaded.at[0, "commune"] == "Rennes"
    assert (loaded.at[0, "dep"], loaded.at[0, "reg"]) == ("35", "53")


def test_load_centres_invalid_file(tmp_path):
    """An invalid registry file raises RegistryError, not a pandas error."""
    path = tmp_path / "centres.csv"
    registry({}).drop(columns=["source_url"]).to_csv(path, index=False)
    with pytest.raises(RegistryError, match="Colonnes manquantes : source_url"):
        load_centres(path)


def test_default_centres_path_is_embedded_file(monkeypatch):
    """Without $CENTRES_FILE the embedded data/centres.csv is used."""
    monkeypatch.delenv(CENTRES_ENV, raising=False)
    assert default_centres_path() == CENTRES_FILE


def test_default_centres_path_honours_env(monkeypatch, tmp_path):
    """$CENTRES_FILE names the registry to load."""
    monkeypatch.setenv(CENTRES_ENV, str(tmp_path / "autre.csv"))
    assert default_centres_path() == tmp_path / "autre.csv"


def test_default_centres_path_ignores_blank_env(monkeypatch):
    """A blank $CENTRES_FILE falls back to the embedded file."""
    monkeypatch.setenv(CENTRES_ENV, "  ")
    assert default_centres_path() == CENTRES_FILE


# --------------------------------------------------------------------------- filtering, counts


@pytest.mark.parametrize(
    ("criterion", "column", "values"),
    [
        ("filieres", "filiere", ["FILNEMUS"]),
        ("filieres", "filiere", ["FILNEMUS", "MHEMO"]),
        ("labels", "label", ["ccmr"]),
        ("labels", "label", ["crmr_coordonnateur", "crmr_constitutif"]),
        ("regions", "reg", ["11"]),
        ("vintages", "vintage", ["2023-2028"]),
    ],
)
def test_filter_centres_by_one_criterion(centres, criterion, column, values):
    """Filtering keeps exactly the rows whose column takes one of the given values."""
    kept = filter_centres(centres, **{criterion: values})
    assert len(kept) == centres[column].isin(values).sum() > 0
    assert kept[column].isin(values).all()


def test_filter_centres_combines_criteria(centres):
    """Several criteria are combined with AND."""
    kept = filter_centres(centres, labels=["ccmr"], regions=["84"])
    expected = centres[(centres["label"] == "ccmr") & (centres["reg"] == "84")]
    assert kept.index.tolist() == expected.index.tolist()


@pytest.mark.parametrize("empty", [None, []])
def test_filter_centres_without_criteria_keeps_everything(centres, empty):
    """None or an empty list does not restrict."""
    assert len(filter_centres(centres, filieres=empty, labels=empty)) == len(centres)


def test_summarise_counts_sites(centres):
    """summarise states the number of sites and communes of the frame."""
    summary = summarise(centres)
    assert summary["sites"] == len(centres)
    assert summary["communes"] == centres["commune_code"].nunique()


@pytest.mark.parametrize("key", ["by_label", "by_vintage"])
def test_summarise_breakdowns_sum_to_sites(centres, key):
    """The counts by label and by vintage each add up to the number of sites."""
    summary = summarise(centres)
    assert sum(summary[key].values()) == summary["sites"]


def test_summarise_by_filiere_counts_filiere_sites(centres):
    """The by-filière counts cover every site with a filière (all but PEMR)."""
    summary = summarise(centres)
    with_filiere = (centres["filiere"] != "").sum()
    assert sum(v["sites"] for v in summary["by_filiere"].values()) == with_filiere
    assert summary["filieres"] == len(summary["by_filiere"])
    assert set(summary["by_filiere"]) <= set(FILIERES)


def test_summarise_labels_are_known(centres):
    """Every label counted is one of the registry labels."""
    assert set(summarise(centres)["by_label"]) <= set(LABELS)


def test_required_columns_in_embedded_file():
    """data/centres.csv has every required column."""
    assert set(REQUIRED_COLUMNS) <= set(read_centres_csv(CENTRES_FILE).columns)


# --------------------------------------------------------------------------- in_france


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (2.3522, 48.8566, True),  # Paris
        (-4.4861, 48.3904, True),  # Brest
        (7.7521, 48.5734, True),  # Strasbourg
        (8.7369, 41.9192, True),  # Ajaccio
        (-61.5331, 16.2411, True),  # Pointe-à-Pitre, Guadeloupe
        (-61.0588, 14.6161, True),  # Fort-de-France, Martinique
        (-52.3260, 4.9224, True),  # Cayenne, Guyane
        (55.4504, -20.8823, True),  # Saint-Denis, La Réunion
        (45.2279, -12.7806, True),  # Mamoudzou, Mayotte
        (-0.1276, 51.5072, False),  # London
        (-17.4677, 14.7167, False),  # Dakar
        (48.8566, 2.3522, False),  # Paris with lat/lon swapped
        (0.0, 0.0, False),
    ],
)
def test_in_france(lon, lat, expected):
    """Points in metropolitan France and each DROM are in France; others are not."""
    assert in_france(np.array([lon]), np.array([lat])).tolist() == [expected]


def test_in_france_accepts_every_commune_point(communes):
    """Every commune's representative point passes the France test."""
    placed = communes[communes["lon"].notna()]
    assert in_france(placed["lon"].to_numpy(), placed["lat"].to_numpy()).all()
