"""Where would a new site help most? Greedy maximal covering location.

Problem
-------
Given the current sites of a selection, a radius r (km) and k, choose k candidate
locations that bring the most *currently uncovered* inhabitants within r km of a site.
This is the maximal covering location problem (Church & ReVelle, 1974).

* A commune is *covered* when its representative point lies within r km (great-circle,
  WGS84, EPSG:4326) of a site **of its own zone** (overseas rule of
  :mod:`geo.coverage`: each DROM is a zone, metropolitan France another, Corsica too
  with ``corsica_separate``). A candidate covers only communes of its own zone.
* Candidates are, by default, the communes that already host a site of any filière
  (hospitals with rare-disease expertise, :func:`host_candidates`); optionally every
  commune of at least a given population (:func:`population_candidates`). A candidate
  sits at its commune's representative point.

Method
------
Build the boolean coverage matrix A (candidates × communes, sparse CSR; A[j, i] = 1 when
commune i is within r km of candidate j and in its zone) with KD-trees on 3-D unit
vectors, one pair search per zone (:func:`coverage_matrix`); w_i is the population of
commune i if it is uncovered, else 0. Greedy (:func:`greedy_cover`): k times, take the
candidate with the largest gain A·w (ties: the first candidate in the given order),
record the gain, and set w_i = 0 for the communes it covers. Each step is one sparse
matrix–vector product.

Guarantee
---------
Covered population is a monotone submodular function of the chosen set, so the greedy
choice covers at least (1 − 1/e) ≈ 63.2 % of the population an optimal choice of k
candidates would cover (Nemhauser, Wolsey & Fisher, 1978); on many instances it is
optimal. :func:`exact_cover` (exhaustive search, small instances only) is the reference
the tests compare it with.

The gains are inhabitants (population municipale); they are not additive across
separate runs with different radii.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

from geo.coverage import EARTH_RADIUS_KM, nearest_distances, unit_vectors, zone_of

#: The approximation guarantee of the greedy choice.
GREEDY_BOUND = 1.0 - 1.0 / math.e
#: Largest number of subsets :func:`exact_cover` enumerates.
MAX_EXACT_SUBSETS = 2_000_000


def chord_for_km(km: float) -> float:
    """Chord length between unit vectors for a great-circle distance ``km``."""
    return 2.0 * math.sin(min(km / EARTH_RADIUS_KM, math.pi) / 2.0)


def coverage_matrix(
    communes: pd.DataFrame,
    candidates: pd.DataFrame,
    radius_km: float,
    corsica_separate: bool = False,
) -> sparse.csr_matrix:
    """Boolean (candidates × communes) CSR matrix: commune within ``radius_km`` of the
    candidate and in the same zone.

    Both frames need ``lon``, ``lat`` (WGS84 degrees) and ``dep``; communes without a
    point are never covered.
    """
    if not radius_km > 0:
        raise ValueError(f"radius_km must be a positive number of km; got {radius_km!r}")
    valid = communes["lon"].notna().to_numpy() & communes["lat"].notna().to_numpy()
    c_zone = zone_of(communes["dep"], corsica_separate)
    k_zone = zone_of(candidates["dep"], corsica_separate)
    c_xyz = unit_vectors(communes["lon"].fillna(0).to_numpy(), communes["lat"].fillna(0).to_numpy())
    k_xyz = unit_vectors(candidates["lon"].to_numpy(), candidates["lat"].to_numpy())
    # a hair above the chord so that a commune at exactly r km counts (as "≤ r")
    chord = chord_for_km(radius_km) * (1 + 1e-12)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for zone in pd.unique(k_zone):
        members = np.flatnonzero((c_zone == zone) & valid)
        if len(members) == 0:
            continue
        cand = np.flatnonzero(k_zone == zone)
        pairs = cKDTree(k_xyz[cand]).sparse_distance_matrix(
            cKDTree(c_xyz[members]), chord, output_type="ndarray"
        )  # every pair within the chord, zero distances included
        rows.append(cand[pairs["i"]])
        cols.append(members[pairs["j"]])
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    order = np.argsort(r, kind="stable")  # CSR built directly: pairs are unique
    indptr = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=len(candidates)))])
    return sparse.csr_matrix(
        (np.ones(len(r), dtype=np.float64), c[order], indptr),
        shape=(len(candidates), len(communes)),
    )


def greedy_cover(matrix: sparse.spmatrix, weights: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Greedy maximal cover: up to ``k`` (candidate row, marginal gain) pairs, best first.

    ``matrix`` is (candidates × items) with non-zero where the candidate covers the
    item; ``weights`` the items' weights (0 for items already covered). Stops early
    when no candidate adds anything. Ties go to the lowest row.

    >>> a = sparse.csr_matrix(np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1]]))
    >>> greedy_cover(a, np.array([5.0, 1.0, 4.0]), 2)
    [(0, 6.0), (1, 4.0)]
    """
    if k < 0:
        raise ValueError(f"k must be ≥ 0; got {k}")
    a = sparse.csr_matrix(matrix, dtype=np.float64)
    a.data[:] = 1.0
    w = np.asarray(weights, dtype=np.float64).copy()
    if w.shape != (a.shape[1],):
        raise ValueError(f"weights must have shape ({a.shape[1]},); got {w.shape}")
    out: list[tuple[int, float]] = []
    for _ in range(min(k, a.shape[0])):
        gains = a @ w
        j = int(np.argmax(gains))
        if gains[j] <= 0:
            break
        out.append((j, float(gains[j])))
        w[a.indices[a.indptr[j] : a.indptr[j + 1]]] = 0.0
    return out


def covered_weight(matrix: sparse.spmatrix, weights: np.ndarray, rows: Sequence[int]) -> float:
    """Total weight of the items covered by the given candidate rows (each item once)."""
    a = sparse.csr_matrix(matrix)
    if len(rows) == 0:
        return 0.0
    hit = np.asarray(a[list(rows)].sum(axis=0)).ravel() > 0
    return float(np.asarray(weights, dtype=float)[hit].sum())


def exact_cover(
    matrix: sparse.spmatrix, weights: np.ndarray, k: int
) -> tuple[tuple[int, ...], float]:
    """Best set of ``k`` candidate rows by exhaustive search, and its covered weight.

    For small instances (tests): refuses more than :data:`MAX_EXACT_SUBSETS` subsets.
    """
    n = matrix.shape[0]
    k = min(k, n)
    if math.comb(n, k) > MAX_EXACT_SUBSETS:
        raise ValueError(f"C({n}, {k}) subsets is too many for an exhaustive search")
    a = sparse.csr_matrix(matrix).toarray() != 0
    w = np.asarray(weights, dtype=float)
    best: tuple[tuple[int, ...], float] = ((), 0.0)
    for rows in itertools.combinations(range(n), k):
        value = float(w[a[list(rows)].any(axis=0)].sum()) if rows else 0.0
        if value > best[1]:
            best = (rows, value)
    return best


# --------------------------------------------------------------------------- candidates


def host_candidates(communes: pd.DataFrame, centres: pd.DataFrame) -> pd.DataFrame:
    """Communes hosting at least one registry site of any filière (PEMR included).

    Returns the commune rows (``code``, ``name``, ``dep``, ``population``, ``lon``,
    ``lat``), sorted by code, without communes lacking a point.
    """
    codes = set(centres["commune_code"].astype(str))
    out = communes[communes["code"].isin(codes)]
    return _candidate_frame(out)


def population_candidates(communes: pd.DataFrame, min_population: int) -> pd.DataFrame:
    """Every commune of at least ``min_population`` inhabitants, sorted by code."""
    if min_population < 0:
        raise ValueError(f"min_population must be ≥ 0; got {min_population}")
    return _candidate_frame(communes[communes["population"] >= min_population])


def _candidate_frame(frame: pd.DataFrame) -> pd.DataFrame:
    keep = frame["lon"].notna() & frame["lat"].notna()
    cols = ["code", "name", "dep", "population", "lon", "lat"]
    return frame.loc[keep, cols].sort_values("code", kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- the whole answer


@dataclass
class Suggestions:
    """The greedy proposals of :func:`suggest_sites`.

    ``proposals`` has one row per proposal, best first: ``rank``, ``commune_code``,
    ``name``, ``dep``, ``lon``, ``lat``, ``gain_population`` (inhabitants newly within
    ``radius_km``), ``cumulative_population``, ``cumulative_share_of_uncovered``
    (0–1); ``uncovered_population`` is the uncovered population before any proposal.
    """

    radius_km: float
    k: int
    candidates: int
    population: int
    uncovered_population: int
    proposals: pd.DataFrame

    def to_json(self) -> dict:
        """A JSON-ready dict (used by ``python -m geo suggest``)."""
        return {
            "radius_km": self.radius_km,
            "k": self.k,
            "candidates": self.candidates,
            "population": self.population,
            "uncovered_population": self.uncovered_population,
            "guarantee": "greedy ≥ (1 − 1/e) × optimal covered population",
            "proposals": [
                {
                    "rank": int(r.rank),
                    "commune_code": r.commune_code,
                    "name": r.name,
                    "dep": r.dep,
                    "gain_population": int(r.gain_population),
                    "cumulative_population": int(r.cumulative_population),
                    "cumulative_share_of_uncovered": round(
                        float(r.cumulative_share_of_uncovered), 6
                    ),
                }
                for r in self.proposals.itertuples(index=False)
            ],
        }


def suggest_sites(
    communes: pd.DataFrame,
    sites: pd.DataFrame,
    candidates: pd.DataFrame,
    radius_km: float,
    k: int,
    corsica_separate: bool = False,
    current_km: np.ndarray | None = None,
    matrix: sparse.spmatrix | None = None,
) -> Suggestions:
    """Propose up to ``k`` candidates covering the most currently uncovered inhabitants.

    Parameters
    ----------
    communes : DataFrame
        ``code``, ``dep``, ``population`` (inhabitants), ``lon``, ``lat`` (representative
        points, WGS84 degrees, EPSG:4326).
    sites : DataFrame
        The current sites (``lon``, ``lat``, ``dep``); unused when ``current_km`` is given.
    candidates : DataFrame
        From :func:`host_candidates` or :func:`population_candidates`.
    radius_km : float
        Coverage radius, great-circle km.
    k : int
        Most proposals wanted (≥ 1); fewer come back when no candidate adds anyone.
    corsica_separate : bool
        Corsica is a zone of its own, like each DROM.
    current_km : ndarray, optional
        Each commune's distance (km) to its nearest current site in its zone, as
        :attr:`geo.coverage.Gaps.commune_km`; computed here when not given.
    matrix : sparse matrix, optional
        The :func:`coverage_matrix` of these candidates and radius (reusable across
        selections); built here when not given.

    Returns
    -------
    Suggestions
        Proposals best first, with ``gain_population`` (inhabitants newly within
        ``radius_km``) and cumulative totals.
    """
    if k < 1:
        raise ValueError(f"k must be ≥ 1; got {k}")
    if current_km is None:
        current_km = nearest_distances(communes, sites, corsica_separate)
    current_km = np.asarray(current_km, dtype=float)
    pop = communes["population"].to_numpy(dtype=float)
    placed = ~np.isnan(current_km)
    uncovered = placed & ~(current_km <= radius_km)
    weights = np.where(uncovered, pop, 0.0)
    if matrix is None:
        matrix = coverage_matrix(communes, candidates, radius_km, corsica_separate)
    elif matrix.shape != (len(candidates), len(communes)):
        raise ValueError(
            f"matrix must be (candidates, communes) = {(len(candidates), len(communes))}; "
            f"got {matrix.shape}"
        )
    picks = greedy_cover(matrix, weights, k)
    rows = []
    total = 0.0
    unc = float(weights.sum())
    for rank, (j, gain) in enumerate(picks, start=1):
        c = candidates.iloc[j]
        total += gain
        rows.append(
            {
                "rank": rank,
                "commune_code": c["code"],
                "name": c["name"],
                "dep": c["dep"],
                "lon": float(c["lon"]),
                "lat": float(c["lat"]),
                "gain_population": round(gain),
                "cumulative_population": round(total),
                "cumulative_share_of_uncovered": round(total / unc, 6) if unc > 0 else 0.0,
            }
        )
    columns = [
        "rank",
        "commune_code",
        "name",
        "dep",
        "lon",
        "lat",
        "gain_population",
        "cumulative_population",
        "cumulative_share_of_uncovered",
    ]
    return Suggestions(
        radius_km=float(radius_km),
        k=int(k),
        candidates=len(candidates),
        population=round(float(pop[placed].sum())),
        uncovered_population=round(unc),
        proposals=pd.DataFrame(rows, columns=columns),
    )
