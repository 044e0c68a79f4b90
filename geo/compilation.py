"""Build the embedded registry ``data/centres.csv`` from the public compilation.

The compilation (``data/raw/centres/<FILIÈRE>.csv`` and ``PEMR.csv``, copied from
the project's shared data with its README) holds one row per site as a public
page states it, with that page's URL. This module converts its labels, places
each site at its commune's representative point by the offline lookup of
:mod:`geo.geocode`, and keeps every source URL. Rows it cannot place are
written to ``data/centres_unplaced.csv`` with the reason, never dropped silently.

Command: ``python -m geo build-centres``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geo.centres import FILIERES, REQUIRED_COLUMNS
from geo.errors import DataFileError
from geo.geocode import MATCHED, CommuneIndex
from geo.territories import DATA_DIR, load_commune_names, load_communes

RAW_DIR = DATA_DIR / "raw" / "centres"
UNPLACED_FILE = DATA_DIR / "centres_unplaced.csv"

#: Compilation label → registry label.
LABEL_MAP = {
    "coordonnateur": "crmr_coordonnateur",
    "constitutif": "crmr_constitutif",
    "reference": "crmr_site",
    "competence": "ccmr",
    "crc": "crc",
    "collaborateur": "collaborateur",
    "pemr": "pemr",
    "outre-mer": "pemr",
}
#: Compilation filière spelling → canonical (only where they differ).
FILIERE_MAP = {"FAI²R": "FAI2R", "Defiscience": "DéfiScience"}
#: PEMR "region" column → département restriction for the commune lookup.
PEMR_REGION_DEPS = {
    "Guadeloupe": "971",
    "Martinique": "972",
    "Guyane": "973",
    "La Réunion-Mayotte": "974",
    "La Réunion": "974",
}


@dataclass(frozen=True)
class BuildResult:
    """Placed registry rows and unplaced rows (with ``reason``)."""

    placed: pd.DataFrame
    unplaced: pd.DataFrame


def _site_id(filiere: str, parts: list[str], used: set[str]) -> str:
    slug = re.sub(r"[^a-z0-9]+", "", filiere.lower()) or "pemr"
    digest = hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:10]
    sid, n = f"{slug}-{digest}", 2
    while sid in used:
        sid, n = f"{slug}-{digest}-{n}", n + 1
    used.add(sid)
    return sid


def _read_raw(raw_dir: Path) -> pd.DataFrame:
    """All compilation rows in one frame with the filière-file columns plus ``source_file``."""
    frames = []
    for path in sorted(raw_dir.glob("*.csv")):
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        df["source_file"] = path.name
        df["source_line"] = range(2, len(df) + 2)
        if path.name == "PEMR.csv":
            # One row per city a platform names ("Dijon; Besançon").
            df = df.assign(city=df["city"].str.split(";")).explode("city")
            df["city"] = df["city"].fillna("").str.strip()
            df = df.rename(columns={"name": "crmr_name", "kind": "label"})
            df["filiere"] = ""
            df["service"] = ""
            df["department_code"] = df["region"].map(PEMR_REGION_DEPS).fillna("")
            df["postal_code"] = ""
            df["age_group"] = ""
            df["vintage"] = df["labellisation_year"].replace("", "unknown")
            df["vintage_note"] = "plateforme labellisée en " + df["labellisation_year"]
            df.loc[df["labellisation_year"] == "", "vintage_note"] = "année non indiquée"
        frames.append(df)
    if not frames:
        raise DataFileError(f"Aucun fichier CSV de compilation dans {raw_dir}.")
    return pd.concat(frames, ignore_index=True)


def build_centres(
    raw_dir: Path = RAW_DIR,
    communes: pd.DataFrame | None = None,
    commune_names: pd.DataFrame | None = None,
) -> BuildResult:
    """Convert and place every compilation row; see the module docstring."""
    communes = load_communes() if communes is None else communes
    commune_names = load_commune_names() if commune_names is None else commune_names
    index = CommuneIndex(commune_names, communes)
    points = communes.set_index("code")[["lon", "lat"]]
    raw = _read_raw(raw_dir)

    placed, unplaced, used = [], [], set()
    for row in raw.itertuples(index=False):
        filiere = FILIERE_MAP.get(row.filiere, row.filiere)
        label = LABEL_MAP.get(row.label.strip())
        base = {
            "source_file": row.source_file,
            "source_line": row.source_line,
            "filiere": filiere,
            "crmr_name": row.crmr_name,
            "establishment": row.establishment,
            "city": row.city,
            "source_url": row.source_url,
        }
        reason = ""
        if label is None:
            reason = f"label « {row.label} » non reconnu"
        elif filiere and filiere not in FILIERES:
            reason = f"filière « {row.filiere} » non reconnue"
        elif not row.city.strip() and not row.postal_code.strip():
            reason = "la source n'indique pas la ville"
        if reason:
            unplaced.append({**base, "reason": reason})
            continue
        found = index.lookup(row.city, row.postal_code, row.department_code)
        if found.status != MATCHED:
            unplaced.append({**base, "reason": found.reason})
            continue
        lon, lat = points.loc[found.code, ["lon", "lat"]]
        if pd.isna(lon):
            unplaced.append({**base, "reason": f"la commune {found.code} n'a pas de position"})
            continue
        parts = [
            filiere,
            row.crmr_name,
            label,
            row.establishment,
            row.service,
            row.city,
            row.vintage,
            row.source_url,
        ]
        placed.append(
            {
                "id": _site_id(filiere, parts, used),
                "filiere": filiere,
                "crmr_name": row.crmr_name.strip(),
                "label": label,
                "establishment": row.establishment.strip(),
                "service": row.service.strip(),
                "commune_code": found.code,
                "lat": round(float(lat), 5),
                "lon": round(float(lon), 5),
                "age_group": row.age_group.strip() or "unknown",
                "vintage": row.vintage.strip() or "unknown",
                "source_url": row.source_url.strip(),
                "vintage_note": row.vintage_note.strip(),
            }
        )
    placed_df = pd.DataFrame(placed, columns=[*REQUIRED_COLUMNS, "vintage_note"])
    unplaced_df = pd.DataFrame(
        unplaced,
        columns=[
            "source_file",
            "source_line",
            "filiere",
            "crmr_name",
            "establishment",
            "city",
            "reason",
            "source_url",
        ],
    )
    return BuildResult(placed_df, unplaced_df)


def write_build(result: BuildResult, out_dir: Path = DATA_DIR) -> list[Path]:
    """Write ``centres.csv`` and ``centres_unplaced.csv``; return their paths."""
    paths = [out_dir / "centres.csv", out_dir / "centres_unplaced.csv"]
    result.placed.to_csv(paths[0], index=False, lineterminator="\n")
    result.unplaced.to_csv(paths[1], index=False, lineterminator="\n")
    return paths
