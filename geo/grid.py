"""A light commune-level raster for maps: each pixel shows the value of its commune.

Drawing 35,000 commune polygons in the browser is heavy (several MB); instead
:class:`CommuneGrid` rasterises the communes once per process (pixel → commune
index) and each selection is rendered as a small PNG (tens of kB) placed on the
map as an image overlay. Rows are spaced evenly in Web-Mercator so the image lines
up with Leaflet's projection; pixel centres are tested against the communes in
WGS84 (EPSG:4326).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from PIL import Image

#: Default pixel size in degrees of longitude (≈ 1.5 km).
DEFAULT_CELL_DEG = 0.02


def _merc_y(lat: np.ndarray) -> np.ndarray:
    lat_r = np.radians(np.clip(lat, -85.0, 85.0))
    return np.log(np.tan(np.pi / 4 + lat_r / 2))


def _merc_lat(y: np.ndarray) -> np.ndarray:
    return np.degrees(2 * np.arctan(np.exp(y)) - np.pi / 2)


@dataclass(frozen=True)
class CommuneGrid:
    """Pixel → commune index (−1 outside every commune) over a lon/lat box."""

    bounds: tuple[float, float, float, float]  # lon_min, lat_min, lon_max, lat_max
    commune_index: np.ndarray  # (rows, cols) int32, row 0 = north

    @classmethod
    def build(
        cls,
        communes: gpd.GeoDataFrame,
        bounds: tuple[float, float, float, float],
        cell_deg: float = DEFAULT_CELL_DEG,
    ) -> CommuneGrid:
        """Rasterise the communes intersecting ``bounds`` (degrees) at ``cell_deg`` resolution."""
        x0, y0, x1, y1 = bounds
        cols = max(1, round((x1 - x0) / cell_deg))
        my0, my1 = _merc_y(np.array([y0, y1]))
        rows = max(1, round(cols * (my1 - my0) / np.radians(x1 - x0)))
        lon = x0 + (np.arange(cols) + 0.5) * (x1 - x0) / cols
        lat = _merc_lat(my1 - (np.arange(rows) + 0.5) * (my1 - my0) / rows)
        lon_g, lat_g = np.meshgrid(lon, lat)
        points = shapely.points(lon_g.ravel(), lat_g.ravel())
        geoms = communes.geometry.values
        has_geom = ~shapely.is_missing(geoms)
        tree = shapely.STRtree(np.where(has_geom, geoms, shapely.Point()))
        point_idx, geom_idx = tree.query(points, predicate="within")
        index = np.full(len(points), -1, dtype=np.int32)
        index[point_idx] = geom_idx
        # Pixels in the slivers between simplified neighbours take the nearest commune
        # (within one pixel), so the image has no speckles; the sea stays transparent.
        missing = np.flatnonzero(index < 0)
        near_point, near_geom = tree.query_nearest(points[missing], max_distance=cell_deg)
        first = np.unique(near_point, return_index=True)[1]
        index[missing[near_point[first]]] = near_geom[first]
        return cls((x0, y0, x1, y1), index.reshape(rows, cols))

    def render_png(self, commune_class: np.ndarray, palette: list[str]) -> bytes:
        """PNG of the grid: pixel colour = ``palette[commune_class[commune]]``, transparent
        outside communes and where the class is negative."""
        classes = np.asarray(commune_class, dtype=np.int64)
        pixel = np.full(self.commune_index.shape, -1, dtype=np.int64)
        inside = self.commune_index >= 0
        pixel[inside] = classes[self.commune_index[inside]]
        # Palette image: index 0 transparent, index k + 1 = palette[k].
        indexed = np.where(pixel >= 0, pixel + 1, 0).astype(np.uint8)
        image = Image.fromarray(indexed, "P")
        flat = [0, 0, 0]
        for colour in palette:
            c = colour.lstrip("#")
            flat += [int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)]
        image.putpalette(flat)
        buf = io.BytesIO()
        image.save(buf, format="PNG", transparency=0)
        return buf.getvalue()

    @property
    def leaflet_bounds(self) -> list[list[float]]:
        """[[south, west], [north, east]] for an image overlay."""
        x0, y0, x1, y1 = self.bounds
        return [[y0, x0], [y1, x1]]
