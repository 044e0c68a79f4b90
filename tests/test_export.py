"""Specification of downloaded tables: known columns only, formula-injection-safe cells."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from geo.export import SITE_COLUMNS, neutralise_cell, table_for_export, to_csv_bytes

BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+33 1 23 45 67 89", "'+33 1 23 45 67 89"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
    ],
)
def test_neutralise_cell_prefixes_formula_text(value, expected):
    """Text a spreadsheet would run as a formula gets a leading apostrophe."""
    assert neutralise_cell(value) == expected


@pytest.mark.parametrize(
    "value",
    [-3.5, 42, 0.0, None, "CHU de Rennes", "Hôpital Necker – Enfants malades", "", "a=b", "75056"],
)
def test_neutralise_cell_leaves_other_values(value):
    """Numbers, missing values and ordinary text are returned unchanged."""
    assert neutralise_cell(value) == value


def test_to_csv_bytes_starts_with_bom():
    """The CSV starts with the UTF-8 BOM so Excel reads accents correctly."""
    assert to_csv_bytes(pd.DataFrame({"ville": ["Besançon"]})).startswith(BOM)


def test_to_csv_bytes_round_trips():
    """Decoded as UTF-8 with BOM, the CSV reads back to the same table, accents included."""
    frame = pd.DataFrame({"établissement": ["CHU de Besançon", "Hôpital Cœur"], "n": [1, 2]})
    back = pd.read_csv(io.BytesIO(to_csv_bytes(frame)), encoding="utf-8-sig")
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)


def test_to_csv_bytes_uses_unix_newlines():
    """Rows end with a single LF, no index column."""
    text = to_csv_bytes(pd.DataFrame({"a": [1, 2]})).decode("utf-8-sig")
    assert text == "a\n1\n2\n"


def test_table_for_export_keeps_known_columns_in_order(centres):
    """Only the documented site columns are exported, in SITE_COLUMNS order."""
    table = table_for_export(centres.assign(secret="x"))
    assert list(table.columns) == [c for c in SITE_COLUMNS if c in centres.columns]
    assert "secret" not in table.columns


def test_table_for_export_keeps_every_row(centres):
    """Exporting keeps every site, with a fresh 0..n-1 index."""
    subset = centres[centres["label"] == "ccmr"]
    table = table_for_export(subset)
    assert len(table) == len(subset)
    assert table.index.tolist() == list(range(len(subset)))


def test_table_for_export_tolerates_missing_columns():
    """A frame without the joined commune columns exports the columns it has."""
    frame = pd.DataFrame({"id": ["a"], "label": ["ccmr"], "autre": [1]})
    assert list(table_for_export(frame).columns) == ["id", "label"]
