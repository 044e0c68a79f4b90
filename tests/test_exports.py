"""Specification of the meeting exports (geo.exports): offline HTML, PNG, PDF, XLSX."""

from __future__ import annotations

import io
import re

import folium
import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from PIL import Image
from shapely.geometry import box

from geo.exports import (
    ExportError,
    file_stem,
    map_image,
    project,
    render_map_png,
    standalone_html,
    summary_pdf,
    to_xlsx_bytes,
)
from geo.grid import CommuneGrid
from geo.maps import OfflineMarkerCluster, image_layer, offline_map
from geo.network import legend_control, points_layer

RED, BLUE = "#ff0000", "#0000ff"


@pytest.fixture(scope="module")
def grid() -> CommuneGrid:
    """Two 1° squares side by side (communes 0 and 1) on a 0.05° grid over [0,3]×[0,2]."""
    squares = gpd.GeoDataFrame(
        {"code": ["A", "B"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:4326"
    )
    return CommuneGrid.build(squares, (0.0, 0.0, 3.0, 2.0), cell_deg=0.05)


@pytest.fixture
def points() -> pd.DataFrame:
    """One plain site at (0.5, 0.5) and one hypothetical (dashed) site at (1.5, 0.5)."""
    return pd.DataFrame(
        {
            "lon": [0.5, 1.5],
            "lat": [0.5, 0.5],
            "fill": ["#00ff00", "#ffffff"],
            "stroke": ["#000000", "#000000"],
            "radius": [8, 9],
            "dash": ["", "4 3"],
            "tip": ["CHU &lt;A&gt;", "Site hypothétique"],
            "popup": ["<strong>CHU &lt;A&gt;</strong>", ""],
        }
    )


@pytest.fixture
def offline(grid, points) -> folium.Map:
    """A map with everything the pages draw: raster, clustered and plain points, legend."""
    m = offline_map(center=(0.5, 1.0), zoom=6)
    png = grid.render_png(np.array([0, 1]), [RED, BLUE])
    image_layer(png, grid.leaflet_bounds, "Zones").add_to(m)
    points_layer(points, "Sites").add_to(m)
    cluster = OfflineMarkerCluster()
    folium.CircleMarker([0.5, 0.5], radius=4).add_to(cluster)
    cluster.add_to(m)
    legend_control([(RED, "Zone <A>")], "Légende").add_to(m)
    return m


# --------------------------------------------------------------------------- HTML


def test_standalone_html_fetches_nothing(offline):
    """No <script src>, <link href> or any http(s) source: Leaflet and markercluster inlined."""
    page = standalone_html(offline, "Carte")
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE)
    assert not re.search(r"<link[^>]*\bhref\s*=", page, re.IGNORECASE)
    fetching = (
        r"<(?:script|link|img|iframe|source|embed)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//"
    )
    assert not re.search(fetching, page, re.IGNORECASE)  # links (<a href>) fetch nothing
    assert "/app/static/" not in page
    assert "Leaflet 1.9.4, a JS library" in page  # the vendored files themselves
    assert "Leaflet.markercluster" in page
    assert "url(images/" not in page  # Leaflet's CSS images are data URLs


def test_standalone_html_escapes_its_title_and_caption(offline):
    """Title and caption are text, never markup."""
    page = standalone_html(offline, "<b>T</b>", "<img src=x>")
    assert "<title>&lt;b&gt;T&lt;/b&gt;</title>" in page
    assert "<img src=x>" not in page and "&lt;img src=x&gt;" in page


def test_standalone_html_refuses_a_map_with_tiles():
    """Base tiles would be fetched from a server: the export refuses them."""
    m = offline_map(tiles_url="https://tiles.example.org/{z}/{x}/{y}.png")
    with pytest.raises(ExportError, match=r"external resource|tile"):
        standalone_html(m)


def test_standalone_html_refuses_resources_outside_static():
    """A CDN script left by some plugin is refused, not silently kept."""
    m = offline_map()
    m.default_js = [("cdn", "https://cdn.example.org/x.js")]
    with pytest.raises(ExportError, match="outside"):
        standalone_html(m)


# --------------------------------------------------------------------------- PNG and PDF


def test_map_image_draws_the_raster_and_the_sites(grid, points):
    """Commune colours fill their squares; each site dot sits at its projected pixel."""
    image = map_image(grid, np.array([0, 1]), [RED, BLUE], points, width=300)
    px = np.asarray(image)
    x, y = project(grid, [0.5, 1.5, 2.5], [0.9, 0.9, 1.5], image.size)
    assert tuple(px[int(y[0]), int(x[0])]) == (255, 0, 0)  # commune A, away from the dot
    assert tuple(px[int(y[1]), int(x[1])]) == (0, 0, 255)  # commune B
    assert tuple(px[int(y[2]), int(x[2])]) != (255, 0, 0)  # outside: sea
    dx, dy = project(grid, [0.5], [0.5], image.size)
    assert tuple(px[int(dy[0]), int(dx[0])]) == (0, 255, 0)  # the site's fill


def test_map_image_draws_outlines(grid):
    """Territory outlines (e.g. départements) are drawn as grey borders over the sea."""
    image = map_image(
        grid,
        np.array([0, 1]),
        [RED, BLUE],
        width=300,
        outlines=gpd.GeoSeries([box(0.2, 0.2, 2.5, 1.5)]),
    )
    x, y = project(grid, [2.5], [1.2], image.size)
    assert tuple(np.asarray(image)[int(y[0]), round(x[0])]) == (85, 85, 85)


def test_png_export_is_a_real_image(grid, points):
    """PNG magic bytes, a size of several kB, title band above the map."""
    image = map_image(grid, np.array([0, 1]), [RED, BLUE], points, width=300)
    data = render_map_png(
        image,
        "Scénario « Brest »",
        [(RED, "Zone A"), (BLUE, "Zone B")],
        subtitle="Après le scénario",
    )
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5_000
    poster = Image.open(io.BytesIO(data))
    assert poster.width > image.width and poster.height > image.height


def test_pdf_export_is_one_page(grid, points):
    """PDF magic bytes, one page, non-trivial size."""
    image = map_image(grid, np.array([0, 1]), [RED, BLUE], points, width=300)
    data = summary_pdf(
        "Synthèse",
        image,
        [("Habitants à plus de 100 km", "1 000 → 900")] * 50,  # too many: cut, one page
        ["Note"],
        [(RED, "Zone A")],
    )
    assert data[:5] == b"%PDF-"
    assert len(data) > 20_000
    assert len(re.findall(rb"/Type\s*/Page\b", data)) == 1


# --------------------------------------------------------------------------- tables


def test_xlsx_is_readable_and_neutralised():
    """Sheets read back; formula-like text is prefixed; NaN becomes an empty cell."""
    frame = pd.DataFrame({"Nom": ['=HYPERLINK("http://x")', "CHU"], "Valeur": [1.5, np.nan]})
    data = to_xlsx_bytes({"Sites [test]/1": frame, "Sites [test]/2": frame})
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert len(book.sheetnames) == 2 and all(len(n) <= 31 for n in book.sheetnames)
    sheet = book[book.sheetnames[0]]
    assert sheet["A2"].value == '\'=HYPERLINK("http://x")'
    assert sheet["A2"].data_type == "s"
    assert sheet["B3"].value is None
    back = pd.read_excel(io.BytesIO(data), sheet_name=None)
    assert list(back[book.sheetnames[1]].columns) == ["Nom", "Valeur"]


def test_file_stem_is_safe():
    """Accents and punctuation become a plain file name."""
    assert file_stem("scénario", "Comité « Brest » / 2025") == "scenario-comite-brest-2025"
