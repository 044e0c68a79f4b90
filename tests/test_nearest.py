"""Specification of the nearest-centre engine (geo.nearest) and its CLI (`geo nearest`)."""

from __future__ import annotations

import contextlib
import io
import json
import re

import numpy as np
import pandas as pd
import pytest

import geo.centres
import geo.nearest
import geo.territories
from geo.centres import CENTRES_ENV, FILIERES, REFERENCE_LABELS
from geo.cli_nearest import main as nearest_main
from geo.coverage import EARTH_RADIUS_KM, METRO, Selection, nearest_distances, zone_of
from geo.nearest import (
    COMPETENCE,
    LEVEL_LABELS,
    REFERENCE,
    SITE_COLUMNS,
    AmbiguousCommune,
    CommuneNotFound,
    CommuneSearch,
    EmptySelection,
    NoPosition,
    Origin,
    collapse_rounds,
    find_filiere,
    format_km,
    nearest_map,
    nearest_sites,
    nearest_view,
    query_filieres,
)

SEEDS = (7, 2024, 31337)
SAINT_DENIS_974 = "97411"
SAINT_DENIS_93 = "93066"


@pytest.fixture(scope="module")
def search(commune_names, communes):
    """The commune search index over the embedded tables."""
    return CommuneSearch(commune_names, communes)


def haversine(lon1, lat1, lon2, lat2):
    """Great-circle km on the project's sphere, written here (not imported) as the reference."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def brute_force(centres, origin: Origin, filieres, level: str, in_zone: bool, n: int):
    """Distances (sorted) and ids of the n nearest sites of one group, by exhaustive haversine."""
    sites = collapse_rounds(Selection(filieres=tuple(filieres)).sites(centres))
    sites = sites[sites["label"].isin(LEVEL_LABELS[level])]
    zones = zone_of(sites["dep"])
    sites = sites[(zones == origin.zone) if in_zone else (zones == METRO)]
    d = haversine(origin.lon, origin.lat, sites["lon"].to_numpy(), sites["lat"].to_numpy())
    order = np.argsort(d, kind="stable")[:n]
    return d[order], sites["id"].to_numpy()[order], np.sort(d)


def make_site(id_, label, dep, lon, lat, filiere="FILNEMUS", establishment="CHU", **extra):
    """One registry row (hand-built; commune = département code + 001)."""
    row = {
        "id": id_,
        "filiere": filiere,
        "crmr_name": extra.pop("crmr_name", "Réseau A"),
        "label": label,
        "establishment": establishment,
        "service": extra.pop("service", ""),
        "commune_code": f"{dep}001",
        "commune": f"Commune {dep}",
        "dep": dep,
        "lon": lon,
        "lat": lat,
        "vintage": extra.pop("vintage", "2017-2022"),
        "source_url": "https://example.org",
    }
    row.update(extra)
    return row


# --------------------------------------------------------------------------- nearest vs brute force


@pytest.mark.parametrize("seed", SEEDS)
def test_nearest_sites_match_brute_force_haversine(seed, centres, communes):
    """On random communes and filières, each group holds the n nearest sites by exact haversine."""
    rng = np.random.default_rng(seed)
    placed = communes[communes["lon"].notna()]
    overseas = placed[placed["dep"].str.startswith("97")]
    picks = pd.concat([placed.sample(24, random_state=seed), overseas.sample(6, random_state=seed)])
    filieres = [f for f in FILIERES if f in set(centres["filiere"])]
    checked = 0
    for row in picks.itertuples(index=False):
        origin = Origin(row.code, row.name, row.dep, row.lon, row.lat)
        chosen = tuple(rng.choice(filieres, size=rng.integers(1, 3), replace=False))
        n = int(rng.integers(1, 6))
        result = nearest_sites(centres, origin, chosen, n=n)
        for level, in_zone in result.sections:
            got = result.section(level, in_zone)
            want_d, want_ids, all_d = brute_force(centres, origin, chosen, level, in_zone, n)
            np.testing.assert_allclose(got["distance_km"], want_d, rtol=0, atol=1e-6)
            assert got["rank"].tolist() == list(range(1, len(got) + 1))
            # ids agree unless the n-th and (n+1)-th sites are equally far (several per point)
            if len(all_d) <= n or all_d[n] - all_d[n - 1] > 1e-6:
                assert set(got["id"]) == set(want_ids)
            checked += len(got)
    assert checked > 100


@pytest.mark.parametrize("level", [REFERENCE, COMPETENCE])
def test_first_distance_agrees_with_the_kd_tree_engine(level, centres, communes):
    """Rank 1 of each in-zone group equals geo.coverage's KD-tree nearest distance."""
    sample = communes[communes["lon"].notna()].sample(80, random_state=1)
    selection = Selection(filieres=("FILNEMUS", "TETECOU"), labels=LEVEL_LABELS[level])
    kd = nearest_distances(sample, selection.sites(centres))
    for row, expected in zip(sample.itertuples(index=False), kd, strict=True):
        origin = Origin(row.code, row.name, row.dep, row.lon, row.lat)
        got = nearest_sites(centres, origin, ("FILNEMUS", "TETECOU"), n=1).section(level)
        if np.isinf(expected):
            assert got.empty
        else:
            assert got["distance_km"].iloc[0] == pytest.approx(expected, abs=1e-6)


def test_result_frame_has_the_documented_columns(centres, communes):
    """Columns, order of groups (reference then competence) and great-circle km."""
    origin = Origin.from_commune(communes, "69123")  # Lyon
    result = nearest_sites(centres, origin, ["FILNEMUS"], n=2)
    assert tuple(result.sites.columns) == SITE_COLUMNS
    assert result.sections == ((REFERENCE, True), (COMPETENCE, True))
    assert result.sites["level"].tolist() == [REFERENCE] * 2 + [COMPETENCE] * 2
    assert result.sites["in_zone"].all()
    assert set(result.section(REFERENCE)["label"]) <= set(REFERENCE_LABELS)
    assert set(result.section(COMPETENCE)["label"]) <= {"ccmr", "crc"}
    record = result.records()[0]
    assert {"id", "establishment", "label", "commune_code", "distance_km", "level", "in_zone"} <= (
        set(record)
    )
    assert record["distance_km"] == round(result.sites["distance_km"].iloc[0], 2)


# --------------------------------------------------------------------------- overseas rule


def test_reunion_commune_gets_reunion_sites_first_then_mainland_reference(centres, communes):
    """Saint-Pierre (974), RespiFIL: its CCMR in La Réunion, then mainland reference sites."""
    origin = Origin.from_commune(communes, "97416")
    result = nearest_sites(centres, origin, ["RespiFIL"], n=3)
    assert result.sections == ((REFERENCE, True), (COMPETENCE, True), (REFERENCE, False))
    local = result.sites[result.sites["in_zone"]]
    assert not local.empty and set(local["dep"]) == {"974"}
    mainland = result.section(REFERENCE, in_zone=False)
    assert len(mainland) == 3
    assert not mainland["dep"].str.startswith("97").any()
    assert (mainland["distance_km"] > 9000).all()
    # in-zone groups come first in the frame
    assert result.sites["in_zone"].tolist() == sorted(result.sites["in_zone"], reverse=True)


def test_overseas_rule_on_a_hand_built_registry():
    """A Réunion resident: local sites by level, then mainland reference; never another DROM."""
    sites = pd.DataFrame(
        [
            make_site("run-ccmr", "ccmr", "974", 55.48, -21.34),
            make_site("gp-ref", "crmr_coordonnateur", "971", -61.53, 16.24),
            make_site("paris-ref", "crmr_coordonnateur", "75", 2.35, 48.86),
            make_site("lyon-ref", "crmr_constitutif", "69", 4.84, 45.76),
            make_site("lyon-ccmr", "ccmr", "69", 4.84, 45.76),
        ]
    )
    origin = Origin("97411", "Saint-Denis", "974", 55.45, -20.88)
    result = nearest_sites(sites, origin, ["FILNEMUS"], n=5)
    assert result.section(REFERENCE, True).empty
    assert result.section(COMPETENCE, True)["id"].tolist() == ["run-ccmr"]
    assert result.section(REFERENCE, False)["id"].tolist() == ["lyon-ref", "paris-ref"]
    assert "gp-ref" not in set(result.sites["id"]) and "lyon-ccmr" not in set(result.sites["id"])
    assert result.section(REFERENCE, False)["in_zone"].eq(False).all()


def test_metropolitan_commune_never_gets_overseas_sites(centres, communes):
    """Corsica belongs to metropolitan France: Ajaccio gets mainland sites, no DROM site."""
    origin = Origin.from_commune(communes, "2A004")
    assert not origin.overseas and origin.territory == "métropole"
    result = nearest_sites(centres, origin, ["TETECOU", "RespiFIL"], n=10)
    assert result.sites["in_zone"].all()
    assert not result.sites["dep"].str.startswith("97").any()


# --------------------------------------------------------------------------- ties, rounds, checks


def test_ties_are_broken_by_label_establishment_and_id():
    """Sites at one point: coordonnateur before constitutif, then establishment, then id."""
    sites = pd.DataFrame(
        [
            make_site("b", "crmr_constitutif", "75", 2.35, 48.86, establishment="Necker"),
            make_site("c", "crmr_constitutif", "75", 2.35, 48.86, establishment="Bichat"),
            make_site("a", "crmr_coordonnateur", "75", 2.35, 48.86, establishment="Pitié"),
            make_site("d", "crmr_site", "75", 2.35, 48.86, establishment="Bichat"),
        ]
    )
    origin = Origin("92012", "Boulogne", "92", 2.24, 48.84)
    for _ in range(3):
        ids = nearest_sites(sites.sample(frac=1), origin, ["FILNEMUS"], n=4).sites["id"]
        assert ids.tolist() == ["a", "c", "b", "d"]


def test_a_site_listed_in_several_rounds_is_shown_once_under_the_latest():
    """Same network, establishment, service, commune and label: one row, every round listed."""
    sites = pd.DataFrame(
        [
            make_site("old", "crmr_coordonnateur", "59", 3.06, 50.63, vintage="before-2017"),
            make_site("new", "crmr_coordonnateur", "59", 3.06, 50.63, vintage="2017-2022"),
            make_site("x", "crmr_coordonnateur", "59", 3.06, 50.63, vintage="unknown"),
        ]
    )
    out = collapse_rounds(sites)
    assert out["id"].tolist() == ["new"]
    assert out["vintages"].iloc[0] == "2017-2022, before-2017, unknown"
    assert len(sites) == 3  # the caller's frame is untouched


def test_vintage_restricts_the_rows(centres, communes):
    """A round keeps only its rows; empty = every loaded row."""
    origin = Origin.from_commune(communes, "69123")
    only = nearest_sites(centres, origin, ["FILNEMUS"], n=10, vintages=["2023-2028"])
    assert set(only.sites["vintage"]) <= {"2023-2028"}


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"filieres": []}, EmptySelection, "aucune filière"),
        ({"filieres": ["NOPE"]}, ValueError, "filieres must be"),
        ({"n": 0}, ValueError, "n must be between"),
        ({"n": 11}, ValueError, "n must be between"),
        ({"n": "3"}, TypeError, "n must be an int"),
        ({"n": True}, TypeError, "n must be an int"),
    ],
)
def test_nearest_sites_validates_its_arguments(kwargs, error, match):
    """Bad arguments raise, naming the argument."""
    args = {"filieres": ["FILNEMUS"], "n": 3} | kwargs
    origin = Origin("75056", "Paris", "75", 2.35, 48.86)
    with pytest.raises(error, match=match):
        nearest_sites(pd.DataFrame([make_site("a", "ccmr", "75", 2.3, 48.8)]), origin, **args)


def test_commune_without_position_is_reported(communes):
    """Celles (15031) has no point in the data: NoPosition says to choose a neighbour."""
    with pytest.raises(NoPosition, match="commune voisine"):
        Origin.from_commune(communes, "15031")
    with pytest.raises(CommuneNotFound):
        Origin.from_commune(communes, "00000")


# --------------------------------------------------------------------------- commune search


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("97400", SAINT_DENIS_974),
        ("Saint-Denis (974)", SAINT_DENIS_974),
        ("saint denis (93)", SAINT_DENIS_93),
        ("Saint-Denis (974) – 97400, 97417, 97490", SAINT_DENIS_974),
        ("93200", SAINT_DENIS_93),
        ("75015", "75056"),
        ("13008", "13055"),
        ("Paris", "75056"),
        ("montpellier", "34172"),
        ("EVRY-COURCOURONNES", "91228"),
        ("St-Étienne", "42218"),
        ("Cherbourg-Octeville", "50129"),
    ],
)
def test_resolve_names_and_postal_codes(search, text, code):
    """A postal code, a name (accents/case optional) or ``Nom (dép.)`` resolves to one commune."""
    assert search.resolve(text).code == code


def test_homonyms_are_ambiguous_with_every_candidate(search):
    """ "Saint-Denis" names four communes: no guess, all listed with their codes."""
    with pytest.raises(AmbiguousCommune) as info:
        search.resolve("Saint-Denis")
    codes = {c.code for c in info.value.candidates}
    assert {SAINT_DENIS_974, SAINT_DENIS_93, "11339", "30247"} == codes
    message = str(info.value)
    assert "désigne 4 communes" in message and "Saint-Denis (974" in message
    assert "Précisez le département" in message


def test_shared_postal_code_is_ambiguous(search):
    """01400 serves ten communes: the error lists them and asks for the name."""
    with pytest.raises(AmbiguousCommune, match="partagé par 10 communes"):
        search.resolve("01400")


@pytest.mark.parametrize(("text", "suggested"), [("Montpelier", "34172"), ("Strasbour", "67482")])
def test_unknown_name_suggests_close_communes(search, text, suggested):
    """A misspelt name is not found but the right commune is suggested."""
    with pytest.raises(CommuneNotFound, match="Vouliez-vous dire") as info:
        search.resolve(text)
    assert suggested in {c.code for c in info.value.suggestions}


def test_search_lists_exact_then_prefix_matches(search):
    """Search (the page): exact homonyms by population, then longer names; accents optional."""
    found = search.search("Saint-Denis", limit=20)
    assert [m.code for m in found[:4]] == [SAINT_DENIS_974, SAINT_DENIS_93, "11339", "30247"]
    assert all(m.name.startswith("Saint-Denis") for m in found)
    assert search.pick("Saint-Denis", found) is None
    evry = search.search("evry")
    assert "91228" in {m.code for m in evry}
    assert search.search("97400")[0].label() == "Saint-Denis (974) – 97400"
    assert search.pick("lyon", search.search("lyon")).code == "69123"
    assert search.search("") == [] and search.search("zzzzqqq") == []


def test_search_labels_round_trip(search):
    """Each label ``Nom (dép.) – CP`` typed back finds the same commune first."""
    for text in ("Saint-Denis", "Mont", "Sainte-Marie", "974"):
        for match in search.search(text, limit=10):
            again = search.search(match.label(), limit=5)
            assert again[0].code == match.code, match.label()


# --------------------------------------------------------------------------- what is looked for


@pytest.mark.parametrize(
    ("mode", "value", "filieres"),
    [
        ("filiere", "filnemus", ("FILNEMUS",)),
        ("filiere", "Defiscience", ("DéfiScience",)),
        ("filiere", "nope", ()),
        ("group", "10", ("FILNEMUS",)),
        ("group", 7, ("MaRIH", "MCGRE", "MHEMO")),
        ("group", "17", ()),
        ("group", "99", ()),
        ("keyword", "mucoviscidose", ("MUCO-CFTR",)),
        ("keyword", "zzz", ()),
    ],
)
def test_query_filieres(mode, value, filieres):
    """A filière (any case), a group of the 2007 typology, or a keyword gives the filières."""
    assert query_filieres(mode, value).filieres == filieres


def test_find_filiere_and_unknown_mode():
    assert find_filiere("FAI²R") == "FAI2R" and find_filiere("muco cftr") == "MUCO-CFTR"
    with pytest.raises(ValueError, match="mode must be one of"):
        query_filieres("network", "x")


# --------------------------------------------------------------------------- map


def map_features(m) -> dict[str, list[dict]]:
    """GeoJSON features of a folium map by geometry type (what Leaflet will draw)."""
    import folium

    out: dict[str, list[dict]] = {}

    def walk(element) -> None:
        for child in element._children.values():
            if isinstance(child, folium.GeoJson):
                for feature in child.data["features"]:
                    out.setdefault(feature["geometry"]["type"], []).append(feature)
            walk(child)

    walk(m)
    return out


def test_map_escapes_data_and_draws_a_line_to_each_site():
    """Texts are escaped and travel as JSON data; one line per site; no CDN, no jQuery."""
    hostile = "<img src=x onerror=alert(1)> ${alert(2)} `x`"
    sites = pd.DataFrame(
        [
            make_site("a", "crmr_coordonnateur", "75", 2.35, 48.86, establishment=hostile),
            make_site("b", "ccmr", "69", 4.84, 45.76, service="<b>svc</b>"),
            make_site("c", "ccmr", "69", 4.84, 45.76, crmr_name="R&D <network>"),
        ]
    )
    origin = Origin("21231", "Dijon <x>", "21", 5.04, 47.32)
    result = nearest_sites(sites, origin, ["FILNEMUS"], n=3)
    m = nearest_map(result)
    features = map_features(m)
    assert len(features["LineString"]) == len(result.sites) == 3
    assert len(features["Point"]) == 3  # 2 places (Lyon's two sites share one) + the commune
    texts = " ".join(
        str(f["properties"].get(k, ""))
        for fs in features.values()
        for f in fs
        for k in ("popup", "tip")
    )
    assert "&lt;img src=x onerror=alert(1)&gt;" in texts and "<img" not in texts
    assert "&lt;b&gt;svc&lt;/b&gt;" in texts and "R&amp;D &lt;network&gt;" in texts
    assert "Dijon &lt;x&gt;" in texts
    page = m.get_root().render()
    assert "<img src=x" not in page and "<b>svc" not in page
    # folium's Tooltip/Popup would put text in a JS template literal (and need jQuery)
    assert "L.popup(" not in page and "$(`" not in page
    assert re.search(r"bindTooltip\(\s*`", page) is None
    assert "cdn.jsdelivr" not in page and "unpkg.com" not in page


def test_map_of_an_overseas_result_dashes_mainland_lines(centres, communes):
    """Lines to mainland sites are dashed; the view fits the territory, not the mainland."""
    origin = Origin.from_commune(communes, "97416")
    result = nearest_sites(centres, origin, ["RespiFIL"], n=2)
    m = nearest_map(result, decimal=".")
    dashed = [f for f in map_features(m)["LineString"] if f["properties"]["dashed"]]
    assert len(dashed) == len(result.section(REFERENCE, False)) == 2
    (lat, lon), zoom = nearest_view(result)
    assert -21.5 < lat < -20.8 and 55.2 < lon < 55.9 and zoom >= 8


def test_view_fits_the_commune_and_its_sites():
    """The view holds the commune and every in-zone site; a lone commune gets a close zoom."""
    sites = pd.DataFrame(
        [
            make_site("a", "crmr_coordonnateur", "75", 2.35, 48.86),
            make_site("b", "ccmr", "13", 5.37, 43.30),
        ]
    )
    origin = Origin("69123", "Lyon", "69", 4.84, 45.76)
    (lat, lon), zoom = nearest_view(nearest_sites(sites, origin, ["FILNEMUS"], n=3))
    assert 43.3 < lat < 48.86 and 2.35 < lon < 5.37
    assert 5 <= zoom <= 7  # ~600 km north-south in 460 px
    alone = nearest_sites(sites.iloc[:0], origin, ["FILNEMUS"], n=3)
    assert nearest_view(alone) == ((45.76, 4.84), 11.0)


@pytest.mark.parametrize(
    ("km", "text"), [(0.0, "0,0"), (9.94, "9,9"), (12.4, "12"), (9319.6, "9320")]
)
def test_format_km(km, text):
    assert format_km(km) == text


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def cli(monkeypatch, communes, commune_names, centres, search):
    """Run ``python -m geo nearest`` in-process on the session's loaded data."""
    monkeypatch.delenv(CENTRES_ENV, raising=False)
    monkeypatch.setattr(geo.territories, "load_communes", lambda data_dir=None: communes)
    monkeypatch.setattr(geo.territories, "load_commune_names", lambda data_dir=None: commune_names)
    monkeypatch.setattr(geo.centres, "load_centres", lambda path=None, communes=None: centres)
    monkeypatch.setattr(geo.nearest, "CommuneSearch", lambda names, communes: search)

    def run(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = nearest_main(["nearest", *argv])
        return code, out.getvalue(), err.getvalue()

    return run


def test_cli_json_lists_sites_with_distances(cli, centres, communes):
    """JSON: a list of sites (id, establishment, label, commune code, distance_km, level…)."""
    code, out, err = cli("--commune", "97400", "--keyword", "poumon", "--n", "2")
    assert code == 0, err
    sites = json.loads(out)
    assert {"id", "establishment", "label", "commune_code", "distance_km", "level", "in_zone"} <= (
        set(sites[0])
    )
    assert "Saint-Denis (974" in err and "RespiFIL" in err
    origin = Origin.from_commune(communes, SAINT_DENIS_974)
    expected = nearest_sites(centres, origin, ["RespiFIL"], n=2).records()
    assert sites == expected
    assert [s["in_zone"] for s in sites if s["level"] == "reference"] == [False, False]


def test_cli_ambiguous_commune_exits_2_listing_candidates(cli):
    """An ambiguous name exits 2; the candidates are listed in French on stderr."""
    code, out, err = cli("--commune", "Saint-Denis", "--filiere", "FILNEMUS")
    assert code == 2 and out == ""
    assert err.startswith("erreur : « Saint-Denis » désigne 4 communes")
    assert "97411" in err and "93066" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--commune", "Lyon", "--keyword", "zzz"], "aucun mot-clé ne correspond"),
        (["--commune", "Lyon", "--group", "17"], "ne contient aucune filière"),
        (["--commune", "Lyon", "--filiere", "NOPE"], "filière inconnue"),
        (["--commune", "Lyon", "--filiere", "OSCAR", "--n", "0"], "--n doit être entre"),
        (["--commune", "Lyon", "--filiere", "OSCAR", "--vintage", "1999"], "millésime absent"),
        (["--commune", "Montpelier", "--filiere", "OSCAR"], "Vouliez-vous dire"),
    ],
)
def test_cli_errors_exit_2_in_french(cli, argv, message):
    code, _out, err = cli(*argv)
    assert code == 2 and message in err


def test_cli_csv(cli):
    """CSV: one row per site, the JSON's columns."""
    code, out, _err = cli("--commune", "Montpellier", "--group", "13", "--format", "csv")
    assert code == 0
    frame = pd.read_csv(io.StringIO(out), dtype=str)
    assert {"id", "distance_km", "level", "in_zone"} <= set(frame.columns)
    assert set(frame["filiere"]) == {"ORKiD"}
