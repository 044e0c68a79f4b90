"""Loaded data at the page edge: cached loaders and the active registry.

Territories are shared read-only objects (``st.cache_resource``: loaded once per
process, never mutated). The registry is a small frame (``st.cache_data``: each
caller gets its own copy). A bad ``CENTRES_FILE`` never takes the app down: the
embedded registry is used instead and the problem is shown.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo import centres as registry
from geo import territories
from geo.errors import GeoError
from geo.importer import IMPORTED_REGISTRY_KEY


@st.cache_resource(show_spinner="Chargement des territoires…")
def load_territories() -> territories.Territories:
    """Communes, départements and régions (shared, read-only: do not mutate)."""
    return territories.load_territories()


@st.cache_resource(show_spinner=False)
def display_departements(tolerance_deg: float) -> gpd.GeoDataFrame:
    """Départements simplified for drawing (shared, read-only)."""
    return territories.display_geometries(load_territories().departements, tolerance_deg)


@st.cache_resource(show_spinner=False)
def display_regions(tolerance_deg: float) -> gpd.GeoDataFrame:
    """Régions simplified for drawing (shared, read-only)."""
    return territories.display_geometries(load_territories().regions, tolerance_deg)


@st.cache_data(show_spinner=False, max_entries=8)
def _load_registry(path: str, mtime: float) -> pd.DataFrame:
    del mtime  # part of the cache key: a file edited on disk is reloaded
    return registry.load_centres(Path(path), load_territories().communes)


@dataclass(frozen=True)
class ActiveRegistry:
    """The registry the pages show, where it came from, and any loading problem."""

    centres: pd.DataFrame
    path: Path
    embedded: bool
    imported: bool = False
    problem: str | None = None
    details: tuple[str, ...] = ()


def _registry_at(path: Path) -> pd.DataFrame:
    return _load_registry(str(path), path.stat().st_mtime if path.exists() else 0.0)


def active_registry() -> ActiveRegistry:
    """The registry named by ``CENTRES_FILE``, or the embedded one (with the reason why)."""
    imported = st.session_state.get(IMPORTED_REGISTRY_KEY)
    if imported is not None:  # confirmed on the import page; this session only
        return ActiveRegistry(
            imported["centres"].copy(), Path(imported["name"]), embedded=False, imported=True
        )
    wanted = registry.default_centres_path()
    embedded = wanted == registry.CENTRES_FILE
    try:
        return ActiveRegistry(_registry_at(wanted), wanted, embedded)
    except GeoError as exc:
        if embedded:
            raise
        fallback = _registry_at(registry.CENTRES_FILE)
        return ActiveRegistry(
            fallback,
            registry.CENTRES_FILE,
            True,
            problem=f"Le fichier {wanted} (variable CENTRES_FILE) n'a pas pu être chargé : {exc} "
            "Les données embarquées sont affichées à la place.",
            details=tuple(getattr(exc, "problems", ())[:50]),
        )


def tiles_setting() -> tuple[str | None, str | None]:
    """Optional base tiles from ``MAP_TILES_URL`` / ``MAP_TILES_ATTRIBUTION`` (off when unset)."""
    url = os.environ.get("MAP_TILES_URL", "").strip() or None
    return url, os.environ.get("MAP_TILES_ATTRIBUTION", "").strip() or None


def registry_key(centres: pd.DataFrame) -> str:
    """A content hash of a registry frame (cache key for objects derived from it)."""
    import hashlib

    digest = hashlib.sha1(pd.util.hash_pandas_object(centres, index=True).to_numpy().tobytes())
    return digest.hexdigest()


@st.cache_resource(show_spinner="Calcul des distances communes × sites…", max_entries=8)
def distance_table(key: str, corsica_separate: bool, _centres: pd.DataFrame):
    """The commune × site-location distance table of a registry (shared, read-only).

    ``key`` is :func:`registry_key` of ``_centres`` (the frame itself is not hashed).
    """
    from geo.coverage import DistanceTable

    return DistanceTable.from_frames(load_territories().communes, _centres, corsica_separate)


@st.cache_resource(show_spinner="Préparation de la carte des communes…", max_entries=8)
def commune_grid(view: str):
    """The commune raster of one map view (shared, read-only)."""
    from geo.grid import CommuneGrid
    from geo.maps import VIEWS

    t = load_territories()
    code = VIEWS[view][0]
    if code is None:
        bounds = (-5.2, 41.3, 9.6, 51.15)
        communes = t.communes
    else:
        communes = t.communes[t.communes["dep"] == code]
        x0, y0, x1, y1 = t.departements.loc[t.departements["code"] == code].total_bounds
        bounds = (x0 - 0.05, y0 - 0.05, x1 + 0.05, y1 + 0.05)
    grid = CommuneGrid.build(communes, bounds, cell_deg=0.02 if code is None else 0.005)
    return grid, communes.index.to_numpy()


@st.cache_resource(show_spinner=False)
def official_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The official 2017–2022 composition and the network matching table (read-only)."""
    from geo.completeness import load_matching, load_official

    return load_official(), load_matching()


@st.cache_data(show_spinner=False, max_entries=64)
def selection_completeness(key: str, _centres: pd.DataFrame, selection) -> dict:
    """:func:`geo.completeness.selection_completeness`, cached per registry and selection."""
    from geo.completeness import selection_completeness as compute

    official, matching = official_tables()
    return compute(_centres, selection, official=official, matching=matching)


@st.cache_data(show_spinner=False, max_entries=16)
def complete_networks(key: str, _centres: pd.DataFrame, labels: tuple[str, ...]) -> list[str]:
    """Loaded network names complete for 2017–2022 at the given label levels."""
    from geo.completeness import complete_networks as compute

    official, matching = official_tables()
    return compute(_centres, labels=labels or None, official=official, matching=matching)


@st.cache_data(show_spinner=False, max_entries=16)
def completeness_tables(
    key: str, _centres: pd.DataFrame, labels: tuple[str, ...]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-filière and per-network completeness (2017–2022) at the given label levels."""
    from geo.completeness import filiere_completeness, network_completeness

    official, matching = official_tables()
    per_filiere = filiere_completeness(
        _centres, labels=labels or None, official=official, matching=matching
    )
    per_network = network_completeness(
        _centres, labels=labels or None, official=official, matching=matching
    )
    per_network = per_network.assign(crmr_names=per_network["crmr_names"].map(" ; ".join))
    return per_filiere, per_network
