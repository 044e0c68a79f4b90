"""Specification of the registry build from the public compilation (geo/compilation.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.centres import prepare_centres
from geo.compilation import FILIERE_MAP, RAW_DIR, UNPLACED_FILE, build_centres, write_build
from geo.territories import DATA_DIR

FILIERE_HEADER = (
    "filiere,crmr_name,label,establishment,service,city,department_code,postal_code,"
    "age_group,vintage,vintage_note,source_url"
)
PEMR_HEADER = "name,kind,establishment,city,region,labellisation_year,source_url"


def read_str(path) -> pd.DataFrame:
    """A CSV read as the registry tools read it: every cell a string, empty cells kept."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


@pytest.fixture(scope="module")
def build(communes, commune_names):
    """The build of the committed compilation data/raw/centres."""
    return build_centres(RAW_DIR, communes, commune_names)


@pytest.fixture(scope="module")
def written(build, tmp_path_factory):
    """The committed build written to a temporary directory: (centres.csv, unplaced.csv)."""
    return write_build(build, tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="module")
def raw_rows():
    """Every compilation row, one per PEMR city, with its file name and file line."""
    frames = []
    for path in sorted(RAW_DIR.glob("*.csv")):
        frame = read_str(path)
        frame["source_file"] = path.name
        frame["source_line"] = range(2, len(frame) + 2)
        if path.name == "PEMR.csv":
            frame = frame.rename(columns={"name": "crmr_name"})
            frame["filiere"] = ""
            frame = frame.assign(city=frame["city"].str.split(";")).explode("city")
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- committed build


def test_build_reproduces_committed_registry(written):
    """Rebuilding from data/raw/centres gives data/centres.csv exactly."""
    pd.testing.assert_frame_equal(read_str(written[0]), read_str(DATA_DIR / "centres.csv"))


def test_build_reproduces_committed_unplaced_rows(written):
    """Rebuilding gives data/centres_unplaced.csv exactly."""
    pd.testing.assert_frame_equal(read_str(written[1]), read_str(UNPLACED_FILE))


def test_built_registry_is_valid(build, communes):
    """The placed rows pass registry validation against the COG."""
    prepare_centres(build.placed, communes)


def test_every_raw_row_is_placed_or_unplaced(build, raw_rows):
    """One output row per compilation row (and per PEMR city): nothing dropped or doubled."""
    assert len(build.placed) + len(build.unplaced) == len(raw_rows)


def test_no_raw_row_silently_dropped(build, raw_rows):
    """Each compilation row is found in the registry (same page, network, hospital) or unplaced."""
    placed = set(
        zip(
            build.placed["source_url"],
            build.placed["crmr_name"],
            build.placed["establishment"],
            strict=True,
        )
    )
    unplaced = set(zip(build.unplaced["source_file"], build.unplaced["source_line"], strict=True))
    missing = [
        (r.source_file, r.source_line)
        for r in raw_rows.itertuples()
        if (r.source_file, r.source_line) not in unplaced
        and (r.source_url.strip(), r.crmr_name.strip(), r.establishment.strip()) not in placed
    ]
    assert missing == []


def test_pemr_naming_several_cities_expands(build, raw_rows):
    """A PEMR naming several cities (« Dijon; Besançon ») gives one site per city."""
    file_rows = len(read_str(RAW_DIR / "PEMR.csv"))
    city_rows = (raw_rows["source_file"] == "PEMR.csv").sum()
    out_rows = (build.placed["label"] == "pemr").sum() + (
        build.unplaced["source_file"] == "PEMR.csv"
    ).sum()
    assert out_rows == city_rows > file_rows


def test_unplaced_rows_have_a_reason(build):
    """Every unplaced row says why."""
    assert (build.unplaced["reason"].str.strip() != "").all()


def test_filiere_spellings_are_canonical(build):
    """Compilation spellings (FAI²R, Defiscience) are converted to the canonical filière."""
    assert not set(build.placed["filiere"]) & set(FILIERE_MAP)


def test_committed_build_ids_are_unique(build):
    """Every placed site has its own id."""
    assert build.placed["id"].is_unique


# --------------------------------------------------------------------------- hand-built compilation


def write_compilation(directory, filiere_rows: list[str], pemr_rows: list[str]):
    """Write a compilation directory: FILNEMUS.csv and PEMR.csv with the given data lines."""
    directory.mkdir()
    lines = "".join(f"{row}\n" for row in filiere_rows)
    (directory / "FILNEMUS.csv").write_text(f"{FILIERE_HEADER}\n{lines}", encoding="utf-8")
    lines = "".join(f"{row}\n" for row in pemr_rows)
    (directory / "PEMR.csv").write_text(f"{PEMR_HEADER}\n{lines}", encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def tiny_raw(tmp_path_factory):
    """A two-file compilation: a placeable row, a row without city, a two-city PEMR."""
    return write_compilation(
        tmp_path_factory.mktemp("tiny") / "raw",
        [
            "FILNEMUS,Centre neuromusculaire de Bourgogne,competence,CHU Dijon Bourgogne,"
            ",Dijon,,,adult,2017-2022,labellisé en 2017,https://example.org/filnemus",
            "FILNEMUS,Centre neuromusculaire GNMH,coordonnateur,Hôpital Henri Mondor,"
            ",,,,,,,https://example.org/gnmh",
        ],
        [
            "PEMR Bourgogne-Franche-Comté,pemr,CHU Dijon Bourgogne et CHU de Besançon,"
            "Dijon; Besançon,,2021,https://example.org/pemr",
        ],
    )


@pytest.fixture(scope="module")
def tiny_build(tiny_raw, communes, commune_names):
    """The build of the hand-built compilation."""
    return build_centres(tiny_raw, communes, commune_names)


def test_tiny_build_places_rows_with_a_city(tiny_build):
    """The filière row and both PEMR cities are placed at their commune."""
    placed = tiny_build.placed
    assert placed[["filiere", "label", "commune_code"]].values.tolist() == [
        ["FILNEMUS", "ccmr", "21231"],
        ["", "pemr", "21231"],
        ["", "pemr", "25056"],
    ]


def test_tiny_build_unplaces_row_without_city(tiny_build):
    """The row naming no city is unplaced, with its file line and reason."""
    unplaced = tiny_build.unplaced
    assert unplaced[["source_file", "source_line", "reason"]].values.tolist() == [
        ["FILNEMUS.csv", 3, "la source n'indique pas la ville"]
    ]


def test_tiny_build_places_at_commune_point(tiny_build, communes):
    """A placed site sits at its commune's representative point."""
    dijon = communes.set_index("code").loc["21231"]
    site = tiny_build.placed.iloc[0]
    assert (site["lon"], site["lat"]) == (round(dijon["lon"], 5), round(dijon["lat"], 5))


def test_tiny_build_fills_pemr_fields(tiny_build):
    """A PEMR gets its year as vintage, a note saying so, and an unknown age group."""
    pemr = tiny_build.placed[tiny_build.placed["label"] == "pemr"].iloc[0]
    assert (pemr["vintage"], pemr["age_group"]) == ("2021", "unknown")
    assert pemr["vintage_note"] == "plateforme labellisée en 2021"


def test_tiny_build_keeps_source_url(tiny_build):
    """Each placed site keeps the URL of the page it was read from."""
    assert tiny_build.placed["source_url"].tolist() == [
        "https://example.org/filnemus",
        "https://example.org/pemr",
        "https://example.org/pemr",
    ]


def test_ids_are_stable_between_builds(tiny_raw, tiny_build, communes, commune_names):
    """Building twice gives the same ids."""
    again = build_centres(tiny_raw, communes, commune_names)
    assert again.placed["id"].tolist() == tiny_build.placed["id"].tolist()
    assert tiny_build.placed["id"].is_unique


def test_ids_prefix_the_filiere(tiny_build):
    """An id starts with its filière's slug (« pemr » for platforms)."""
    assert [i.split("-")[0] for i in tiny_build.placed["id"]] == ["filnemus", "pemr", "pemr"]


RAW_LABELS = {
    "coordonnateur": "crmr_coordonnateur",
    "constitutif": "crmr_constitutif",
    "reference": "crmr_site",
    "competence": "ccmr",
    "crc": "crc",
    "collaborateur": "collaborateur",
}


@pytest.fixture(scope="module")
def label_build(tmp_path_factory, communes, commune_names):
    """A compilation with one Dijon row per label, an unknown label and a homonym city."""
    rows = [
        f"FILNEMUS,Réseau {raw},{raw},CHU Dijon Bourgogne,,Dijon,,,,,,https://example.org/{raw}"
        for raw in RAW_LABELS
    ]
    rows.append("FILNEMUS,Réseau X,expert,CHU Dijon Bourgogne,,Dijon,,,,,,https://example.org/x")
    rows.append("FILNEMUS,Réseau Y,competence,CH,,Saint-Martin,,,,,,https://example.org/y")
    raw = write_compilation(tmp_path_factory.mktemp("labels") / "raw", rows, [])
    return build_centres(raw, communes, commune_names)


@pytest.mark.parametrize(("raw_label", "label"), list(RAW_LABELS.items()))
def test_label_conversion(label_build, raw_label, label):
    """Compilation labels are converted to registry labels."""
    placed = label_build.placed.set_index("crmr_name")
    assert placed.at[f"Réseau {raw_label}", "label"] == label


def test_unknown_label_is_unplaced(label_build):
    """A row whose label is not recognised is unplaced, naming the label."""
    reasons = label_build.unplaced.set_index("crmr_name")["reason"]
    assert reasons["Réseau X"] == "label « expert » non reconnu"


def test_ambiguous_city_is_unplaced(label_build):
    """A homonym city without département is unplaced with the lookup's reason."""
    reasons = label_build.unplaced.set_index("crmr_name")["reason"]
    assert "« Saint-Martin » désigne plusieurs communes" in reasons["Réseau Y"]
