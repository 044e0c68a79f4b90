"""Tables as users download them: stable columns, formula-injection-safe cells."""

from __future__ import annotations

import pandas as pd

#: Columns of the exported sites table, in order.
SITE_COLUMNS = (
    "id",
    "filiere",
    "crmr_name",
    "label",
    "establishment",
    "service",
    "commune",
    "commune_code",
    "dep",
    "reg",
    "lat",
    "lon",
    "age_group",
    "vintage",
    "source_url",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value):
    """Prefix text cells that a spreadsheet would run as a formula with an apostrophe.

    >>> neutralise_cell("=HYPERLINK(1)")
    "'=HYPERLINK(1)"
    >>> neutralise_cell(-3.5)
    -3.5
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot run as spreadsheet formulas."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_object_dtype(out[col]) or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise_cell)
    return out


def table_for_export(centres: pd.DataFrame) -> pd.DataFrame:
    """The sites table as downloaded (CSV) and shown: known columns only, safe cells."""
    cols = [c for c in SITE_COLUMNS if c in centres.columns]
    return neutralise_frame(centres[cols].reset_index(drop=True))


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a BOM (Excel opens accents correctly), formula-safe."""
    return neutralise_frame(frame).to_csv(index=False, lineterminator="\n").encode("utf-8-sig")
