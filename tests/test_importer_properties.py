"""Properties of the importer on random and hostile tables (hypothesis).

Whatever the file, :func:`geo.importer.import_bytes` either raises a
:class:`~geo.errors.DataFileError` or returns a report whose counts balance and a
registry that passes :func:`geo.centres.prepare_centres`. Each property runs at most
50 examples so that the module takes seconds.
"""

from __future__ import annotations

import csv
import io

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from geo.centres import prepare_centres
from geo.errors import DataFileError
from geo.importer import FIELD_ALIASES, FIELDS, ImportContext, import_bytes

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HOSTILE = [
    "<script>window.__pwned=1</script>",
    "<img src=x onerror=alert(1)>",
    "\"quoted\" 'single'",
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2",
    "@SUM(A1)",
    "![x](http://127.0.0.9/leak.png)",
    ":red[x] **gras**",
    "Ωmega – ünïcødé 🚑",
    "a\nb",
    ";,\t|",
    "",
    " ",
    "javascript:alert(1)",
]
REAL = [
    "Lyon",
    "Paris",
    "75015",
    "Saint-Martin",
    "67220",
    "69",
    "2A",
    "FILNEMUS",
    "FAI²R",
    "Site coordonnateur",
    "CCMR",
    "PEMR",
    "crc",
    "2023-2028",
    "avant 2017",
    "adulte",
    "https://example.org",
    "45.75",
    "4.85",
    "-61.5",
    "16.24",
    "999",
    "La Réunion",
]
HEADERS = [a for aliases in FIELD_ALIASES.values() for a in aliases] + list(FIELDS)

cell = st.one_of(
    st.sampled_from(HOSTILE),
    st.sampled_from(REAL),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
)
header = st.one_of(st.sampled_from(HEADERS), st.text(max_size=15), st.sampled_from(HOSTILE))


@st.composite
def tables(draw):
    """A header of 1-8 columns, 0-8 rows, maybe title lines above and ragged rows."""
    width = draw(st.integers(1, 8))
    head = draw(st.lists(header, min_size=width, max_size=width))
    rows = draw(st.lists(st.lists(cell, min_size=0, max_size=width + 2), min_size=0, max_size=8))
    titles = draw(st.lists(st.lists(cell, max_size=2), max_size=3))
    return [*titles, head, *rows]


def to_csv(rows: list[list[str]], delimiter: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def to_xlsx(rows: list[list[str]]) -> bytes:
    book = openpyxl.Workbook()
    for values in rows:
        book.active.append([ILLEGAL_CHARACTERS_RE.sub("", v) for v in values])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def ctx(commune_index, communes, departements, regions):
    """The import context built from the embedded territories (shared, read-only)."""
    return ImportContext(commune_index, communes, departements, regions)


def check(result, communes) -> None:
    """The invariants of every successful import."""
    report = result.report
    assert report["accepted"] + report["warned"] + report["rejected"] == report["rows_read"]
    assert len(report["warnings"]) == report["warned"]
    assert len(report["rejections"]) == report["rejected"]
    assert len(result.registry) == report["accepted"] + report["warned"]
    assert len(result.rejected_rows) == report["rejected"]
    assert result.rows["source_row"].is_unique
    assert set(result.registry["source_row"]) <= set(result.rows["source_row"])
    assert result.registry["id"].is_unique
    used = communes[communes["code"].isin(set(result.registry["commune_code"]))]
    prepare_centres(result.registry, pd.DataFrame(used.drop(columns="geometry")))
    result.rejected_csv()
    result.registry_csv()
    result.report_json()


@SETTINGS
@given(
    rows=tables(),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
)
def test_random_csv_balances_or_raises_data_file_error(ctx, communes, rows, delimiter, encoding):
    """Random and hostile CSV tables never raise anything but DataFileError; counts balance."""
    data = to_csv(rows, delimiter).encode(encoding, errors="replace")
    try:
        result = import_bytes(data, "random.csv", context=ctx)
    except DataFileError:
        return
    check(result, communes)


@SETTINGS
@given(rows=tables())
def test_random_xlsx_balances_or_raises_data_file_error(ctx, communes, rows):
    """Random and hostile XLSX sheets never raise anything but DataFileError; counts balance."""
    try:
        result = import_bytes(to_xlsx(rows), "random.xlsx", context=ctx)
    except DataFileError:
        return
    check(result, communes)


@SETTINGS
@given(
    rows=tables(),
    mapping=st.dictionaries(
        st.one_of(st.sampled_from(HEADERS), st.text(max_size=10)),
        st.one_of(st.sampled_from([*FIELDS, "ignore", "ville"]), st.text(max_size=8)),
        max_size=3,
    ),
)
def test_random_mapping_balances_or_raises_data_file_error(ctx, communes, rows, mapping):
    """Any --map on any table gives a balanced report or a DataFileError."""
    data = to_csv(rows, ",").encode("utf-8")
    try:
        result = import_bytes(data, "random.csv", mapping=mapping, context=ctx)
    except DataFileError:
        return
    check(result, communes)


@SETTINGS
@given(data=st.binary(max_size=2000), name=st.sampled_from(["x.csv", "x.xlsx", "x"]))
def test_random_bytes_only_raise_data_file_error(ctx, communes, data, name):
    """Arbitrary bytes are either read as a table (balanced) or refused with DataFileError."""
    try:
        result = import_bytes(data, name, context=ctx)
    except DataFileError:
        return
    check(result, communes)


@SETTINGS
@given(rows=tables(), cut=st.integers(0, 4000))
def test_truncated_xlsx_only_raises_data_file_error(ctx, communes, rows, cut):
    """A workbook cut short anywhere is refused with DataFileError, never a traceback."""
    data = to_xlsx(rows)
    try:
        result = import_bytes(data[: min(cut, len(data) - 1)], "cut.xlsx", context=ctx)
    except DataFileError:
        return
    check(result, communes)
