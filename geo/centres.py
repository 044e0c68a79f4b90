"""The centre registry: one row per site of France's rare-disease care network.

Schema (``data/centres.csv``, UTF-8 CSV):

============== ===============================================================
column         meaning
============== ===============================================================
id             stable identifier, unique in the file
filiere        one of the 23 FSMR (:data:`FILIERES`); empty only for ``pemr``
crmr_name      CRMR network (or platform) name, as the source writes it
label          one of :data:`LABELS`
establishment  hospital or group, as the source writes it
service        hospital department, may be empty
commune_code   INSEE code of the commune (COG), e.g. ``75056``
lat, lon       WGS84 degrees (the commune's representative point by default)
age_group      ``pediatric``, ``adult``, ``both`` or ``unknown``
vintage        labellisation round: ``2023-2028``, ``2017-2022``, ``before-2017``,
               a year (PEMR), or ``unknown``
source_url     the public page that states the site
============== ===============================================================

Optional columns: ``vintage_note``, ``source_row`` (row number in an imported file),
``capacity`` (a positive number, used by accessibility measures; 1 when absent).

:func:`load_centres` validates a file and raises :class:`~geo.errors.RegistryError`
listing every problem with its row and the fix.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import DataFileError, RegistryError
from geo.territories import DATA_DIR

CENTRES_FILE = DATA_DIR / "centres.csv"
CENTRES_ENV = "CENTRES_FILE"

#: The 23 filières de santé maladies rares, canonical spelling.
FILIERES = (
    "AnDDI-Rares",
    "BRAIN-TEAM",
    "CARDIOGEN",
    "DéfiScience",
    "FAI2R",
    "FAVA-Multi",
    "FILFOIE",
    "FILNEMUS",
    "FILSLAN",
    "FIMARAD",
    "FIMATHO",
    "FIRENDO",
    "G2M",
    "MaRIH",
    "MCGRE",
    "MHEMO",
    "MUCO-CFTR",
    "NeuroSphinx",
    "ORKiD",
    "OSCAR",
    "RespiFIL",
    "SENSGENE",
    "TETECOU",
)

#: Site labels, in display order.
LABELS = (
    "crmr_coordonnateur",
    "crmr_constitutif",
    "crmr_site",
    "ccmr",
    "crc",
    "collaborateur",
    "pemr",
)
REFERENCE_LABELS = ("crmr_coordonnateur", "crmr_constitutif", "crmr_site")
AGE_GROUPS = ("pediatric", "adult", "both", "unknown")

REQUIRED_COLUMNS = (
    "id",
    "filiere",
    "crmr_name",
    "label",
    "establishment",
    "service",
    "commune_code",
    "lat",
    "lon",
    "age_group",
    "vintage",
    "source_url",
)
OPTIONAL_COLUMNS = ("vintage_note", "source_row", "capacity")

_VINTAGE_RE = re.compile(r"^(\d{4}-\d{4}|\d{4}|before-\d{4}|unknown)$")
_COMMUNE_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")

#: Bounding boxes (lon_min, lat_min, lon_max, lat_max) of France, in WGS84 degrees.
FRANCE_BOXES = {
    "métropole et Corse": (-5.3, 41.3, 9.7, 51.2),
    "Guadeloupe": (-61.9, 15.8, -60.9, 16.6),
    "Martinique": (-61.3, 14.3, -60.7, 14.95),
    "Guyane": (-54.7, 2.0, -51.5, 5.9),
    "La Réunion": (55.2, -21.45, 55.9, -20.8),
    "Mayotte": (44.9, -13.1, 45.4, -12.5),
}


def in_france(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """True where (lon, lat) in degrees falls in metropolitan France or a DROM box."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    inside = np.zeros(lon.shape, dtype=bool)
    for x0, y0, x1, y1 in FRANCE_BOXES.values():
        inside |= (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
    return inside


def default_centres_path() -> Path:
    """The registry to load: ``$CENTRES_FILE`` when set, else the embedded ``data/centres.csv``."""
    env = os.environ.get(CENTRES_ENV, "").strip()
    return Path(env).expanduser() if env else CENTRES_FILE


def _suggest(value: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f" (vouliez-vous dire « {close[0]} » ?)" if close else ""


def validate_centres(frame: pd.DataFrame, commune_codes: set[str] | None = None) -> list[str]:
    """Every problem of a registry frame, one French sentence each naming the row and the fix.

    Row numbers are file lines (header = line 1). ``commune_codes``, when given,
    is the set of valid INSEE commune codes. An empty list means valid.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        unknown = [c for c in frame.columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
        hint = f" Colonnes inattendues : {', '.join(map(str, unknown))}." if unknown else ""
        return [
            f"Colonnes manquantes : {', '.join(missing)}. Le fichier doit avoir les colonnes "
            f"{', '.join(REQUIRED_COLUMNS)}.{hint}"
        ]
    problems: list[str] = []
    lat = pd.to_numeric(frame["lat"], errors="coerce")
    lon = pd.to_numeric(frame["lon"], errors="coerce")
    inside = in_france(lon.fillna(999).to_numpy(), lat.fillna(999).to_numpy())
    seen: dict[str, int] = {}
    filiere_set, label_set = set(FILIERES), set(LABELS)
    for i, row in enumerate(frame.itertuples(index=False)):
        line = i + 2
        rid = str(row.id).strip()
        if not rid:
            problems.append(f"Ligne {line} : identifiant vide ; donnez un id unique à chaque site.")
        elif rid in seen:
            problems.append(
                f"Ligne {line} : identifiant « {rid} » déjà utilisé ligne {seen[rid]} ; "
                "chaque site doit avoir un id unique."
            )
        else:
            seen[rid] = line
        label = str(row.label).strip()
        if label not in label_set:
            problems.append(
                f"Ligne {line} : label « {label} » inconnu{_suggest(label, LABELS)} ; "
                f"valeurs admises : {', '.join(LABELS)}."
            )
        filiere = str(row.filiere).strip()
        if filiere not in filiere_set and not (filiere == "" and label == "pemr"):
            problems.append(
                f"Ligne {line} : filière « {filiere} » inconnue{_suggest(filiere, FILIERES)} ; "
                "utilisez l'une des 23 FSMR (liste dans le README)."
            )
        if pd.isna(lat.iat[i]) or pd.isna(lon.iat[i]):
            problems.append(
                f"Ligne {line} : latitude/longitude absentes ou non numériques "
                f"(« {row.lat} », « {row.lon} ») ; indiquez des degrés décimaux WGS84."
            )
        elif not inside[i]:
            problems.append(
                f"Ligne {line} : coordonnées hors de France (lat {lat.iat[i]}, lon {lon.iat[i]}) ; "
                "vérifiez qu'elles ne sont pas inversées."
            )
        code = str(row.commune_code).strip()
        if not _COMMUNE_RE.match(code):
            problems.append(
                f"Ligne {line} : code commune INSEE « {code} » invalide ; "
                "5 caractères attendus, par exemple 75056 ou 2A004."
            )
        elif commune_codes is not None and code not in commune_codes:
            problems.append(
                f"Ligne {line} : code commune « {code} » absent du Code officiel géographique ; "
                "vérifiez le code INSEE (pas le code postal)."
            )
        age = str(row.age_group).strip()
        if age not in AGE_GROUPS:
            problems.append(
                f"Ligne {line} : tranche d'âge « {age} » inconnue ; "
                f"valeurs admises : {', '.join(AGE_GROUPS)}."
            )
        vintage = str(row.vintage).strip()
        if not _VINTAGE_RE.match(vintage):
            problems.append(
                f"Ligne {line} : millésime « {vintage} » invalide ; écrivez par exemple "
                "2023-2028, 2017-2022, before-2017, 2020 ou unknown."
            )
    return problems


def read_centres_csv(path: Path) -> pd.DataFrame:
    """Read a registry CSV as strings (no validation); raises DataFileError when unreadable."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"Fichier de centres introuvable : {path}.")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFileError(
            f"Fichier de centres illisible : {path} ({exc.__class__.__name__}: {exc}). "
            "Attendu : un CSV UTF-8 avec en-tête."
        ) from exc


def prepare_centres(frame: pd.DataFrame, communes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Validate a registry frame and return it typed, with ``commune``, ``dep``, ``reg`` added.

    ``communes`` (the territory table) is used to check commune codes and to add
    the commune name, département and région. Raises RegistryError listing every problem.
    """
    codes = set(communes["code"].tolist()) if communes is not None else None
    problems = validate_centres(frame, codes)
    if problems:
        more = f" (et {len(problems) - 1} autres)" if len(problems) > 1 else ""
        raise RegistryError(f"Registre de centres invalide : {problems[0]}{more}", problems)
    out = frame.copy()
    for col in (*REQUIRED_COLUMNS, "vintage_note"):
        if col in out.columns and col not in ("lat", "lon"):
            out[col] = out[col].astype(str).str.strip()
    out["lat"] = pd.to_numeric(out["lat"]).astype(float)
    out["lon"] = pd.to_numeric(out["lon"]).astype(float)
    if "capacity" in out.columns:
        out["capacity"] = pd.to_numeric(out["capacity"], errors="coerce").fillna(1.0)
    if communes is not None:
        info = communes.set_index("code")[["name", "dep", "reg"]]
        out = out.join(info.rename(columns={"name": "commune"}), on="commune_code")
    return out.reset_index(drop=True)


def load_centres(path: Path | None = None, communes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Load and validate a registry (default: :func:`default_centres_path`).

    Raises DataFileError when the file cannot be read, RegistryError when it is invalid.
    """
    return prepare_centres(read_centres_csv(path or default_centres_path()), communes)


def filter_centres(
    centres: pd.DataFrame,
    filieres: Iterable[str] | None = None,
    networks: Iterable[str] | None = None,
    labels: Iterable[str] | None = None,
    regions: Iterable[str] | None = None,
    vintages: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Rows matching every given criterion (``None`` or empty = no restriction)."""
    mask = pd.Series(True, index=centres.index)
    for column, values in (
        ("filiere", filieres),
        ("crmr_name", networks),
        ("label", labels),
        ("reg", regions),
        ("vintage", vintages),
    ):
        values = list(values or [])
        if values:
            mask &= centres[column].isin(values)
    return centres[mask]


def summarise(centres: pd.DataFrame) -> dict:
    """Counts the UI and CLI state about a registry: sites, networks, by filière/label/vintage."""
    networks = centres.loc[centres["label"] != "pemr", ["filiere", "crmr_name", "vintage"]]
    by_filiere = (
        centres[centres["filiere"] != ""]
        .groupby("filiere")
        .agg(sites=("id", "size"), networks=("crmr_name", "nunique"))
    )
    return {
        "sites": len(centres),
        "networks": len(networks.drop_duplicates()),
        "network_names": int(networks["crmr_name"].nunique()),
        "filieres": int(centres.loc[centres["filiere"] != "", "filiere"].nunique()),
        "communes": int(centres["commune_code"].nunique()),
        "by_filiere": {
            k: {"sites": int(v["sites"]), "networks": int(v["networks"])}
            for k, v in by_filiere.iterrows()
        },
        "by_label": {k: int(v) for k, v in centres["label"].value_counts().items()},
        "by_vintage": {k: int(v) for k, v in centres["vintage"].value_counts().items()},
    }
