"""Specification of the coverage measures (geo.coverage): distances, summaries, E2SFCA, gaps."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from geo.coverage import (
    EARTH_RADIUS_KM,
    METRO,
    DistanceTable,
    NearestIndex,
    Selection,
    chord_to_km,
    compute_gaps,
    decay_weight,
    distance_summary,
    e2sfca,
    filiere_matrix,
    haversine_km,
    nearest_distances,
    sites_per_departement,
    territory_counts,
    unit_vectors,
    weighted_quantile,
)
from geo.territories import OVERSEAS

R = EARTH_RADIUS_KM
PARIS = (2.3522, 48.8566)
LYON = (4.8357, 45.7640)
MARSEILLE = (5.3698, 43.2965)
AJACCIO = (8.7369, 41.9192)
SAINT_DENIS_REUNION = (55.4504, -20.8789)
SAINT_PIERRE_REUNION = (55.4781, -21.3393)
#: Metropolitan France's bounding box (lon_min, lat_min, lon_max, lat_max).
METRO_BBOX = (-5.3, 41.3, 9.7, 51.2)


# --------------------------------------------------------------------------- hand-built frames


def make_communes(rows: list[tuple]) -> pd.DataFrame:
    """Communes frame from (code, dep, reg, population, lon, lat) tuples."""
    frame = pd.DataFrame(rows, columns=["code", "dep", "reg", "population", "lon", "lat"])
    frame.insert(1, "name", "Commune " + frame["code"])
    return frame[["code", "name", "dep", "reg", "population", "lon", "lat"]]


def make_sites(rows: list[tuple]) -> pd.DataFrame:
    """Registry frame from (id, filiere, crmr_name, label, vintage, dep, lon, lat) tuples."""
    frame = pd.DataFrame(
        rows, columns=["id", "filiere", "crmr_name", "label", "vintage", "dep", "lon", "lat"]
    )
    frame["commune_code"] = frame["dep"] + "001"
    return frame[
        ["id", "filiere", "crmr_name", "label", "lon", "lat", "dep", "vintage", "commune_code"]
    ]


@pytest.fixture
def tiny_communes() -> pd.DataFrame:
    """Paris, Lyon, Marseille, a Cantal commune without point, Saint-Denis (974), Ajaccio (2A)."""
    return make_communes(
        [
            ("75056", "75", "11", 100, *PARIS),
            ("69123", "69", "84", 50, *LYON),
            ("13055", "13", "93", 30, *MARSEILLE),
            ("15031", "15", "84", 7, np.nan, np.nan),
            ("97411", "974", "04", 40, *SAINT_DENIS_REUNION),
            ("2A004", "2A", "94", 20, *AJACCIO),
        ]
    )


@pytest.fixture
def tiny_sites() -> pd.DataFrame:
    """Mainland sites only: Paris and Lyon (FILNEMUS), Marseille (MHEMO)."""
    return make_sites(
        [
            ("s1", "FILNEMUS", "Nmd", "crmr_coordonnateur", "2023-2028", "75", *PARIS),
            ("s2", "FILNEMUS", "Nmd", "ccmr", "2017-2022", "69", *LYON),
            ("s3", "MHEMO", "Hemo", "crmr_site", "2023-2028", "13", *MARSEILLE),
        ]
    )


def brute_force_km(communes: pd.DataFrame, sites: pd.DataFrame) -> np.ndarray:
    """Min haversine over the sites of the commune's zone (own DROM, else mainland + Corsica)."""

    def zone(dep: str) -> str:
        return dep if dep in OVERSEAS else METRO

    out = []
    for c in communes.itertuples():
        if np.isnan(c.lon):
            out.append(np.nan)
            continue
        same = sites[[zone(d) == zone(c.dep) for d in sites["dep"]]]
        d = haversine_km(c.lon, c.lat, same["lon"].to_numpy(), same["lat"].to_numpy())
        out.append(float(np.min(d)) if len(same) else np.inf)
    return np.array(out)


def table_engine(communes, sites, corsica_separate=False):
    """nearest_km of a DistanceTable built for ``sites``, over all of them."""
    return DistanceTable.from_frames(communes, sites, corsica_separate).nearest_km(sites.index)


ENGINES = pytest.mark.parametrize(
    "engine", [nearest_distances, table_engine], ids=["kdtree", "table"]
)


# --------------------------------------------------------------------------- geometry


def test_haversine_paris_lyon():
    """Paris–Lyon is 391.5 km on the sphere."""
    assert float(haversine_km(*PARIS, *LYON)) == pytest.approx(391.5, abs=0.01)


def test_haversine_one_degree_of_longitude_at_equator():
    """One degree of longitude on the equator is 2πR/360 km."""
    assert float(haversine_km(0, 0, 1, 0)) == pytest.approx(2 * math.pi * R / 360, rel=1e-12)


def test_haversine_pole_to_equator():
    """A pole is πR/2 km from any point of the equator."""
    assert float(haversine_km(17.0, 90, -40.0, 0)) == pytest.approx(math.pi * R / 2, rel=1e-12)


def test_haversine_is_symmetric_and_zero_on_the_diagonal():
    """d(a, b) = d(b, a) and d(a, a) = 0."""
    assert float(haversine_km(*PARIS, *LYON)) == pytest.approx(
        float(haversine_km(*LYON, *PARIS)), abs=1e-9
    )
    assert float(haversine_km(*PARIS, *PARIS)) == 0.0


def test_haversine_broadcasts():
    """One point against an array of points gives an array of distances."""
    d = haversine_km(PARIS[0], PARIS[1], np.array([LYON[0], PARIS[0]]), np.array([LYON[1], 90]))
    assert d.shape == (2,)
    assert d[0] == pytest.approx(391.5, abs=0.01)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_chord_to_km_agrees_with_haversine(seed):
    """The great-circle km of the chord between unit vectors equals the haversine distance."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-180, 180, (2, 500))
    lat = rng.uniform(-90, 90, (2, 500))
    chord = np.linalg.norm(unit_vectors(lon[0], lat[0]) - unit_vectors(lon[1], lat[1]), axis=1)
    np.testing.assert_allclose(
        chord_to_km(chord), haversine_km(lon[0], lat[0], lon[1], lat[1]), rtol=0, atol=1e-6
    )


def test_chord_of_antipodes_is_half_the_circumference():
    """A chord of 2 (antipodes) is πR km."""
    assert float(chord_to_km(2.0)) == pytest.approx(math.pi * R, rel=1e-12)


# --------------------------------------------------------------------------- NearestIndex


def random_points(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n uniform (lon, lat) points in metropolitan France's bounding box."""
    x0, y0, x1, y1 = METRO_BBOX
    return rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)


@pytest.mark.parametrize("seed", [0, 1, 7, 2024])
def test_nearest_index_matches_brute_force(seed):
    """k=1: distance and index of the nearest of 200 random sites, for 2,000 random points."""
    rng = np.random.default_rng(seed)
    s_lon, s_lat = random_points(rng, 200)
    p_lon, p_lat = random_points(rng, 2000)
    index = NearestIndex(s_lon, s_lat, np.full(200, METRO, dtype=object))
    dist, ids = index.query(p_lon, p_lat, np.full(2000, METRO, dtype=object))
    brute = haversine_km(p_lon[:, None], p_lat[:, None], s_lon[None, :], s_lat[None, :])
    assert dist.shape == ids.shape == (2000,)
    np.testing.assert_allclose(dist, brute.min(axis=1), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(ids, brute.argmin(axis=1))


@pytest.mark.parametrize("seed", [3, 11])
def test_nearest_index_k3_matches_brute_force(seed):
    """k=3: the three nearest sites, nearest first, with their indices."""
    rng = np.random.default_rng(seed)
    s_lon, s_lat = random_points(rng, 200)
    p_lon, p_lat = random_points(rng, 2000)
    index = NearestIndex(s_lon, s_lat, np.full(200, METRO, dtype=object))
    dist, ids = index.query(p_lon, p_lat, np.full(2000, METRO, dtype=object), k=3)
    brute = haversine_km(p_lon[:, None], p_lat[:, None], s_lon[None, :], s_lat[None, :])
    order = np.argsort(brute, axis=1)[:, :3]
    assert dist.shape == ids.shape == (2000, 3)
    np.testing.assert_allclose(dist, np.take_along_axis(brute, order, axis=1), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(ids, order)


def test_nearest_index_zone_without_site_is_inf():
    """A point in zone 974 with sites only in the metropole gets inf and index -1."""
    index = NearestIndex(
        np.array([PARIS[0], LYON[0]]), np.array([PARIS[1], LYON[1]]), np.array([METRO, METRO])
    )
    dist, ids = index.query(
        np.array([SAINT_DENIS_REUNION[0], MARSEILLE[0]]),
        np.array([SAINT_DENIS_REUNION[1], MARSEILLE[1]]),
        np.array(["974", METRO], dtype=object),
    )
    assert dist[0] == np.inf
    assert ids[0] == -1
    assert dist[1] == pytest.approx(float(haversine_km(*MARSEILLE, *LYON)), abs=1e-6)
    assert ids[1] == 1


def test_nearest_index_only_searches_the_points_zone():
    """A site of another zone is ignored even when it is nearer."""
    # Site 0 sits at Saint-Denis but is (artificially) metropolitan; site 1 is in 974.
    index = NearestIndex(
        np.array([SAINT_DENIS_REUNION[0], SAINT_PIERRE_REUNION[0]]),
        np.array([SAINT_DENIS_REUNION[1], SAINT_PIERRE_REUNION[1]]),
        np.array([METRO, "974"], dtype=object),
    )
    dist, ids = index.query(
        np.array([SAINT_DENIS_REUNION[0]]),
        np.array([SAINT_DENIS_REUNION[1]]),
        np.array(["974"], dtype=object),
    )
    assert ids[0] == 1
    assert dist[0] == pytest.approx(
        float(haversine_km(*SAINT_DENIS_REUNION, *SAINT_PIERRE_REUNION)), abs=1e-6
    )


def test_nearest_index_k_beyond_the_zones_sites_pads_with_inf():
    """With k=3 and 2 sites in the zone, the third neighbour is inf with index -1."""
    index = NearestIndex(
        np.array([PARIS[0], LYON[0]]), np.array([PARIS[1], LYON[1]]), np.array([METRO, METRO])
    )
    dist, ids = index.query(
        np.array([PARIS[0]]), np.array([PARIS[1]]), np.array([METRO], dtype=object), k=3
    )
    assert dist[0, 0] == pytest.approx(0.0, abs=1e-6)
    assert dist[0, 1] == pytest.approx(391.5, abs=0.01)
    assert dist[0, 2] == np.inf
    np.testing.assert_array_equal(ids[0], [0, 1, -1])


# --------------------------------------------------------------------------- nearest distances


def test_nearest_distances_matches_brute_force(tiny_communes, tiny_sites):
    """KD-tree distances equal the brute-force minimum over the zone's sites."""
    np.testing.assert_allclose(
        nearest_distances(tiny_communes, tiny_sites),
        brute_force_km(tiny_communes, tiny_sites),
        rtol=0,
        atol=1e-6,
    )


def test_distance_table_matches_nearest_distances(tiny_communes, tiny_sites):
    """DistanceTable.nearest_km equals nearest_distances (float32 table: within 1 m)."""
    np.testing.assert_allclose(
        table_engine(tiny_communes, tiny_sites),
        nearest_distances(tiny_communes, tiny_sites),
        rtol=0,
        atol=1e-3,
    )


@pytest.mark.parametrize("subset", [["s1"], ["s2", "s3"], ["s3"]])
def test_distance_table_selection_matches_brute_force(tiny_communes, tiny_sites, subset):
    """nearest_km of a subset of the registry is the brute-force distance to that subset."""
    table = DistanceTable.from_frames(tiny_communes, tiny_sites)
    chosen = tiny_sites[tiny_sites["id"].isin(subset)]
    np.testing.assert_allclose(
        table.nearest_km(chosen.index), brute_force_km(tiny_communes, chosen), rtol=0, atol=1e-3
    )


def test_distance_table_has_one_column_per_distinct_location(tiny_communes, tiny_sites):
    """Two sites at the same point share one location column."""
    sites = pd.concat(
        [tiny_sites, make_sites([("s4", "MHEMO", "Hemo", "ccmr", "2023-2028", "75", *PARIS)])],
        ignore_index=True,
    )
    table = DistanceTable.from_frames(tiny_communes, sites)
    assert table.km.shape == (len(tiny_communes), 3)
    assert table.location_of_site[0] == table.location_of_site[3]


@ENGINES
def test_commune_without_point_is_nan(engine, tiny_communes, tiny_sites):
    """A commune without coordinates has a NaN distance."""
    d = engine(tiny_communes, tiny_sites)
    assert np.isnan(d[tiny_communes["code"] == "15031"]).all()
    assert np.isfinite(d[tiny_communes["dep"].isin(["75", "69", "13"])]).all()


@ENGINES
def test_drom_commune_without_site_in_its_territory_is_inf(engine, tiny_communes, tiny_sites):
    """A Réunion commune gets inf when only mainland sites exist."""
    d = engine(tiny_communes, tiny_sites)
    assert d[(tiny_communes["dep"] == "974").to_numpy()][0] == np.inf


@ENGINES
def test_drom_commune_uses_only_its_territorys_sites(engine, tiny_communes, tiny_sites):
    """With a site in 974, the Réunion commune's distance is to that site, not to the mainland."""
    sites = pd.concat(
        [
            tiny_sites,
            make_sites(
                [("s9", "MHEMO", "Hemo", "ccmr", "2023-2028", "974", *SAINT_PIERRE_REUNION)]
            ),
        ],
        ignore_index=True,
    )
    d = engine(tiny_communes, sites)[(tiny_communes["dep"] == "974").to_numpy()][0]
    assert d == pytest.approx(
        float(haversine_km(*SAINT_DENIS_REUNION, *SAINT_PIERRE_REUNION)), abs=1e-3
    )


@ENGINES
@pytest.mark.parametrize("corsica_separate", [True, False])
def test_corsica_separate(engine, tiny_communes, tiny_sites, corsica_separate):
    """Ajaccio (2A) with mainland sites only: inf when Corsica is separate, else to Marseille."""
    d = engine(tiny_communes, tiny_sites, corsica_separate=corsica_separate)
    ajaccio = d[(tiny_communes["dep"] == "2A").to_numpy()][0]
    if corsica_separate:
        assert ajaccio == np.inf
    else:
        assert ajaccio == pytest.approx(float(haversine_km(*AJACCIO, *MARSEILLE)), abs=1e-3)


@ENGINES
def test_no_site_at_all_is_inf_everywhere_with_a_point(engine, tiny_communes, tiny_sites):
    """An empty selection: inf for every commune with a point, NaN for the others."""
    empty = tiny_sites.iloc[:0]
    if engine is table_engine:
        d = DistanceTable.from_frames(tiny_communes, tiny_sites).nearest_km(empty.index)
    else:
        d = engine(tiny_communes, empty)
    has_point = tiny_communes["lon"].notna().to_numpy()
    assert np.isinf(d[has_point]).all()
    assert np.isnan(d[~has_point]).all()


def test_reunion_counts_beyond_every_threshold(tiny_communes, tiny_sites):
    """Overseas rule: a Réunion commune without a site in 974 counts beyond every threshold."""
    d = nearest_distances(tiny_communes, tiny_sites)
    national, per = distance_summary(tiny_communes, d, (50.0, 100.0, 10_000.0))
    assert per.loc["974", ["beyond_50", "beyond_100", "beyond_10000"]].tolist() == [40, 40, 40]
    # 10,000 km is beyond every mainland distance: only Réunion's 40 people count there.
    assert national["population_beyond_km"]["10000"] == 40
    assert pd.isna(per.loc["974", "median_km"])
    assert pd.isna(per.loc["974", "p90_km"])


# --------------------------------------------------------------------------- weighted_quantile


@pytest.mark.parametrize(
    ("values", "weights", "q", "expected"),
    [
        # cum weights 1,2,3,4 ; q·total = 2 → first cum ≥ 2 → 20
        ([10, 20, 30, 40], [1, 1, 1, 1], 0.5, 20.0),
        # q·total = 3 → 30
        ([10, 20, 30, 40], [1, 1, 1, 1], 0.75, 30.0),
        # q·total = 3.6 → 40
        ([10, 20, 30, 40], [1, 1, 1, 1], 0.9, 40.0),
        # unsorted: sorted 10(2), 20(1), 30(1) ; cum 2,3,4 ; q·total = 2 → 10
        ([30, 10, 20], [1, 2, 1], 0.5, 10.0),
        # heavy weight: 5(1), 7(8), 9(1) ; cum 1,9,10 ; q·total = 9 → 7
        ([5, 7, 9], [1, 8, 1], 0.9, 7.0),
        # inf allowed: 5(1), inf(2) ; cum 1,3 ; q·total = 1.5 → inf
        ([5, np.inf, np.inf], [1, 1, 1], 0.5, np.inf),
        # inf allowed: q·total = 0.9 → 5
        ([5, np.inf, np.inf], [1, 1, 1], 0.3, 5.0),
        # zero weight ignored: only 100(5) remains, so even q = 0 gives 100 (not 1)
        ([1, 100], [0, 5], 0.0, 100.0),
        # NaN ignored: 10(1), 20(1) ; q·total = 1 → 10 (NaN with weight 100 would dominate)
        ([np.nan, 10, 20], [100, 1, 1], 0.5, 10.0),
    ],
)
def test_weighted_quantile(values, weights, q, expected):
    """Lower value at the q share of the total weight."""
    assert weighted_quantile(np.array(values, float), np.array(weights, float), q) == expected


@pytest.mark.parametrize(
    ("values", "weights"),
    [([1.0, 2.0], [0.0, 0.0]), ([np.nan, np.nan], [1.0, 1.0]), ([], [])],
    ids=["zero-weights", "all-nan", "empty"],
)
def test_weighted_quantile_without_weight_is_nan(values, weights):
    """No weight left → NaN."""
    assert math.isnan(weighted_quantile(np.array(values), np.array(weights), 0.5))


# --------------------------------------------------------------------------- distance_summary


@pytest.fixture
def summary_case() -> tuple[pd.DataFrame, np.ndarray]:
    """Six communes with chosen populations and distances (km).

    =====  ===  ===  ====  =====
    code   dep  reg  pop   km
    =====  ===  ===  ====  =====
    c1     01   84   100   10
    c2     01   84   300   60
    c3     01   84   100   120
    c4     02   32   200   250
    c5     02   32    50   NaN  (no position)
    c6     974  04   250   inf  (no site in Réunion)
    =====  ===  ===  ====  =====
    """
    communes = make_communes(
        [
            ("c1", "01", "84", 100, 5.0, 46.0),
            ("c2", "01", "84", 300, 5.1, 46.0),
            ("c3", "01", "84", 100, 5.2, 46.0),
            ("c4", "02", "32", 200, 3.5, 49.5),
            ("c5", "02", "32", 50, np.nan, np.nan),
            ("c6", "974", "04", 250, *SAINT_DENIS_REUNION),
        ]
    )
    return communes, np.array([10.0, 60.0, 120.0, 250.0, np.nan, np.inf])


def test_distance_summary_national(summary_case):
    """National counts, shares, median and p90 (hand-computed)."""
    communes, km = summary_case
    national, _ = distance_summary(communes, km)
    # With a position: 100 + 300 + 100 + 200 + 250 = 950 ; without: c5's 50.
    assert national["population"] == 950
    assert national["population_without_position"] == 50
    # > 50: c2 c3 c4 c6 = 850 ; > 100: c3 c4 c6 = 550 ; > 200: c4 c6 = 450.
    assert national["population_beyond_km"] == {"50": 850, "100": 550, "200": 450}
    assert national["share_beyond_km"] == pytest.approx(
        {"50": 850 / 950, "100": 550 / 950, "200": 450 / 950}, abs=1e-6
    )
    # Sorted: 10(100) 60(300) 120(100) 250(200) inf(250); cum 100 400 500 700 950.
    # Median: 0.5·950 = 475 → 120 km. p90: 0.9·950 = 855 → inf → None.
    assert national["median_km"] == pytest.approx(120.0, abs=1e-9)
    assert national["p90_km"] is None


#: Population then counts beyond 50, 100 and 200 km.
COUNTS = ["population", "beyond_50", "beyond_100", "beyond_200"]


def test_distance_summary_per_departement(summary_case):
    """Per-département population, beyond counts, median and p90 (hand-computed)."""
    communes, km = summary_case
    _, per = distance_summary(communes, km)
    assert list(per.index) == ["01", "02", "974"]
    # 01: 10(100) 60(300) 120(100); cum 100 400 500; median 250 → 60; p90 450 → 120.
    assert per.loc["01", COUNTS].tolist() == [500, 400, 100, 0]
    assert per.loc["01", "median_km"] == pytest.approx(60.0, abs=1e-9)
    assert per.loc["01", "p90_km"] == pytest.approx(120.0, abs=1e-9)
    # 02: only c4 has a position: 250(200).
    assert per.loc["02", COUNTS].tolist() == [200, 200, 200, 200]
    assert per.loc["02", "median_km"] == pytest.approx(250.0, abs=1e-9)
    # 974: inf(250): everyone beyond, no median.
    assert per.loc["974", COUNTS].tolist() == [250, 250, 250, 250]
    assert pd.isna(per.loc["974", "median_km"])


def test_distance_summary_per_region(summary_case):
    """level='region' groups by the communes' région code."""
    communes, km = summary_case
    _, per = distance_summary(communes, km, (100.0,), level="region")
    assert list(per.index) == ["04", "32", "84"]
    assert per["population"].tolist() == [250, 200, 500]
    assert per["beyond_100"].tolist() == [250, 200, 100]
    # 84 is département 01 alone: median 60, p90 120.
    assert per.loc["84", "median_km"] == pytest.approx(60.0, abs=1e-9)
    assert per.loc["84", "p90_km"] == pytest.approx(120.0, abs=1e-9)


def test_distance_summary_threshold_keys(summary_case):
    """Thresholds are keyed by their shortest decimal form ("30", "12.5")."""
    communes, km = summary_case
    national, per = distance_summary(communes, km, (12.5, 30.0))
    assert list(national["population_beyond_km"]) == ["12.5", "30"]
    assert list(national["share_beyond_km"]) == ["12.5", "30"]
    assert {"beyond_12.5", "beyond_30"} <= set(per.columns)


def test_distance_summary_median_none_when_most_have_no_site():
    """National median is None when more than half the people have no site in their zone."""
    communes = make_communes(
        [("a", "01", "84", 10, 5.0, 46.0), ("b", "974", "04", 30, *SAINT_DENIS_REUNION)]
    )
    national, _ = distance_summary(communes, np.array([5.0, np.inf]))
    assert national["median_km"] is None
    assert national["share_beyond_km"]["50"] == pytest.approx(0.75, abs=1e-6)


# --------------------------------------------------------------------------- counts


@pytest.fixture
def tiny_departements() -> pd.DataFrame:
    """Three territories, one with no site and zero population (like Mayotte)."""
    return pd.DataFrame(
        {
            "code": ["01", "02", "976"],
            "name": ["Ain", "Aisne", "Mayotte"],
            "population": [500_000, 250_000, 0],
        }
    )


@pytest.fixture
def counted_sites() -> pd.DataFrame:
    """Two sites in 01 (FILNEMUS, MHEMO), one in 02 (FILNEMUS)."""
    return make_sites(
        [
            ("a", "FILNEMUS", "Nmd", "ccmr", "2023-2028", "01", 5.0, 46.0),
            ("b", "MHEMO", "Hemo", "ccmr", "2023-2028", "01", 5.1, 46.0),
            ("c", "FILNEMUS", "Nmd", "ccmr", "2023-2028", "02", 3.5, 49.5),
        ]
    )


def test_territory_counts(counted_sites, tiny_departements):
    """Every territory is listed with its site count; zero-site ones are not covered."""
    out = territory_counts(counted_sites, tiny_departements, "dep")
    assert out["sites"].to_dict() == {"01": 2, "02": 1, "976": 0}
    assert out["covered"].to_dict() == {"01": True, "02": True, "976": False}
    assert out["name"].tolist() == ["Ain", "Aisne", "Mayotte"]


def test_territory_counts_without_sites(counted_sites, tiny_departements):
    """An empty selection lists every territory with 0 sites, none covered."""
    out = territory_counts(counted_sites.iloc[:0], tiny_departements, "dep")
    assert out["sites"].tolist() == [0, 0, 0]
    assert not out["covered"].any()


def test_sites_per_departement(counted_sites, tiny_departements):
    """Sites per million inhabitants; NaN where the population is zero."""
    out = sites_per_departement(counted_sites, tiny_departements)
    # 01: 2 / 500,000 · 1e6 = 4 ; 02: 1 / 250,000 · 1e6 = 4 ; 976: population 0 → NaN.
    assert out.loc["01", "per_million"] == pytest.approx(4.0, rel=1e-12)
    assert out.loc["02", "per_million"] == pytest.approx(4.0, rel=1e-12)
    assert np.isnan(out.loc["976", "per_million"])
    assert not out.loc["976", "covered"]


def test_filiere_matrix(counted_sites, tiny_departements):
    """Territory × filière counts, every territory and requested filière listed, in order."""
    out = filiere_matrix(counted_sites, tiny_departements, "dep", ["MHEMO", "FILNEMUS", "G2M"])
    assert list(out.index) == ["01", "02", "976"]
    assert list(out.columns) == ["MHEMO", "FILNEMUS", "G2M"]
    assert out.to_numpy().tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 0]]


def test_filiere_matrix_without_sites(counted_sites, tiny_departements):
    """An empty selection gives a matrix of zeros."""
    out = filiere_matrix(counted_sites.iloc[:0], tiny_departements, "dep", ["FILNEMUS"])
    assert out.shape == (3, 1)
    assert (out.to_numpy() == 0).all()


# --------------------------------------------------------------------------- E2SFCA


@pytest.mark.parametrize(
    ("km", "weight"),
    [
        (0.0, 1.0),
        (30.0, 1.0),
        (30.01, 0.68),
        (60.0, 0.68),
        (60.5, 0.22),
        (100.0, 0.22),
        (100.1, 0.0),
        (np.inf, 0.0),
        (np.nan, 0.0),
    ],
)
def test_decay_weight_bands(km, weight):
    """Stepwise weights: ≤30 km → 1, ≤60 → 0.68, ≤100 → 0.22, beyond (or NaN) → 0."""
    assert float(decay_weight(np.array([km]))[0]) == weight


#: Three communes × two sites (km). Weights W: [[1, 0.22], [0.68, 1], [0, 0.22]].
E2_KM = np.array([[10.0, 80.0], [50.0, 20.0], [150.0, 90.0]])
E2_POP = np.array([1000.0, 3000.0, 500.0])


def test_e2sfca_two_sites():
    """Accessibility of three communes served by two sites, computed by hand."""
    # Step 1: R_j = S_j / Σ_k P_k W(d_kj)
    #   site 0: 1000·1 + 3000·0.68 + 500·0    = 3040 → R_0 = 1/3040
    #   site 1: 1000·0.22 + 3000·1 + 500·0.22 = 3330 → R_1 = 1/3330
    # Step 2: A_i = Σ_j R_j W(d_ij)
    expected = [
        1.0 / 3040 + 0.22 / 3330,
        0.68 / 3040 + 1.0 / 3330,
        0.0 / 3040 + 0.22 / 3330,
    ]
    np.testing.assert_allclose(e2sfca(E2_KM, E2_POP), expected, rtol=1e-12)


def test_e2sfca_with_capacity():
    """A site's capacity S_j scales its ratio R_j."""
    # R_0 = 2/3040, R_1 = 5/3330 (same demands as above).
    expected = [
        2.0 / 3040 + 0.22 * 5 / 3330,
        0.68 * 2 / 3040 + 5.0 / 3330,
        0.22 * 5 / 3330,
    ]
    np.testing.assert_allclose(e2sfca(E2_KM, E2_POP, np.array([2.0, 5.0])), expected, rtol=1e-12)


def test_e2sfca_site_with_empty_catchment_contributes_nothing():
    """A site beyond every commune's catchment (demand 0) adds nothing and raises no error."""
    km = np.column_stack([E2_KM, [200.0, 300.0, np.inf]])
    with np.errstate(all="raise"):
        out = e2sfca(km, E2_POP, np.array([1.0, 1.0, 50.0]))
    np.testing.assert_allclose(out, e2sfca(E2_KM, E2_POP), rtol=1e-12)


def test_e2sfca_conserves_supply():
    """Σ_i P_i A_i equals the total supply of the sites with someone in their catchment."""
    capacity = np.array([2.0, 5.0])
    assert float(E2_POP @ e2sfca(E2_KM, E2_POP, capacity)) == pytest.approx(7.0, rel=1e-12)


# --------------------------------------------------------------------------- Selection


@pytest.fixture
def registry() -> pd.DataFrame:
    """Four sites: two FILNEMUS (network Nmd), one MHEMO (Hemo), one PEMR platform."""
    return make_sites(
        [
            ("s1", "FILNEMUS", "Nmd", "crmr_coordonnateur", "2023-2028", "75", *PARIS),
            ("s2", "FILNEMUS", "Nmd", "ccmr", "2017-2022", "69", *LYON),
            ("s3", "MHEMO", "Hemo", "crmr_site", "2023-2028", "13", *MARSEILLE),
            ("s4", "", "Plateforme X", "pemr", "2021", "75", *PARIS),
        ]
    )


@pytest.mark.parametrize(
    ("selection", "ids"),
    [
        (Selection(), ["s1", "s2", "s3", "s4"]),
        (Selection(filieres=("FILNEMUS",)), ["s1", "s2"]),
        (Selection(filieres=("FILNEMUS", "MHEMO")), ["s1", "s2", "s3"]),
        (Selection(filieres=("FILNEMUS",), network="Hemo"), ["s3"]),
        (Selection(network="Nmd"), ["s1", "s2"]),
        (Selection(labels=("crmr_coordonnateur", "crmr_site")), ["s1", "s3"]),
        (Selection(labels=("pemr",)), ["s4"]),
        (Selection(vintages=("2023-2028",)), ["s1", "s3"]),
        (Selection(filieres=("FILNEMUS",), labels=("ccmr",)), ["s2"]),
        (Selection(filieres=("FILNEMUS", "MHEMO"), vintages=("2023-2028",)), ["s1", "s3"]),
    ],
    ids=[
        "all",
        "one-filiere",
        "two-filieres",
        "network-overrides-filieres",
        "network",
        "labels",
        "pemr-label",
        "vintage",
        "filiere-and-label",
        "filieres-and-vintage",
    ],
)
def test_selection_sites(registry, selection, ids):
    """Selection.sites keeps the rows matching filières (or network), labels and vintages."""
    assert selection.sites(registry)["id"].tolist() == ids


@pytest.mark.parametrize(
    ("selection", "text"),
    [
        (Selection(), "toutes filières"),
        (Selection(filieres=("FILNEMUS",)), "FILNEMUS"),
        (Selection(filieres=("FILNEMUS", "MHEMO")), "FILNEMUS, MHEMO"),
        (Selection(filieres=("FILNEMUS",), network="Nmd"), "réseau Nmd"),
    ],
)
def test_selection_describe(selection, text):
    """describe() names the network, else the filières, else "toutes filières"."""
    assert selection.describe() == text


# --------------------------------------------------------------------------- real data

FILNEMUS = Selection(filieres=("FILNEMUS",))


@pytest.fixture(scope="module")
def table(communes, centres) -> DistanceTable:
    """The distance table of the embedded registry, built once for this module."""
    return DistanceTable.from_frames(communes, centres)


@pytest.fixture(scope="module")
def filnemus_gaps(communes, departements, centres, table):
    """FILNEMUS gaps at département level on the embedded data."""
    return compute_gaps(communes, departements, centres, FILNEMUS, table=table)


def test_real_table_matches_kdtree(communes, centres, table):
    """On the real data, the table and the KD-tree give the same FILNEMUS distances (1 m)."""
    sites = FILNEMUS.sites(centres)
    np.testing.assert_allclose(
        table.nearest_km(sites.index), nearest_distances(communes, sites), rtol=0, atol=1e-3
    )


def test_gaps_national_population_adds_up(filnemus_gaps, communes):
    """National population + population without position = sum of commune populations."""
    national = filnemus_gaps.national
    assert national["population"] + national["population_without_position"] == int(
        communes["population"].sum()
    )


def test_gaps_counts_the_selected_sites(filnemus_gaps, centres):
    """The number of sites is the selection's, and the territories' counts add up to it."""
    n = int((centres["filiere"] == "FILNEMUS").sum())
    assert filnemus_gaps.national["sites"] == n == len(filnemus_gaps.sites)
    assert int(filnemus_gaps.territories["sites"].sum()) == n
    assert filnemus_gaps.national["territories_without_site"] == int(
        (filnemus_gaps.territories["sites"] == 0).sum()
    )


def test_gaps_json_national_keys(filnemus_gaps):
    """The JSON's national part has the documented keys, thresholds keyed "50","100","200"."""
    national = filnemus_gaps.to_json()["national"]
    assert {"population", "population_beyond_km", "share_beyond_km", "median_km", "p90_km"} <= set(
        national
    )
    assert list(national["population_beyond_km"]) == ["50", "100", "200"]
    assert list(national["share_beyond_km"]) == ["50", "100", "200"]


def test_gaps_json_territory_keys(filnemus_gaps):
    """Every territory item has the documented keys."""
    keys = {
        "code",
        "name",
        "population",
        "sites",
        "covered",
        "population_beyond_km",
        "median_km",
        "accessibility",
    }
    rows = filnemus_gaps.to_json()["territories"]
    assert all(keys <= set(r) for r in rows)
    assert all(list(r["population_beyond_km"]) == ["50", "100", "200"] for r in rows)


def test_gaps_json_is_serialisable(filnemus_gaps):
    """to_json() contains only JSON types (no NaN: missing values are null)."""
    text = json.dumps(filnemus_gaps.to_json(), allow_nan=False)
    assert json.loads(text)["level"] == "departement"


def test_gaps_lists_101_departements(filnemus_gaps):
    """At département level all 101 départements are listed."""
    assert len(filnemus_gaps.to_json()["territories"]) == 101


def test_gaps_lists_18_regions(communes, regions, centres, table):
    """At région level all 18 régions are listed."""
    gaps = compute_gaps(communes, regions, centres, FILNEMUS, level="region", table=table)
    assert len(gaps.to_json()["territories"]) == 18


def test_gaps_drom_without_site_is_uncovered_and_all_beyond(filnemus_gaps, communes, centres):
    """A DROM without FILNEMUS site is not covered; its whole population is beyond 200 km."""
    with_site = set(FILNEMUS.sites(centres)["dep"])
    rows = {r["code"]: r for r in filnemus_gaps.to_json()["territories"]}
    uncovered = [code for code in OVERSEAS if code not in with_site]
    assert uncovered  # the embedded registry leaves some DROM without FILNEMUS site
    for code in uncovered:
        population = int(communes.loc[communes["dep"] == code, "population"].sum())
        assert rows[code]["covered"] is False
        assert rows[code]["sites"] == 0
        assert rows[code]["population_beyond_km"]["200"] == population
        assert rows[code]["median_km"] is None


def test_gaps_with_prebuilt_table_equals_without(communes, departements, centres, filnemus_gaps):
    """Passing a prebuilt DistanceTable changes nothing."""
    fresh = compute_gaps(communes, departements, centres, FILNEMUS)
    assert fresh.national == filnemus_gaps.national
    pd.testing.assert_frame_equal(fresh.territories, filnemus_gaps.territories)
    np.testing.assert_array_equal(fresh.commune_km, filnemus_gaps.commune_km)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"level": "canton"},
        {"thresholds": ()},
        {"thresholds": (0.0, 50.0)},
        {"thresholds": (-5.0,)},
    ],
    ids=["level", "no-threshold", "zero", "negative"],
)
def test_gaps_rejects_bad_arguments(communes, departements, centres, table, kwargs):
    """An unknown level or non-positive thresholds raise ValueError."""
    with pytest.raises(ValueError):
        compute_gaps(communes, departements, centres, FILNEMUS, table=table, **kwargs)
