"""Specification of site suggestions (geo.suggest): greedy maximal covering and the zone rule."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from geo.coverage import haversine_km, zone_of
from geo.suggest import (
    GREEDY_BOUND,
    coverage_matrix,
    covered_weight,
    exact_cover,
    greedy_cover,
    host_candidates,
    population_candidates,
    suggest_sites,
)

LAT = 46.0


def communes_frame(rows) -> pd.DataFrame:
    """Communes from (code, dep, population, lon, lat) tuples."""
    frame = pd.DataFrame(rows, columns=["code", "dep", "population", "lon", "lat"])
    frame.insert(1, "name", "Commune " + frame["code"])
    return frame


@pytest.fixture
def line() -> pd.DataFrame:
    """Communes every 0.5° of longitude on the 46° N parallel (≈ 38.6 km apart), pop 100…"""
    return communes_frame([(f"01{i:03d}", "01", 100 * (i + 1), 0.5 * i, LAT) for i in range(8)])


# --------------------------------------------------------------------------- greedy vs exact


def random_instance(rng: np.random.Generator) -> tuple[sparse.csr_matrix, np.ndarray, int]:
    """Random small covering instance: 6–9 candidates, 15–25 items, density 0.1–0.4, k 2–4."""
    n, m = int(rng.integers(6, 10)), int(rng.integers(15, 26))
    a = rng.random((n, m)) < rng.uniform(0.1, 0.4)
    weights = rng.integers(0, 1000, size=m).astype(float)
    return sparse.csr_matrix(a.astype(float)), weights, int(rng.integers(2, 5))


def test_greedy_is_within_one_minus_one_over_e_of_the_optimum():
    """On 200 random instances, greedy covers at least (1 − 1/e) of the exhaustive optimum."""
    rng = np.random.default_rng(20240601)
    ratios = []
    for _ in range(200):
        a, w, k = random_instance(rng)
        picks = greedy_cover(a, w, k)
        greedy = covered_weight(a, w, [j for j, _ in picks])
        _, best = exact_cover(a, w, k)
        assert greedy >= GREEDY_BOUND * best - 1e-9
        assert greedy == pytest.approx(sum(g for _, g in picks))  # gains add up
        ratios.append(greedy / best if best else 1.0)
    assert min(ratios) >= GREEDY_BOUND
    assert math.isclose(GREEDY_BOUND, 1 - 1 / math.e)


def test_greedy_is_optimal_when_candidates_do_not_overlap():
    """Disjoint candidate sets: greedy takes the k heaviest, which is optimal."""
    a = sparse.csr_matrix(np.kron(np.eye(4), np.ones((1, 3))))  # 4 disjoint triples
    w = np.array([1, 1, 1, 9, 9, 9, 5, 5, 5, 2, 2, 2], dtype=float)
    picks = greedy_cover(a, w, 2)
    rows, best = exact_cover(a, w, 2)
    assert [j for j, _ in picks] == [1, 2] == sorted(rows)
    assert sum(g for _, g in picks) == best == 42.0


def test_greedy_can_be_suboptimal_but_stays_above_the_bound():
    """The classic trap: one big set first, then the two halves would have been better."""
    a = sparse.csr_matrix(
        np.array(
            [
                [1, 1, 1, 1, 0, 0],  # the heaviest set, taken first …
                [1, 1, 0, 0, 1, 0],  # … although these two together cover everything
                [0, 0, 1, 1, 0, 1],
            ],
            dtype=float,
        )
    )
    w = np.array([1, 1, 1, 1, 0.9, 0.9])
    greedy = covered_weight(a, w, [j for j, _ in greedy_cover(a, w, 2)])
    _, best = exact_cover(a, w, 2)
    assert greedy < best
    assert greedy >= GREEDY_BOUND * best


def test_greedy_stops_when_nothing_is_left_to_gain():
    """k = 5 but the third candidate covers everything: a single proposal."""
    a = sparse.csr_matrix(np.array([[1, 0], [0, 1], [1, 1]], dtype=float))
    picks = greedy_cover(a, np.array([3.0, 4.0]), 5)
    assert picks == [(2, 7.0)]


def test_greedy_breaks_ties_with_the_first_candidate():
    """Equal gains: the lower row wins."""
    a = sparse.csr_matrix(np.array([[1, 0], [0, 1]], dtype=float))
    assert greedy_cover(a, np.array([5.0, 5.0]), 1) == [(0, 5.0)]


# --------------------------------------------------------------------------- coverage matrix


def test_coverage_matrix_matches_brute_force_great_circle_distances():
    """A[j, i] ⇔ haversine ≤ r and same zone, on scattered points of three zones."""
    rng = np.random.default_rng(7)
    n = 60
    deps = rng.choice(["01", "2A", "974"], size=n)
    lon = np.where(deps == "974", 55.5, np.where(deps == "2A", 9.0, 2.0)) + rng.normal(0, 1, n)
    lat = np.where(deps == "974", -21.0, np.where(deps == "2A", 42.0, 46.0)) + rng.normal(0, 1, n)
    communes = communes_frame(
        [(f"{i:05d}", d, 1, x, y) for i, (d, x, y) in enumerate(zip(deps, lon, lat, strict=True))]
    )
    candidates = communes.iloc[::5].reset_index(drop=True)
    for corsica in (False, True):
        got = coverage_matrix(communes, candidates, 120.0, corsica).toarray() != 0
        d = haversine_km(
            candidates["lon"].to_numpy()[:, None],
            candidates["lat"].to_numpy()[:, None],
            communes["lon"].to_numpy()[None, :],
            communes["lat"].to_numpy()[None, :],
        )
        same = zone_of(candidates["dep"], corsica)[:, None] == zone_of(communes["dep"], corsica)
        np.testing.assert_array_equal(got, (d <= 120.0) & same)


def test_a_candidate_covers_only_communes_of_its_own_zone():
    """A candidate in 974 placed (artificially) next to a metropolitan commune covers
    nothing there; a Corsican candidate covers the mainland only without corsica_separate."""
    communes = communes_frame(
        [
            ("01001", "01", 10, 2.0, LAT),
            ("2A004", "2A", 10, 8.74, 41.92),
            ("06088", "06", 10, 7.26, 43.70),
        ]
    )
    fake = communes_frame([("97411", "974", 0, 2.0, LAT), ("2A005", "2A", 0, 8.5, 42.5)])
    a = coverage_matrix(communes, fake, 300.0).toarray() != 0
    assert not a[0].any()  # the 974 "candidate" covers no metropolitan commune
    assert a[1, 2]  # Corsica → Nice (≈ 170 km), same zone by default
    a = coverage_matrix(communes, fake, 300.0, corsica_separate=True).toarray() != 0
    assert list(a[1]) == [False, True, False]


def test_coverage_matrix_rejects_a_non_positive_radius(line):
    """radius_km must be > 0."""
    with pytest.raises(ValueError, match="radius_km"):
        coverage_matrix(line, line, 0)


# --------------------------------------------------------------------------- suggestions


def test_currently_covered_follows_the_zone_rule():
    """A Réunion commune placed next to a metropolitan site is still uncovered."""
    communes = communes_frame([("01001", "01", 10, 2.0, LAT), ("97411", "974", 40, 2.01, LAT)])
    sites = pd.DataFrame({"lon": [2.0], "lat": [LAT], "dep": ["01"]})
    result = suggest_sites(communes, sites, communes, 50.0, 1)
    assert result.uncovered_population == 40
    assert list(result.proposals["commune_code"]) == ["97411"]


def test_suggestions_give_marginal_gains_and_cumulative_totals(line):
    """Site at lon 0, radius 40 km: commune 0 and 1 covered; the best addition is the
    commune covering the heaviest uncovered neighbours, then the next one."""
    sites = line.iloc[[0]][["lon", "lat", "dep"]]
    result = suggest_sites(line, sites, line, 40.0, 3)
    props = result.proposals
    assert result.uncovered_population == sum(100 * (i + 1) for i in range(2, 8))
    # each commune covers itself and its two neighbours (38.6 km apart)
    assert list(props["commune_code"]) == ["01006", "01003"]  # stops: everything covered
    assert list(props["gain_population"]) == [600 + 700 + 800, 300 + 400 + 500]
    assert list(props["cumulative_population"]) == [2100, 3300]
    assert props["cumulative_share_of_uncovered"].iloc[-1] == pytest.approx(1.0)


def test_suggest_sites_accepts_a_precomputed_matrix(line):
    """Passing the coverage matrix gives the same proposals; a wrong shape is refused."""
    sites = line.iloc[[0]][["lon", "lat", "dep"]]
    matrix = coverage_matrix(line, line, 40.0)
    a = suggest_sites(line, sites, line, 40.0, 2).proposals
    b = suggest_sites(line, sites, line, 40.0, 2, matrix=matrix).proposals
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(ValueError, match="matrix"):
        suggest_sites(line, sites, line.iloc[:3], 40.0, 2, matrix=matrix)


def test_host_candidates_are_the_communes_with_a_site(line):
    """Default candidates: communes hosting at least one registry site, sorted by code."""
    registry = pd.DataFrame({"commune_code": ["01005", "01002", "01005"]})
    assert list(host_candidates(line, registry)["code"]) == ["01002", "01005"]


def test_population_candidates_keep_communes_above_the_threshold(line):
    """--min-population 600 keeps communes of 600 inhabitants and more."""
    assert list(population_candidates(line, 600)["population"]) == [600, 700, 800]


def test_cli_suggest_lists_proposals(monkeypatch, capsys, communes):
    """`suggest --filiere FILNEMUS --k 2 --radius-km 100 --format json` on the embedded data."""
    import geo.territories
    from geo.cli_committee import main

    monkeypatch.setattr(geo.territories, "load_communes", lambda data_dir=None: communes)
    args = ["suggest", "--filiere", "FILNEMUS", "--k", "2", "--radius-km", "100"]
    assert main([*args, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    props = out["proposals"]
    assert 1 <= len(props) <= 2 and out["candidates"]["kind"] == "hosts"
    assert {"commune_code", "name", "gain_population", "cumulative_population"} <= set(props[0])
    assert props[-1]["cumulative_population"] == sum(p["gain_population"] for p in props)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--k", "0", "--radius-km", "100"], "--k"),
        (["--k", "2", "--radius-km", "-5"], "--radius-km"),
        (["--k", "2", "--radius-km", "100", "--vintage", "2099"], "millésime"),
    ],
)
def test_cli_suggest_rejects_bad_options(monkeypatch, capsys, communes, extra, message):
    """Bad --k, --radius-km or round: exit code 2 and a French message."""
    import geo.territories
    from geo.cli_committee import main

    monkeypatch.setattr(geo.territories, "load_communes", lambda data_dir=None: communes)
    assert main(["suggest", "--group", "10", *extra]) == 2
    assert message in capsys.readouterr().err
