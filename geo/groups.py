"""Disease groups of the 2007 typology (17 groups) mapped to the 23 filières.

``data/groups.csv`` (``group_id, group_name, filiere, note``) is the project's
documented mapping: the 2007 circular's 17-group typology (seed 001, annexe 2)
predates the filières (2014), so each filière is attached to the group(s) its
scope falls in, by judgement; a filière may belong to two groups (e.g. MaRIH:
haematological diseases and immune deficiencies) and group 17 "Autres" has none.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo.territories import DATA_DIR

GROUPS_FILE = DATA_DIR / "groups.csv"


def load_groups(path: Path = GROUPS_FILE) -> pd.DataFrame:
    """The mapping table as strings: ``group_id`` (1–17), ``group_name``, ``filiere``, ``note``."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def group_names(groups: pd.DataFrame | None = None) -> dict[int, str]:
    """Group id → French name, in id order."""
    groups = load_groups() if groups is None else groups
    pairs = groups[["group_id", "group_name"]].drop_duplicates()
    return {
        int(k): v
        for k, v in sorted(
            zip(pairs["group_id"], pairs["group_name"], strict=True), key=lambda kv: int(kv[0])
        )
    }


def filieres_of_group(group_id: int, groups: pd.DataFrame | None = None) -> tuple[str, ...]:
    """Filières of one group (possibly empty, for "Autres"); ValueError for an unknown id."""
    groups = load_groups() if groups is None else groups
    rows = groups[groups["group_id"] == str(group_id)]
    if rows.empty:
        raise ValueError(f"group must be between 1 and 17; got {group_id!r}")
    return tuple(f for f in rows["filiere"] if f)
