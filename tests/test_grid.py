"""Specification of the commune raster (geo.grid.CommuneGrid) and its PNG rendering."""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pytest
from PIL import Image
from shapely.geometry import box

from geo.grid import CommuneGrid
from geo.maps import NO_SITE_IN_ZONE_COLOUR, distance_classes, distance_palette

#: 4° × 2° box at 0.25° per pixel: 16 columns; near the equator Mercator is almost
#: linear, so rows = round(16 · y(2°) / rad(4°)) = round(16 · 0.034913 / 0.069813) = 8.
#: Pixel centres: lon = 0.125 + 0.25·col, lat ≈ 1.875 − 0.25·row (row 0 = north).
BOUNDS = (0.0, 0.0, 4.0, 2.0)
CELL = 0.25
RED, BLUE = "#ff0000", "#0000ff"


@pytest.fixture
def two_squares() -> gpd.GeoDataFrame:
    """Commune 0 = [0,1]×[0,1], commune 1 = [1,2]×[0,1] (degrees)."""
    return gpd.GeoDataFrame(
        {"code": ["A", "B"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:4326"
    )


@pytest.fixture
def grid(two_squares) -> CommuneGrid:
    """The grid of the two squares over BOUNDS."""
    return CommuneGrid.build(two_squares, BOUNDS, cell_deg=CELL)


def decode(png: bytes) -> np.ndarray:
    """(rows, cols, 4) RGBA array of a PNG."""
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def rgba(colour: str) -> list[int]:
    """'#rrggbb' → [r, g, b, 255]."""
    c = colour.lstrip("#")
    return [int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16), 255]


def test_grid_shape_and_bounds(grid):
    """16 columns of 0.25°, 8 rows, and Leaflet bounds [[south, west], [north, east]]."""
    assert grid.commune_index.shape == (8, 16)
    assert grid.leaflet_bounds == [[0.0, 0.0], [2.0, 4.0]]


def test_grid_rows_follow_mercator():
    """Rows are as tall as the columns are wide in Web-Mercator units."""
    # 10° wide at 0.5° → 20 columns; y(50°) − y(40°) = 1.010683 − 0.762747 = 0.247936;
    # rows = round(20 · 0.247936 / rad(10°)) = round(28.41) = 28 (not 20 as in plate carrée).
    empty = gpd.GeoDataFrame({"code": []}, geometry=[], crs="EPSG:4326")
    g = CommuneGrid.build(empty, (0.0, 40.0, 10.0, 50.0), cell_deg=0.5)
    assert g.commune_index.shape == (28, 20)


def test_grid_assigns_pixels_inside_each_commune(grid):
    """Pixels whose centre lies in a square carry that commune's index."""
    # Rows 4–7 have lat centres 0.875 … 0.125; cols 0–3 lon < 1, cols 4–7 lon in (1, 2).
    assert (grid.commune_index[4:8, 0:4] == 0).all()
    assert (grid.commune_index[4:8, 4:8] == 1).all()


def test_grid_outside_every_commune_is_minus_one(grid):
    """Pixels more than one cell from every commune are −1."""
    # Rows 0–2: lat ≥ 1.375 (> 1 + 0.25); cols 9–15: lon ≥ 2.375 (> 2 + 0.25).
    assert (grid.commune_index[0:3, :] == -1).all()
    assert (grid.commune_index[:, 9:] == -1).all()


def test_grid_pixels_within_one_cell_take_the_nearest_commune(grid):
    """Sliver pixels within one cell of a commune take the nearest one (no speckles)."""
    # Row 3 (lat 1.125) is 0.125° above the squares; col 8 (lon 2.125) 0.125° east of B.
    assert grid.commune_index[3, 0:4].tolist() == [0, 0, 0, 0]
    assert grid.commune_index[3, 4:8].tolist() == [1, 1, 1, 1]
    assert (grid.commune_index[3:8, 8] == 1).all()


def test_grid_ignores_communes_without_geometry(two_squares):
    """A commune without geometry gets no pixel; the others keep their row index."""
    frame = gpd.GeoDataFrame(
        {"code": ["X", "A", "B"]},
        geometry=[None, *two_squares.geometry],
        crs="EPSG:4326",
    )
    g = CommuneGrid.build(frame, BOUNDS, cell_deg=CELL)
    assert 0 not in g.commune_index
    assert (g.commune_index[4:8, 0:4] == 1).all()
    assert (g.commune_index[4:8, 4:8] == 2).all()


def test_render_png_is_a_png_of_the_grid_size(grid):
    """render_png returns PNG bytes whose image is cols × rows pixels."""
    png = grid.render_png(np.array([0, 1]), [RED, BLUE])
    assert png.startswith(b"\x89PNG")
    assert Image.open(io.BytesIO(png)).size == (16, 8)


def test_render_png_paints_the_palette_colours(grid):
    """Each commune's pixels have the palette colour of its class."""
    pixels = decode(grid.render_png(np.array([0, 1]), [RED, BLUE]))
    assert (pixels[4:8, 0:4] == rgba(RED)).all()
    assert (pixels[4:8, 4:8] == rgba(BLUE)).all()


def test_render_png_is_transparent_outside_communes(grid):
    """Pixels outside every commune have alpha 0."""
    pixels = decode(grid.render_png(np.array([0, 1]), [RED, BLUE]))
    assert (pixels[0:3, :, 3] == 0).all()
    assert (pixels[:, 9:, 3] == 0).all()


def test_render_png_negative_class_is_transparent(grid):
    """A commune of class −1 is left transparent."""
    pixels = decode(grid.render_png(np.array([-1, 1]), [RED, BLUE]))
    assert (pixels[4:8, 0:4, 3] == 0).all()
    assert (pixels[4:8, 4:8] == rgba(BLUE)).all()


def test_render_png_with_distance_classes(grid):
    """Distance classes: a commune with no site in its zone (inf) gets the grey; NaN none."""
    palette = distance_palette()
    pixels = decode(grid.render_png(distance_classes(np.array([10.0, np.inf])), palette))
    assert (pixels[4:8, 0:4] == rgba(palette[0])).all()
    assert (pixels[4:8, 4:8] == rgba(NO_SITE_IN_ZONE_COLOUR)).all()
    pixels = decode(grid.render_png(distance_classes(np.array([np.nan, 150.0])), palette))
    assert (pixels[4:8, 0:4, 3] == 0).all()
    assert (pixels[4:8, 4:8] == rgba(palette[3])).all()
