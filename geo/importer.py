"""Bring your own list: import a coordinator's CSV or XLSX table as a centre registry.

Coordinators hold authoritative lists (DGOS labellisation tables, a filière's
spreadsheet). :func:`import_bytes` takes them as they come and says what it did
with every row: each row read is *accepted*, *accepted with warnings* or
*rejected*, with its row number and a French reason a person can act on. The
accepted rows form a registry in the schema of ``data/centres.csv``
(:data:`geo.centres.REQUIRED_COLUMNS`, plus ``vintage_note``, ``source_row`` and
``capacity`` when the file has one) that passes :func:`geo.centres.prepare_centres`.
Nothing is written to disk and nothing is sent anywhere.

Reading
-------
- **CSV** separated by comma, semicolon, tab (or ``|``), encoded UTF-8, UTF-8 with
  BOM, UTF-16 with BOM (Excel's "texte Unicode") or Windows-1252/Latin-1; the
  separator and encoding are detected.
- **XLSX**: the first sheet, or the sheet named by ``sheet`` (case and accents
  ignored). Formulas are read as their last computed value, never evaluated.
- Title lines above the header are skipped: the header is the row, among the first
  :data:`HEADER_SCAN_ROWS`, with the most recognised column names.
- Limits: :data:`MAX_BYTES` (20 MB) and :data:`MAX_ROWS` (100,000 rows),
  :data:`MAX_COLUMNS` columns. Empty files, binary data, other formats (XLS, ODS,
  PDF…), an unknown sheet, a file with no recognisable column or beyond the limits
  raise :class:`ImportFileError` (a :class:`~geo.errors.DataFileError`) with a French
  message that says what to do.

Columns
-------
A header is recognised whatever its case, accents, punctuation or spacing
("Nom de l'établissement", "NOM DE L ETABLISSEMENT" and "nom_de_l’établissement"
are one) from :data:`FIELD_ALIASES`:

=============== ======================================================================
field           recognised headers (a selection; see :data:`FIELD_ALIASES`)
=============== ======================================================================
id              id, identifiant, identifiant du site
filiere         filière, FSMR, filière de santé maladies rares
crmr_name       centre de référence, CRMR, intitulé, nom du centre, réseau, name
label           label, type de centre, statut, type, type de site, kind
establishment   établissement, nom de l'établissement, hôpital, structure, site
service         service, unité, service hospitalier
city            ville, commune, localité, city
postal_code     code postal, CP, postal code
department      département, dép., dpt, code département, department_code
region          région (narrows homonyms: "Bretagne", "La Réunion-Mayotte")
address         adresse (its "75015 Paris" part is used when city/CP are absent)
lat, lon        latitude, longitude (lat, lng, long): WGS84 decimal degrees
age_group       age group, tranche d'âge, âge, public
vintage         vintage, millésime, période de labellisation, labellisation
vintage_note    vintage note, note millésime
source_url      source url, source, url, lien
capacity        capacité, capacity
=============== ======================================================================

Unrecognised columns are ignored (and listed) unless mapped explicitly: in the CLI
``--map "Colonne=field"`` (repeatable; the field may be written as one of its
aliases, and ``ignore`` drops a column), in the page with select boxes.

Values
------
- ``label``: usual spellings ("Site coordonnateur", "CRMR coordonnateur", "Centre de
  référence (constitutif)", "CCMR", "Centre de compétence", "CRC", "CRCM", "centre
  collaborateur", "PEMR", the compilation's ``reference``/``competence``…) map to
  :data:`geo.centres.LABELS` (:data:`LABEL_ALIASES`, then the keyword rules of
  :func:`normalise_label`). **A missing or unknown label rejects the row**: guessing
  the level of care would misstate the network.
- ``filiere``: case, accents, spaces and "FAI²R"-style spellings map to the 23 FSMR
  (:func:`normalise_filiere`). Missing (except for PEMR) or unknown: **rejected**.
- ``age_group``: "pédiatrique", "enfants", "adultes", "mixte"… → ``pediatric``,
  ``adult``, ``both``; missing → ``unknown``; unrecognised → ``unknown`` with a warning.
- ``vintage``: "2023-2028", "2023 – 2028", "2017/2022", "avant 2017", "2020"…;
  missing → ``unknown`` *with a warning*; unrecognised → ``unknown`` with a warning.
- ``source_url``: missing → kept empty with the warning "sans source"; a value that
  is not an http(s) link is kept with a warning, except other URL schemes
  (``javascript:``, ``data:``…), which are dropped with a warning.
- ``id``: the file's own id when present, non-empty and unique in the file; otherwise
  a stable hash of the row content (same recipe as :mod:`geo.compilation`), so
  re-importing a file gives the same ids whatever the row order.
- ``source_row``: the row number as a spreadsheet shows it (1-based, counting title
  lines and the header line; a quoted cell spanning several lines is one row).
- ``establishment``, ``crmr_name`` (except PEMR): an empty cell gives a warning when
  the file has the column. A row identical to an earlier one is kept with a warning
  (« doublon de la ligne N »). Cells beyond the last header column are ignored with a
  warning. Text is kept verbatim: escaping is the display's job (:mod:`geo.maps`,
  :func:`escape_markdown`), formula neutralisation the export's (:mod:`geo.export`).

Placement (offline)
-------------------
Each row gets a ``placement``: ``coordinates`` (given lat/lon), ``commune`` (placed at
its commune's representative point), ``ambiguous`` or ``not_found`` (both rejected,
the reason lists the candidates or close spellings).

- Without coordinates, city (+ postal code, département, région) is matched by
  :class:`geo.geocode.CommuneIndex`. A **département** column is a hard constraint (a
  city outside it is rejected, the reason names the city's real département); a
  **postal code** narrows homonyms and, when it contradicts the city, gives a warning.
- Given coordinates must fall in France (:func:`geo.centres.in_france`) and within
  :data:`DEPARTEMENT_TOLERANCE_KM` (2 km: the stored geometries are simplified) of the
  département the row states, through its département column, its postal code or its
  city. **A point in another département is rejected** (one of the two is wrong and
  the map would misplace the site). The commune is the stated city's when it matches,
  else the commune under the point.

Report
------
:attr:`ImportResult.report` (also the CLI's ``--report`` JSON)::

    {
      "rows_read": 120,           # non-blank rows below the header
      "accepted": 100,            # accepted without warning
      "warned": 15,               # accepted with warnings
      "rejected": 5,              # not in the registry
      "warnings":   [{"row": 7, "reason": "…"}, …],   # one entry per warned row
      "rejections": [{"row": 9, "reason": "…"}, …],   # one entry per rejected row
      "blank_rows": 2,            # empty rows skipped (not counted in rows_read)
      "placements": {"commune": 110, "coordinates": 5, "ambiguous": 2, "not_found": 3},
      "file": {"name": …, "format": "csv"|"xlsx", "encoding": …, "delimiter": …,
               "sheet": …, "header_row": 3},
      "columns": {"Ville": "city", …},   # header → field
      "ignored_columns": ["Responsable", …],
      "missing_fields": ["source_url", …],
      "notes": ["…"]              # file-level remarks
    }

``accepted + warned + rejected == rows_read`` always; several reasons of one row are
joined with " ; ". :attr:`ImportResult.rows` has one line per row read: ``source_row``,
``status`` (``accepted``/``warned``/``rejected``), ``placement``, ``commune_code``,
``reason``. :attr:`ImportResult.rejected_rows` holds the rejected rows with
their original columns plus ``ligne`` and ``motif du rejet``, to fix and re-import
(those two columns are ignored on re-import).

Example
-------
>>> result = import_bytes(b"Ville;Filiere;Label\\nLyon;FILNEMUS;CCMR\\n", "liste.csv")
>>> result.report["accepted"] + result.report["warned"]
1
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import functools
import hashlib
import io
import itertools
import json
import math
import re
import unicodedata
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point
from shapely.ops import nearest_points

from geo.centres import FILIERES, REQUIRED_COLUMNS, in_france
from geo.errors import DataFileError
from geo.export import to_csv_bytes
from geo.geocode import AMBIGUOUS, MATCHED, CommuneIndex, GeocodeResult, normalise_name
from geo.territories import load_commune_names, load_communes, load_departements, load_regions

#: Largest file accepted, in bytes (20 MB).
MAX_BYTES = 20 * 1024 * 1024
#: Most data rows accepted below the header.
MAX_ROWS = 100_000
#: Most columns accepted.
MAX_COLUMNS = 500
#: The header is searched among this many first rows (title lines above it are skipped).
HEADER_SCAN_ROWS = 30
#: Given coordinates may lie this far (km) outside their stated département's polygon.
DEPARTEMENT_TOLERANCE_KM = 2.0
#: Spelling suggestions are computed for at most this many unmatched cities per import.
MAX_SUGGESTIONS = 50
#: Session-state key under which the page stores a confirmed import (see app_pages/import.py).
IMPORTED_REGISTRY_KEY = "imported_registry"

ACCEPTED, WARNED, REJECTED = "accepted", "warned", "rejected"
COORDINATES, COMMUNE, NOT_FOUND, NO_PLACEMENT = "coordinates", "commune", "not_found", ""

#: Field → recognised headers. Headers are compared after :func:`header_key`
#: (lower case, no accents, punctuation and underscores as spaces).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "identifiant", "id site", "identifiant du site", "code site"),
    "filiere": (
        "filière",
        "FSMR",
        "filière de santé",
        "filière de santé maladies rares",
        "filière maladies rares",
        "filière FSMR",
        "nom de la filière",
        "filiere_name",
    ),
    "crmr_name": (
        "crmr_name",
        "centre de référence",
        "centre de référence maladies rares",
        "CRMR",
        "intitulé",
        "intitulé du centre",
        "intitulé du CRMR",
        "nom du centre",
        "nom du CRMR",
        "nom du centre de référence",
        "réseau",
        "nom du réseau",
        "centre",
        "name",
        "network",
    ),
    "label": (
        "label",
        "type de centre",
        "statut",
        "type",
        "type de site",
        "kind",
        "nature du site",
        "rôle",
        "role",
        "type de labellisation",
        "niveau",
    ),
    "establishment": (
        "établissement",
        "nom de l'établissement",
        "hôpital",
        "établissement de santé",
        "établissement de rattachement",
        "hôpital de rattachement",
        "structure",
        "site",
        "nom du site",
        "establishment",
        "hospital",
    ),
    "service": ("service", "service hospitalier", "unité", "service / unité"),
    "city": (
        "ville",
        "commune",
        "localité",
        "ville du site",
        "nom de la commune",
        "ville de l'établissement",
        "city",
        "town",
    ),
    "commune_code": (
        "commune_code",
        "code commune",
        "code INSEE",
        "INSEE",
        "code_insee",
        "code INSEE de la commune",
        "COG",
    ),
    "postal_code": ("code postal", "CP", "postal code", "postal_code", "code_postal", "zip"),
    "department": (
        "département",
        "dép.",
        "dpt",
        "dept",
        "code département",
        "n° département",
        "numéro de département",
        "department_code",
        "departement_code",
        "code dep",
    ),
    "region": ("région", "region"),
    "address": ("adresse", "adresse postale", "address"),
    "lat": ("latitude", "lat"),
    "lon": ("longitude", "lon", "lng", "long"),
    "age_group": (
        "age group",
        "age_group",
        "tranche d'âge",
        "âge",
        "public",
        "patients",
        "type de patients",
        "adulte / enfant",
        "enfant / adulte",
    ),
    "vintage": (
        "vintage",
        "millésime",
        "période de labellisation",
        "année de labellisation",
        "labellisation",
        "labellisation_year",
        "campagne de labellisation",
        "période",
    ),
    "vintage_note": ("vintage_note", "note millésime", "remarque millésime"),
    "source_url": (
        "source url",
        "source_url",
        "source",
        "url",
        "lien",
        "url source",
        "lien source",
    ),
    "capacity": ("capacité", "capacity"),
}

#: French names of the fields (page select boxes, messages).
FIELD_NAMES: dict[str, str] = {
    "id": "Identifiant",
    "filiere": "Filière (FSMR)",
    "crmr_name": "Centre de référence / réseau",
    "label": "Label (type de site)",
    "establishment": "Établissement",
    "service": "Service",
    "city": "Ville",
    "commune_code": "Code commune INSEE",
    "postal_code": "Code postal",
    "department": "Département",
    "region": "Région",
    "address": "Adresse",
    "lat": "Latitude",
    "lon": "Longitude",
    "age_group": "Tranche d'âge",
    "vintage": "Millésime",
    "vintage_note": "Note sur le millésime",
    "source_url": "Source (URL)",
    "capacity": "Capacité",
}
FIELDS = tuple(FIELD_ALIASES)
#: ``--map`` value that drops a column.
IGNORE = "ignore"

#: Label spellings (compared after :func:`header_key`) → registry label. When none
#: matches exactly, :func:`normalise_label` applies keyword rules.
LABEL_ALIASES: dict[str, str] = {
    **dict.fromkeys(
        (
            "crmr_coordonnateur",
            "coordonnateur",
            "coordinateur",
            "site coordonnateur",
            "crmr coordonnateur",
            "centre de référence coordonnateur",
            "centre de référence (coordonnateur)",
            "centre de référence – site coordonnateur",
            "CRMR – site coordonnateur",
            "coordinating site",
        ),
        "crmr_coordonnateur",
    ),
    **dict.fromkeys(
        (
            "crmr_constitutif",
            "constitutif",
            "site constitutif",
            "crmr constitutif",
            "centre de référence constitutif",
            "centre de référence (constitutif)",
            "centre de référence – site constitutif",
            "CRMR – site constitutif",
            "constitutive site",
        ),
        "crmr_constitutif",
    ),
    **dict.fromkeys(
        (
            "crmr_site",
            "reference",
            "référence",
            "centre de référence",
            "CRMR",
            "site de référence",
            "CRMR – site",
            "reference centre",
        ),
        "crmr_site",
    ),
    **dict.fromkeys(
        (
            "ccmr",
            "competence",
            "compétence",
            "centre de compétence",
            "centre de compétences",
            "centre de compétence maladies rares",
            "CCMR – centre de compétence",
            "competence centre",
        ),
        "ccmr",
    ),
    **dict.fromkeys(
        (
            "crc",
            "crcm",
            "centre de ressources et de compétences",
            "centre de ressources et de compétences de la mucoviscidose",
        ),
        "crc",
    ),
    **dict.fromkeys(
        ("collaborateur", "centre collaborateur", "site collaborateur", "collaborating centre"),
        "collaborateur",
    ),
    **dict.fromkeys(
        (
            "pemr",
            "plateforme d'expertise",
            "plateforme d'expertise maladies rares",
            "plateforme",
            "outre-mer",
            "plateforme de coordination outre-mer",
        ),
        "pemr",
    ),
}

#: Extra filière spellings (after :func:`_compact`) → canonical name.
FILIERE_ALIASES: dict[str, str] = {
    "anddi": "AnDDI-Rares",
    "brain": "BRAIN-TEAM",
    "fava": "FAVA-Multi",
    "muco": "MUCO-CFTR",
    "mucoviscidose": "MUCO-CFTR",
    "neurosphynx": "NeuroSphinx",
    "fai2r": "FAI2R",
    "defiscience": "DéfiScience",
}

_AGE_VALUES = {
    "pediatric": "pediatric",
    "pediatrique": "pediatric",
    "pediatrie": "pediatric",
    "enfant": "pediatric",
    "enfants": "pediatric",
    "paediatric": "pediatric",
    "children": "pediatric",
    "child": "pediatric",
    "adult": "adult",
    "adulte": "adult",
    "adultes": "adult",
    "adults": "adult",
    "both": "both",
    "mixte": "both",
    "tous ages": "both",
    "tout age": "both",
    "adulte et enfant": "both",
    "enfants et adultes": "both",
    "adultes et enfants": "both",
    "unknown": "unknown",
    "inconnu": "unknown",
    "nc": "unknown",
    "non precise": "unknown",
}
_UNKNOWN_VINTAGES = {"unknown", "inconnu", "inconnue", "nc", "non precise", "?"}
_URL_SCHEME = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.\-]*):")


class ImportFileError(DataFileError):
    """The file itself cannot be imported (unreadable, empty, too big, no known column…)."""


# --------------------------------------------------------------------------- text keys


def header_key(text: object) -> str:
    """Comparison key of a header or a label: lower case, no accents, words only.

    >>> header_key("  Nom de l’Établissement  ")
    'nom de l etablissement'
    >>> header_key("FAI²R")
    'fai2r'
    """
    s = str(text).strip().lower().replace("œ", "oe").replace("æ", "ae")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = re.sub(r"[^a-z0-9]+", " ", s)
    return s.strip()


def _compact(text: object) -> str:
    return header_key(text).replace(" ", "")


_ALIAS_TO_FIELD: dict[str, str] = {}
for _field, _aliases in FIELD_ALIASES.items():
    for _alias in (_field, *_aliases):
        _ALIAS_TO_FIELD.setdefault(header_key(_alias), _field)
_ALIAS_COMPACT = {k.replace(" ", ""): f for k, f in _ALIAS_TO_FIELD.items()}  # "C.P." → cp
_LABEL_KEYS = {header_key(k): v for k, v in LABEL_ALIASES.items()}
_FILIERE_KEYS = {
    **{_compact(f): f for f in FILIERES},
    **{_compact(k): v for k, v in FILIERE_ALIASES.items()},
}


def field_of_header(header: object) -> str | None:
    """The field a header designates by :data:`FIELD_ALIASES`, or None.

    >>> field_of_header("Code Postal"), field_of_header("DÉP."), field_of_header("Remarques")
    ('postal_code', 'department', None)
    """
    key = header_key(header)
    if not key:
        return None
    found = _ALIAS_TO_FIELD.get(key)
    if found is None:  # "C.P.", "Code-Postal"
        found = _ALIAS_COMPACT.get(key.replace(" ", ""))
    if found is None:  # "Ville (commune)", "Code postal *": drop a parenthesis or a mark
        stripped = header_key(re.sub(r"\(.*?\)", " ", str(header)))
        found = _ALIAS_TO_FIELD.get(stripped)
    return found


def normalise_label(value: object) -> str | None:
    """Registry label of a label spelling, or None when not recognised.

    >>> normalise_label("Centre de référence (constitutif)")
    'crmr_constitutif'
    >>> normalise_label("CRCM pédiatrique"), normalise_label("competence")
    ('crc', 'ccmr')
    """
    key = header_key(value)
    if not key:
        return None
    if key in _LABEL_KEYS:
        return _LABEL_KEYS[key]
    words = set(key.split())
    starts = lambda *stems: any(w.startswith(stems) for w in words)  # noqa: E731
    if "pemr" in words or starts("plateforme"):
        return "pemr"
    if starts("collabor"):
        return "collaborateur"
    if words & {"crc", "crcm"} or starts("ressource"):
        return "crc"
    if "ccmr" in words or starts("competence"):
        return "ccmr"
    if starts("coordonna", "coordina"):
        return "crmr_coordonnateur"
    if starts("constitu"):
        return "crmr_constitutif"
    if "crmr" in words or starts("reference"):
        return "crmr_site"
    return None


def normalise_filiere(value: object) -> str | None:
    """Canonical FSMR name of a filière spelling, or None when not recognised.

    >>> normalise_filiere("FAI²R"), normalise_filiere("defiscience"), normalise_filiere("x")
    ('FAI2R', 'DéfiScience', None)
    """
    key = _compact(value)
    if not key:
        return None
    for prefix in ("filieredesante", "filiere", "fsmr"):
        if key.startswith(prefix) and key[len(prefix) :] in _FILIERE_KEYS:
            key = key[len(prefix) :]
            break
    return _FILIERE_KEYS.get(key)


def normalise_age_group(value: object) -> str | None:
    """``pediatric``, ``adult``, ``both`` or ``unknown``; None when not recognised."""
    key = header_key(value)
    if not key:
        return "unknown"
    if key in _AGE_VALUES:
        return _AGE_VALUES[key]
    words = key.split()
    child = any(w.startswith(("pediat", "enfan", "paediat", "child")) for w in words)
    adult = any(w.startswith("adult") for w in words)
    if child and adult:
        return "both"
    if child:
        return "pediatric"
    if adult:
        return "adult"
    return None


def normalise_vintage(value: object) -> str | None:
    """Registry vintage of a labellisation round; ``unknown`` when empty; None if unreadable.

    >>> normalise_vintage("2023 – 2028"), normalise_vintage("avant 2017")
    ('2023-2028', 'before-2017')
    """
    text = str(value).strip()
    if not text:
        return "unknown"
    key = header_key(text)
    if key in _UNKNOWN_VINTAGES or text == "?":
        return "unknown"
    compact = re.sub(r"\s+", "", text.replace("–", "-").replace("—", "-"))
    m = re.fullmatch(r"(\d{4})[-/](\d{2}|\d{4})", compact)
    if m:
        start, end = m.group(1), m.group(2)
        end = start[:2] + end if len(end) == 2 else end
        return f"{start}-{end}" if end > start else None
    if re.fullmatch(r"\d{4}", compact):
        return compact
    m = re.fullmatch(r"(?:before|avant|anterieur a|pre) ?(\d{4})", key)
    if m:
        return f"before-{m.group(1)}"
    return None


def _clean_postal_code(value: str) -> str | None:
    """Five-digit postal code, "" when empty, None when unreadable (4 digits: zero added)."""
    pc = re.sub(r"[\s.]", "", value)
    if not pc:
        return ""
    if re.fullmatch(r"\d{4}", pc):
        pc = "0" + pc
    return pc if re.fullmatch(r"\d{5}", pc) else None


def _parse_degrees(value: str) -> float | None:
    text = value.strip().replace("\u2212", "-").replace(",", ".").rstrip("°").strip()
    try:
        out = float(text)
    except ValueError:
        return None
    return out if math.isfinite(out) else None


_MARKDOWN_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character


def escape_markdown(text: object) -> str:
    """Text shown literally by Streamlit's Markdown (st.markdown, st.table cells, labels).

    Every ASCII punctuation character is backslash-escaped (CommonMark allows it) and
    line breaks become spaces, so a name such as ``![x](http://…)``, ``<script>`` or
    ``:red[x]`` is displayed as written and never becomes an image, a link or markup.

    >>> print(escape_markdown("<b>*x*</b> ![i](u)"))
    \\<b\\>\\*x\\*\\<\\/b\\> \\!\\[i\\]\\(u\\)
    """
    flat = " ".join(str(text).split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in km between two WGS84 points (degrees)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


# --------------------------------------------------------------------------- context


class ImportContext:
    """The territory data an import needs (read-only, build once and share).

    ``communes`` (with geometry and ``lon``/``lat`` points), ``departements`` and,
    optionally, ``regions`` (names, to read a région column), all EPSG:4326.
    """

    def __init__(
        self,
        index: CommuneIndex,
        communes: gpd.GeoDataFrame,
        departements: gpd.GeoDataFrame,
        regions: pd.DataFrame | None = None,
    ):
        self.index = index
        self.communes = communes
        self.commune_codes = communes["code"].to_numpy()
        self.points = dict(
            zip(communes["code"], zip(communes["lon"], communes["lat"], strict=True), strict=True)
        )
        self.commune_dep = dict(zip(communes["code"], communes["dep"], strict=True))
        self.commune_name = dict(zip(communes["code"], communes["name"], strict=True))
        geoms = communes.geometry.to_numpy()
        self._commune_geoms = geoms
        self._commune_tree = shapely.STRtree(
            np.where(pd.isna(geoms), None, geoms)  # communes without geometry are skipped
        )
        self.dep_geoms = dict(zip(departements["code"], departements.geometry, strict=True))
        for geom in self.dep_geoms.values():
            if geom is not None:
                shapely.prepare(geom)
        self.dep_names = dict(zip(departements["code"], departements["name"], strict=True))
        self._dep_by_name = {header_key(n): c for c, n in self.dep_names.items()}
        self._region_deps: dict[str, set[str]] = {}
        if regions is not None and "reg" in departements:
            for code, name in zip(regions["code"], regions["name"], strict=True):
                deps = set(departements.loc[departements["reg"] == code, "code"])
                self._region_deps[header_key(name)] = deps
        for code, name in self.dep_names.items():  # "Guadeloupe", "Mayotte" as régions too
            self._region_deps.setdefault(header_key(name), set()).add(code)

    @classmethod
    def load(cls, data_dir: Path | None = None) -> ImportContext:
        """Build from the embedded territory files (about a second)."""
        communes = load_communes(data_dir)
        return cls(
            CommuneIndex(load_commune_names(data_dir), communes),
            communes,
            load_departements(data_dir),
            load_regions(data_dir),
        )

    def departement_code(self, value: str) -> str | None:
        """Département code of "69", "1", "2a", "69 - Rhône", "Rhône (69)" or "Rhône"."""
        text = value.strip()
        if not text:
            return None
        m = re.search(r"(?<![\d])(97[1-6]|2[ABab]|\d{1,2})(?![\d])", text)
        if m:
            code = m.group(1).upper()
            code = code.zfill(2) if code.isdigit() else code
            if code in self.dep_names:
                return code
        return self._dep_by_name.get(header_key(re.sub(r"\(.*?\)|\d+", " ", text)))

    def commune_code(self, value: str) -> str | None:
        """Current INSEE code of a code as written ("1004" → 01004; Paris/Lyon/Marseille
        arrondissements → the city), or None when it is not in the Code officiel géographique."""
        code = re.sub(r"\s", "", value).upper()
        if code.isdigit() and len(code) == 4:
            code = "0" + code
        if re.fullmatch(r"751(0[1-9]|1\d|20)", code):
            code = "75056"
        elif re.fullmatch(r"6938[1-9]", code):
            code = "69123"
        elif re.fullmatch(r"132(0[1-9]|1[0-6])", code):
            code = "13055"
        return code if code in self.commune_dep else None

    def region_departements(self, value: str) -> set[str]:
        """Départements a région text names ("Bretagne", "La Réunion-Mayotte"); may be empty."""
        key = header_key(value)
        if not key:
            return set()
        if key in self._region_deps:
            return set(self._region_deps[key])
        out: set[str] = set()
        for name in sorted(self._region_deps, key=len, reverse=True):  # longest names first
            pattern = rf"\b{re.escape(name)}\b"
            if re.search(pattern, key):
                out |= self._region_deps[name]
                key = re.sub(pattern, " ", key)
        return out

    def km_outside(self, dep: str, lon: float, lat: float) -> float:
        """Distance in km from a point to a département polygon (0 inside)."""
        geom = self.dep_geoms.get(dep)
        if geom is None:
            return math.inf
        pt = Point(lon, lat)
        if geom.covers(pt):
            return 0.0
        near = nearest_points(geom, pt)[0]
        return haversine_km(lon, lat, near.x, near.y)

    def commune_at(self, lon: float, lat: float) -> str | None:
        """INSEE code of the commune under a point, else the nearest within the tolerance."""
        pt = Point(lon, lat)
        hits = self._commune_tree.query(pt, predicate="intersects")
        if len(hits):
            return str(self.commune_codes[int(min(hits))])
        near = self._commune_tree.nearest(pt)
        if near is None:
            return None
        geom = self._commune_geoms[int(near)]
        p = nearest_points(geom, pt)[0]
        if haversine_km(lon, lat, p.x, p.y) <= DEPARTEMENT_TOLERANCE_KM:
            return str(self.commune_codes[int(near)])
        return None


@functools.lru_cache(maxsize=2)
def default_context(data_dir: Path | None = None) -> ImportContext:
    """:meth:`ImportContext.load`, built once per process (read-only: do not mutate)."""
    return ImportContext.load(data_dir)


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class RawTable:
    """A file's cells as text, every row kept (title lines included)."""

    rows: list[list[str]]
    name: str = ""
    format: str = "csv"
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def _too_big(size: int) -> ImportFileError:
    return ImportFileError(
        f"Fichier trop volumineux ({size / 1e6:.1f} Mo) : la limite est de "
        f"{MAX_BYTES // (1024 * 1024)} Mo. Découpez la liste en plusieurs fichiers."
    )


def _too_many_rows() -> ImportFileError:
    return ImportFileError(
        f"Fichier trop long : plus de {MAX_ROWS:,} lignes. ".replace(",", "\u202f")
        + "Découpez la liste en plusieurs fichiers."
    )


def _too_many_columns(n: int) -> ImportFileError:
    return ImportFileError(
        f"Trop de colonnes ({n} ; limite {MAX_COLUMNS}) : ce fichier ne ressemble pas à une "
        "liste de centres. Vérifiez le séparateur ou la feuille choisie."
    )


def _not_a_table(detail: str) -> ImportFileError:
    return ImportFileError(
        f"Ce fichier n'est pas un tableau lisible ({detail}). "
        "Attendu : un CSV (séparateur virgule, point-virgule ou tabulation) ou un classeur XLSX."
    )


def _check_magic(data: bytes) -> None:
    """Reject formats we recognise but do not read, with the fix."""
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            "Classeur Excel 97-2003 (.xls) non pris en charge : enregistrez-le en .xlsx "
            "ou en CSV (Fichier > Enregistrer sous) puis importez-le à nouveau."
        )
    if data.startswith(b"%PDF"):
        raise ImportFileError(
            "Fichier PDF non pris en charge : exportez le tableau en CSV ou XLSX."
        )
    if data.startswith(b"\x1f\x8b"):
        raise ImportFileError("Archive compressée (gzip) : décompressez-la d'abord.")


def read_table(data: bytes, name: str = "", sheet: str | None = None) -> RawTable:
    """Read CSV or XLSX bytes into rows of text; see the module docstring for formats.

    Raises :class:`ImportFileError` with a French message for anything unreadable.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"data must be bytes; got {type(data).__name__}")
    data = bytes(data)
    if len(data) > MAX_BYTES:
        raise _too_big(len(data))
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise ImportFileError(
            "Fichier vide : il ne contient aucune ligne. Vérifiez que vous avez choisi le bon "
            "fichier."
        )
    _check_magic(data)
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _read_xlsx(data, name, sheet)
    if name.lower().endswith((".xlsx", ".xlsm")):
        raise ImportFileError(
            f"« {name} » porte l'extension .xlsx mais n'est pas un classeur Excel valide. "
            "Ouvrez-le et enregistrez-le à nouveau en .xlsx ou en CSV."
        )
    table = _read_csv(data, name)
    if sheet:
        note = f"Le paramètre de feuille « {sheet} » est ignoré : un CSV n'a qu'une feuille."
        table = RawTable(**{**table.__dict__, "notes": (*table.notes, note)})
    return table


def _decode(data: bytes) -> tuple[str, str]:
    """Text and encoding name of CSV bytes; raise when they look binary."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "cp1252", "latin-1"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _not_a_table("encodage de texte non reconnu")
    if text.startswith("\ufeff"):
        text = text[1:]
    sample = text[:200_000]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n\x0c")
    if "\x00" in sample or controls > max(2, len(sample) // 200):
        raise _not_a_table("données binaires")
    return text, encoding


def _records(text: str, delimiter: str) -> csv.reader:
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)


def _sniff_delimiter(text: str) -> str:
    """The separator that gives the most recognised headers, then the most regular rows."""
    best, best_score = ",", None
    for delimiter in (",", ";", "\t", "|"):
        try:
            rows = list(itertools.islice(_records(text, delimiter), 200))
        except csv.Error:
            continue
        rows = [r for r in rows if any(c.strip() for c in r)]
        if not rows:
            continue
        hits = max(len(_row_fields(r, {})) for r in rows[:HEADER_SCAN_ROWS])
        widths = Counter(len(r) for r in rows)
        width, count = max(widths.items(), key=lambda kv: (kv[1] * (kv[0] > 1), kv[0]))
        regular = count / len(rows) if width > 1 else 0.0
        score = (hits, round(regular, 2), width)
        if best_score is None or score > best_score:
            best, best_score = delimiter, score
    return best


def _read_csv(data: bytes, name: str) -> RawTable:
    text, encoding = _decode(data)
    if not re.sub(r"[\s,;|\"']+", "", text):
        raise ImportFileError(
            "Fichier vide : il ne contient que des séparateurs, aucune cellule remplie."
        )
    delimiter = _sniff_delimiter(text)
    rows: list[list[str]] = []
    reader = _records(text, delimiter)
    try:
        for record in reader:
            if len(rows) >= MAX_ROWS + HEADER_SCAN_ROWS:
                raise _too_many_rows()
            if len(record) > MAX_COLUMNS:
                raise _too_many_columns(len(record))
            rows.append(record)
    except csv.Error as exc:
        raise ImportFileError(
            f"CSV mal formé vers la ligne {reader.line_num} ({exc}) : un guillemet n'est "
            "probablement pas fermé. Corrigez la cellule ou réenregistrez le fichier en CSV."
        ) from exc
    return RawTable(rows, name=name, format="csv", encoding=encoding, delimiter=delimiter)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _read_xlsx(data: bytes, name: str, sheet: str | None) -> RawTable:
    import openpyxl  # runtime dependency; imported here to keep `import geo` light

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _not_a_table("archive ZIP endommagée") from exc
    if "xl/workbook.xml" not in members:
        if "content.xml" in members:
            raise ImportFileError(
                "Classeur OpenDocument (.ods) non pris en charge : enregistrez-le en .xlsx "
                "ou en CSV puis importez-le à nouveau."
            )
        raise _not_a_table("archive ZIP qui n'est pas un classeur XLSX")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise _not_a_table(f"classeur XLSX endommagé : {exc.__class__.__name__}") from exc
    try:
        sheets = tuple(ws.title for ws in book.worksheets)
        if not sheets:
            raise ImportFileError("Le classeur ne contient aucune feuille de calcul.")
        if sheet is None or str(sheet).strip() == "":
            ws = book.worksheets[0]
        else:
            wanted = header_key(sheet)
            matches = [w for w in book.worksheets if w.title == sheet] or [
                w for w in book.worksheets if header_key(w.title) == wanted
            ]
            if not matches:
                raise ImportFileError(
                    f"Feuille « {sheet} » introuvable dans le classeur ; feuilles disponibles : "
                    + ", ".join(f"« {s} »" for s in sheets)
                    + "."
                )
            ws = matches[0]
        rows: list[list[str]] = []
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for values in ws.iter_rows(values_only=True):
                    if len(rows) >= MAX_ROWS + HEADER_SCAN_ROWS:
                        raise _too_many_rows()
                    cells = [_cell_text(v) for v in values]
                    while cells and cells[-1] == "":
                        cells.pop()
                    if len(cells) > MAX_COLUMNS:
                        raise _too_many_columns(len(cells))
                    rows.append(cells)
        except ImportFileError:
            raise
        except Exception as exc:  # malformed sheet XML
            raise _not_a_table(
                f"feuille « {ws.title} » illisible : {exc.__class__.__name__}"
            ) from exc
        return RawTable(rows, name=name, format="xlsx", sheet=ws.title, sheets=sheets)
    finally:
        book.close()


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Column:
    """One column of the file: position, header as shown, field it feeds (or None)."""

    index: int
    header: str
    field: str | None
    source: str  # "alias", "mapping", "ignored", "duplicate" or "" (unrecognised)


@dataclass(frozen=True)
class TableLayout:
    """Where the header is and what each column means."""

    header_row: int  # 1-based, as a spreadsheet shows it
    columns: tuple[Column, ...]

    @property
    def fields(self) -> dict[str, int]:
        """Field → column index, for the columns used."""
        return {
            c.field: c.index for c in self.columns if c.field and c.source in ("alias", "mapping")
        }

    @property
    def unrecognised(self) -> list[Column]:
        """Columns with a header no alias knows and no mapping names."""
        return [c for c in self.columns if c.source == ""]

    @property
    def missing(self) -> list[str]:
        """Useful fields no column feeds."""
        used = self.fields
        wanted = [
            "filiere",
            "label",
            "crmr_name",
            "establishment",
            "city",
            "postal_code",
            "age_group",
            "vintage",
            "source_url",
        ]
        return [f for f in wanted if f not in used]


def _resolve_field(value: str) -> str:
    """A ``--map`` target: a field name, one of its aliases, or ``ignore``."""
    text = str(value).strip()
    if header_key(text) in ("ignore", "ignorer", ""):
        return IGNORE
    if text in FIELD_ALIASES:
        return text
    found = field_of_header(text)
    if found is None:
        raise ImportFileError(
            f"Champ « {text} » inconnu dans la correspondance de colonnes ; champs possibles : "
            f"{', '.join(FIELDS)} (ou « {IGNORE} » pour écarter une colonne)."
        )
    return found


def _normalise_mapping(mapping: dict[str, str] | None) -> dict[str, str]:
    """``{header key: field}`` from a user mapping ``{column header: field or alias}``."""
    out: dict[str, str] = {}
    for column, target in (mapping or {}).items():
        key = header_key(column)
        if not key:
            raise ImportFileError("Correspondance de colonnes : nom de colonne vide.")
        out[key] = _resolve_field(target)
    return out


def _row_fields(row: list[str], mapping: dict[str, str]) -> set[str]:
    found = set()
    for cell in row:
        key = header_key(cell)
        target = mapping.get(key) if key in mapping else field_of_header(cell)
        if target and target != IGNORE:
            found.add(target)
    return found


def _display_headers(header: list[str]) -> list[str]:
    """Header cells as shown: blanks named « colonne N », repeats numbered."""
    out: list[str] = []
    seen: Counter = Counter()
    for i, cell in enumerate(header):
        text = " ".join(str(cell).split()) or f"colonne {i + 1}"
        seen[text] += 1
        out.append(text if seen[text] == 1 else f"{text} ({seen[text]})")
    return out


def detect_layout(table: RawTable, mapping: dict[str, str] | None = None) -> TableLayout:
    """Find the header row (skipping title lines) and the field of every column.

    ``mapping`` is ``{column header: field}`` as the user gives it (``--map``); it
    overrides the aliases. A header that no alias and no mapping knows is left
    unrecognised (``Column.source == ""``).
    """
    user = _normalise_mapping(mapping)
    scan = table.rows[:HEADER_SCAN_ROWS]
    best_i, best_score = None, 0
    for i, row in enumerate(scan):
        score = len(_row_fields(row, user))
        if score > best_score:
            best_i, best_score = i, score
    if best_i is None:  # nothing recognised: the fullest of the first rows, for mapping
        widths = [sum(1 for c in row if str(c).strip()) for row in scan]
        if not widths or max(widths) == 0:
            raise ImportFileError("Fichier vide : aucune cellule remplie.")
        best_i = widths.index(max(widths))
    header = table.rows[best_i]
    width = max([len(header), *(len(r) for r in table.rows[best_i + 1 : best_i + 200])])
    shown = _display_headers([*header, *[""] * (width - len(header))])
    unknown_keys = set(user) - {header_key(h) for h in shown} - {header_key(h) for h in header}
    if unknown_keys and mapping:
        missing = [c for c in mapping if header_key(c) in unknown_keys]
        raise ImportFileError(
            f"Colonne(s) {', '.join(f'« {c} »' for c in missing)} absente(s) de l'en-tête "
            f"(ligne {best_i + 1}) ; colonnes du fichier : "
            + ", ".join(f"« {h} »" for h in shown[:40])
            + "."
        )
    columns: list[Column] = []
    taken: set[str] = set()
    for i, text in enumerate(shown):
        raw = header[i] if i < len(header) else ""
        key = header_key(text)
        raw_key = header_key(raw)
        if key in user or raw_key in user:
            target, source = user.get(key, user.get(raw_key)), "mapping"
            if target == IGNORE:
                columns.append(Column(i, text, None, "ignored"))
                continue
        else:
            target, source = field_of_header(raw) if raw_key else None, "alias"
        if target is None:
            columns.append(Column(i, text, None, ""))
        elif target in taken:
            columns.append(Column(i, text, target, "duplicate"))
        else:
            taken.add(target)
            columns.append(Column(i, text, target, source))
    # A mapping wins over an alias for the same field: re-run with mapped fields first.
    mapped = {c.field for c in columns if c.source == "mapping"}
    if mapped:
        fixed, taken = [], set()
        order = sorted(columns, key=lambda c: (c.source != "mapping", c.index))
        for c in order:
            if c.field and c.source in ("alias", "mapping", "duplicate"):
                if c.field in taken:
                    c = Column(c.index, c.header, c.field, "duplicate")
                else:
                    taken.add(c.field)
                    c = Column(
                        c.index, c.header, c.field, c.source if c.source != "duplicate" else "alias"
                    )
            fixed.append(c)
        columns = sorted(fixed, key=lambda c: c.index)
    return TableLayout(best_i + 1, tuple(columns))


# --------------------------------------------------------------------------- import


@dataclass
class ImportResult:
    """What an import produced; see the module docstring for :attr:`report`."""

    registry: pd.DataFrame
    rows: pd.DataFrame
    rejected_rows: pd.DataFrame
    report: dict
    layout: TableLayout
    table: RawTable = field(repr=False)

    def report_json(self) -> str:
        """The report as indented UTF-8 JSON."""
        return json.dumps(self.report, ensure_ascii=False, indent=2)

    def rejected_csv(self) -> bytes:
        """The rejected rows as a formula-safe CSV (UTF-8 with BOM), to fix and re-import."""
        return to_csv_bytes(self.rejected_rows)

    def registry_csv(self) -> bytes:
        """The imported registry as a formula-safe CSV (loadable with ``CENTRES_FILE``)."""
        return to_csv_bytes(self.registry)


def _site_id(filiere: str, parts: list[str], used: set[str]) -> str:
    """Stable id from row content (the recipe of :mod:`geo.compilation`)."""
    slug = re.sub(r"[^a-z0-9]+", "", filiere.lower()) or "pemr"
    digest = hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:10]
    sid, n = f"{slug}-{digest}", 2
    while sid in used:
        sid, n = f"{slug}-{digest}-{n}", n + 1
    used.add(sid)
    return sid


def _quote(value: str, limit: int = 80) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class _Row:
    number: int
    cells: list[str]
    values: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    placement: str = NO_PLACEMENT
    record: dict | None = None


class _Importer:
    def __init__(self, table: RawTable, layout: TableLayout, context: ImportContext):
        self.table, self.layout, self.ctx = table, layout, context
        self.fields = layout.fields
        self.suggestions_left = MAX_SUGGESTIONS
        self.suggestions: dict[str, list[str]] = {}
        self._lookups: dict[tuple[str, str, str], GeocodeResult] = {}

    def lookup(self, city: str | None, postal: str | None, dep: str | None) -> GeocodeResult:
        """:meth:`CommuneIndex.lookup`, memoised for the import (lists repeat their cities)."""
        key = (city or "", postal or "", dep or "")
        found = self._lookups.get(key)
        if found is None:
            found = self._lookups[key] = self.ctx.index.lookup(city, postal, dep)
        return found

    def value(self, cells: list[str], name: str) -> str:
        i = self.fields.get(name)
        if i is None or i >= len(cells):
            return ""
        return str(cells[i]).strip()

    # -- per field -------------------------------------------------------------

    def check_label_filiere(self, row: _Row) -> tuple[str | None, str]:
        raw_label, raw_filiere = row.values["label"], row.values["filiere"]
        label = normalise_label(raw_label)
        if not raw_label:
            row.errors.append(
                "label manquant : indiquez le type de site (coordonnateur, constitutif, "
                "centre de compétence, CRC, collaborateur ou PEMR)"
            )
        elif label is None:
            row.errors.append(
                f"label « {_quote(raw_label)} » non reconnu : écrivez par exemple « site "
                "coordonnateur », « site constitutif », « centre de compétence », « CRC », "
                "« centre collaborateur » ou « PEMR »"
            )
        filiere = normalise_filiere(raw_filiere) if raw_filiere else ""
        if not raw_filiere:
            if label != "pemr":
                row.errors.append(
                    "filière manquante : indiquez l'une des 23 filières (FSMR), "
                    "par exemple FILNEMUS"
                )
        elif filiere is None:
            close = difflib.get_close_matches(raw_filiere, FILIERES, n=1, cutoff=0.6)
            hint = f" (vouliez-vous dire « {close[0]} » ?)" if close else ""
            row.errors.append(
                f"filière « {_quote(raw_filiere)} » inconnue{hint} : utilisez l'une des "
                "23 filières (FSMR) listées dans le README"
            )
            filiere = ""
        return label, filiere or ""

    def place(self, row: _Row) -> tuple[str, float, float] | None:
        """(commune code, lon, lat) of a row, or None with ``row.errors`` filled."""
        v = row.values
        city, pc_raw = v["city"], v["postal_code"]
        if not city and not pc_raw and v["address"]:
            m = re.search(r"\b(\d{5})\s+([^\d,;]+?)\s*$", v["address"])
            if m:
                pc_raw, city = m.group(1), m.group(2)
        postal = _clean_postal_code(pc_raw) if pc_raw else ""
        if postal is None:
            row.warnings.append(
                f"code postal « {_quote(pc_raw)} » illisible (5 chiffres attendus) : ignoré"
            )
            postal = ""
        dep = None
        if v["department"]:
            dep = self.ctx.departement_code(v["department"])
            if dep is None:
                row.warnings.append(
                    f"département « {_quote(v['department'])} » non reconnu (code attendu, "
                    "par exemple 69 ou 2A) : ignoré"
                )
        region_deps = self.ctx.region_departements(v["region"]) if v["region"] else set()
        if v["region"] and not region_deps:
            row.warnings.append(f"région « {_quote(v['region'])} » non reconnue : ignorée")
        given = None
        if v["commune_code"]:
            given = self.ctx.commune_code(v["commune_code"])
            if given is None:
                row.warnings.append(
                    f"code commune « {_quote(v['commune_code'], 20)} » absent du Code officiel "
                    "géographique : ignoré (la ville est utilisée)"
                )
        if v["lat"] or v["lon"]:
            return self.place_by_coordinates(row, city, postal, dep, region_deps, given)
        if given:
            return self.place_by_code(row, given, city, postal, dep)
        if not city and not postal:
            row.errors.append(
                "ni ville, ni code postal, ni coordonnées : indiquez au moins la ville du site"
            )
            return None
        found = self.lookup(city, postal, dep)
        code = None
        if found.status == MATCHED:
            code = found.code
            if found.warning:
                row.warnings.append(found.warning)
        elif found.status == AMBIGUOUS and region_deps:
            inside = [c for c in found.candidates if c.dep in region_deps]
            if len(inside) == 1:
                code = inside[0].code
        if code is None:
            row.placement = AMBIGUOUS if found.status == AMBIGUOUS else NOT_FOUND
            row.errors.append(self.not_placed_reason(found, city, postal, dep))
            return None
        row.placement = COMMUNE
        if region_deps and self.ctx.commune_dep[code] not in region_deps:
            row.warnings.append(
                f"{self.commune_label(code)} n'est pas dans la région « {_quote(v['region'])} » "
                "indiquée ; vérifiez la ville"
            )
        if postal and city:
            pc_deps = self.ctx.index.departements_of_postal_code(postal)
            if pc_deps and self.ctx.commune_dep[code] not in pc_deps:
                row.warnings.append(
                    f"le code postal {postal} (département {', '.join(sorted(pc_deps))}) ne "
                    f"correspond pas à {self.commune_label(code)} ; le site est placé dans "
                    "cette commune, vérifiez le code postal"
                )
        return self.commune_point(row, code)

    def place_by_code(
        self, row: _Row, code: str, city: str, postal: str, dep: str | None
    ) -> tuple[str, float, float] | None:
        if dep and self.ctx.commune_dep[code] != dep:
            row.errors.append(
                f"le code commune {code} ({self.commune_label(code)}) n'est pas dans le "
                f"département {dep} indiqué : corrigez le code ou le département"
            )
            return None
        if city or postal:
            other = self.lookup(city, postal, dep)
            if other.status == MATCHED and other.code != code:
                named = self.commune_label(other.code)
                row.warnings.append(
                    f"la ville « {_quote(city or postal)} » désigne {named}, pas "
                    f"{self.commune_label(code)} : le code commune est retenu"
                )
        row.placement = COMMUNE
        return self.commune_point(row, code)

    def commune_point(self, row: _Row, code: str) -> tuple[str, float, float] | None:
        lon, lat = self.ctx.points.get(code, (np.nan, np.nan))
        if pd.isna(lon) or pd.isna(lat):
            row.errors.append(
                f"{self.commune_label(code)} n'a pas de position connue : indiquez la latitude "
                "et la longitude du site"
            )
            return None
        return code, round(float(lon), 5), round(float(lat), 5)

    def commune_label(self, code: str) -> str:
        return f"{self.ctx.commune_name[code]} ({self.ctx.commune_dep[code]})"

    def not_placed_reason(self, found, city: str, postal: str, dep: str | None) -> str:
        if found.status == AMBIGUOUS:
            return found.reason
        if dep and city:  # is the city elsewhere? say where
            other = self.lookup(city, postal if postal else None, None)
            if other.status == MATCHED:
                return (
                    f"« {_quote(city)} » n'est pas dans le département {dep} mais dans le "
                    f"{other.dep} ({other.name}) : corrigez la ville ou le département"
                )
        reason = found.reason
        key = normalise_name(city) if city else ""
        if key and key not in self.suggestions and self.suggestions_left > 0:
            self.suggestions_left -= 1
            self.suggestions[key] = self.ctx.index.suggest(city)
        if key in self.suggestions:
            close = self.suggestions[key]
            if close:
                reason += " (vouliez-vous dire " + " ou ".join(f"« {c} »" for c in close) + " ?)"
        return reason + " : vérifiez l'orthographe ou ajoutez le code postal"

    def place_by_coordinates(
        self,
        row: _Row,
        city: str,
        postal: str,
        dep: str | None,
        region_deps: set[str],
        given: str | None,
    ) -> tuple[str, float, float] | None:
        v = row.values
        lat, lon = _parse_degrees(v["lat"]), _parse_degrees(v["lon"])
        if not v["lat"] or not v["lon"]:
            row.errors.append(
                "latitude ou longitude manquante : donnez les deux, ou aucune (le site est "
                "alors placé au centre de sa commune)"
            )
            return None
        if lat is None or lon is None:
            row.errors.append(
                f"coordonnées illisibles (latitude « {_quote(v['lat'], 30)} », longitude "
                f"« {_quote(v['lon'], 30)} ») : écrivez des degrés décimaux, ex. 45.7578 et 4.8320"
            )
            return None
        if not in_france(np.array([lon]), np.array([lat]))[0]:
            swapped = bool(in_france(np.array([lat]), np.array([lon]))[0])
            hint = (
                " ; elles semblent inversées (latitude et longitude échangées)"
                if swapped
                else " ; vérifiez le signe et l'ordre latitude/longitude"
            )
            row.errors.append(f"coordonnées hors de France (latitude {lat}, longitude {lon}){hint}")
            return None
        stated: set[str] = set()
        why = ""
        if dep:
            stated, why = {dep}, f"département {dep} indiqué"
        elif postal:
            stated = self.ctx.index.departements_of_postal_code(postal)
            why = f"code postal {postal}"
        if given:
            found = GeocodeResult(
                MATCHED,
                code=given,
                name=self.ctx.commune_name[given],
                dep=self.ctx.commune_dep[given],
            )
        elif city or postal:
            found = self.lookup(city, postal, dep)
        else:
            found = None
        if not stated and found is not None and found.status == MATCHED:
            stated, why = {found.dep}, f"commune {found.name}"
        if stated:
            distance = min(self.ctx.km_outside(d, lon, lat) for d in stated)
            if distance > DEPARTEMENT_TOLERANCE_KM:
                here = self.ctx.commune_at(lon, lat)
                where = f" ; elles tombent à {self.commune_label(here)}" if here else ""
                row.errors.append(
                    f"coordonnées (latitude {lat}, longitude {lon}) à {distance:.0f} km du "
                    f"département {'/'.join(sorted(stated))} ({why}){where} : corrigez les "
                    "coordonnées ou le département"
                )
                return None
        code = None
        if found is not None and found.status == MATCHED:
            code = found.code
        elif found is not None and found.status == AMBIGUOUS:
            near = [
                c
                for c in found.candidates
                if self.ctx.km_outside(c.dep, lon, lat) <= DEPARTEMENT_TOLERANCE_KM
            ]
            if len(near) == 1:
                code = near[0].code
        if code is None:
            code = self.ctx.commune_at(lon, lat)
            if code is None:
                row.errors.append(
                    f"coordonnées (latitude {lat}, longitude {lon}) hors de toute commune "
                    "(en mer ?) : vérifiez-les"
                )
                return None
            if city and found is not None and found.status != MATCHED:
                why = "plusieurs homonymes" if found.status == AMBIGUOUS else "introuvable"
                row.warnings.append(
                    f"commune « {_quote(city)} » non identifiée ({why}) : rattaché à "
                    f"{self.commune_label(code)} d'après les coordonnées"
                )
        if region_deps and self.ctx.commune_dep[code] not in region_deps:
            row.warnings.append(
                f"{self.commune_label(code)} n'est pas dans la région « {_quote(v['region'])} » "
                "indiquée ; vérifiez les coordonnées"
            )
        row.placement = COORDINATES
        return code, round(lon, 6), round(lat, 6)

    # -- one row ---------------------------------------------------------------

    def run_row(self, row: _Row) -> None:
        v = row.values
        label, filiere = self.check_label_filiere(row)
        placed = self.place(row)
        if row.errors or placed is None or label is None:
            return
        code, lon, lat = placed
        age = normalise_age_group(v["age_group"])
        if age is None:
            row.warnings.append(
                f"tranche d'âge « {_quote(v['age_group'])} » non reconnue (adulte, pédiatrique "
                "ou mixte attendu) : notée unknown"
            )
            age = "unknown"
        vintage = normalise_vintage(v["vintage"])
        if not v["vintage"]:
            row.warnings.append(
                "millésime absent : noté unknown ; indiquez la période de labellisation "
                "(ex. 2023-2028)"
            )
        elif vintage is None:
            row.warnings.append(
                f"millésime « {_quote(v['vintage'])} » non reconnu : noté unknown ; écrivez par "
                "exemple 2023-2028, 2017-2022, avant 2017 ou 2020"
            )
        vintage = vintage or "unknown"
        url = v["source_url"]
        scheme = _URL_SCHEME.match(url)
        if not url:
            row.warnings.append("sans source : indiquez la page publique qui mentionne ce site")
        elif scheme and scheme.group(1).lower() not in ("http", "https"):
            row.warnings.append(
                f"source « {_quote(url, 40)} » écartée : seuls les liens http(s) sont acceptés"
            )
            url = ""
        elif not scheme:
            row.warnings.append(
                f"source « {_quote(url, 60)} » gardée mais ce n'est pas un lien http(s)"
            )
        if not v["establishment"] and "establishment" in self.fields:
            row.warnings.append("établissement non précisé")
        if not v["crmr_name"] and label != "pemr" and "crmr_name" in self.fields:
            row.warnings.append("nom du centre de référence (CRMR) non précisé")
        record = {
            "id": "",
            "filiere": filiere,
            "crmr_name": v["crmr_name"],
            "label": label,
            "establishment": v["establishment"],
            "service": v["service"],
            "commune_code": code,
            "lat": lat,
            "lon": lon,
            "age_group": age,
            "vintage": vintage,
            "source_url": url,
            "vintage_note": v["vintage_note"],
            "source_row": row.number,
        }
        if "capacity" in self.fields:
            cap = _parse_degrees(v["capacity"]) if v["capacity"] else None
            if v["capacity"] and (cap is None or cap <= 0):
                row.warnings.append(
                    f"capacité « {_quote(v['capacity'], 20)} » invalide (nombre positif "
                    "attendu) : 1 par défaut"
                )
            record["capacity"] = cap if cap and cap > 0 else 1.0
        row.record = record

    # -- whole table -----------------------------------------------------------

    def run(self) -> ImportResult:
        header_i = self.layout.header_row - 1
        body = self.table.rows[header_i + 1 :]
        if len(body) > MAX_ROWS:
            raise _too_many_rows()
        width = len(self.layout.columns)
        rows: list[_Row] = []
        blank = 0
        for offset, cells in enumerate(body):
            cells = [str(c) for c in cells]
            if not any(c.strip() for c in cells):
                blank += 1
                continue
            number = header_i + 2 + offset
            values = {f: self.value(cells, f) for f in FIELDS}
            row = _Row(number, cells, values)
            extra = [c for c in cells[width:] if c.strip()]
            if extra:
                row.warnings.append(
                    f"{len(extra)} cellule(s) au-delà de la dernière colonne ignorée(s)"
                )
            self.run_row(row)
            rows.append(row)
        self.assign_ids(rows)
        return self.result(rows, blank)

    def assign_ids(self, rows: list[_Row]) -> None:
        kept = [r for r in rows if r.record is not None]
        own = Counter(r.values["id"] for r in kept if r.values["id"])
        used: set[str] = {i for i, n in own.items() if n == 1}
        first_of: dict[str, int] = {}
        for r in kept:
            rec = r.record
            own_id = r.values["id"]
            if own_id and own[own_id] == 1:
                rec["id"] = own_id
            else:
                parts = [
                    rec["filiere"],
                    rec["crmr_name"],
                    rec["label"],
                    rec["establishment"],
                    rec["service"],
                    r.values["city"] or rec["commune_code"],
                    rec["vintage"],
                    rec["source_url"],
                ]
                rec["id"] = _site_id(rec["filiere"], parts, used)
                if own_id:
                    r.warnings.append(
                        f"identifiant « {_quote(own_id, 40)} » répété dans le fichier : "
                        f"identifiant calculé {rec['id']} à la place"
                    )
            content = "\x1f".join(str(rec[k]) for k in REQUIRED_COLUMNS if k != "id")
            if content in first_of:
                r.warnings.append(f"doublon de la ligne {first_of[content]} (même contenu)")
            else:
                first_of[content] = r.number

    def result(self, rows: list[_Row], blank: int) -> ImportResult:
        layout, table = self.layout, self.table
        extra_cols = ["capacity"] if "capacity" in self.fields else []
        columns = [*REQUIRED_COLUMNS, "vintage_note", "source_row", *extra_cols]
        registry = pd.DataFrame([r.record for r in rows if r.record is not None], columns=columns)
        registry["source_row"] = registry["source_row"].astype("int64")
        registry["lat"] = registry["lat"].astype(float)
        registry["lon"] = registry["lon"].astype(float)

        def status(r: _Row) -> str:
            if r.record is None:
                return REJECTED
            return WARNED if r.warnings else ACCEPTED

        detail = pd.DataFrame(
            {
                "source_row": [r.number for r in rows],
                "status": [status(r) for r in rows],
                "placement": [r.placement for r in rows],
                "commune_code": [r.record["commune_code"] if r.record else "" for r in rows],
                "reason": [" ; ".join(r.errors if r.record is None else r.warnings) for r in rows],
            }
        )
        detail["source_row"] = detail["source_row"].astype("int64")
        headers = [c.header for c in layout.columns]
        rejected = [r for r in rows if r.record is None]
        width = len(headers)
        rejected_rows = pd.DataFrame(
            [[r.number, *(r.cells + [""] * width)[:width], " ; ".join(r.errors)] for r in rejected],
            columns=["ligne", *headers, "motif du rejet"],
        )
        counts = Counter(status(r) for r in rows)
        placements = Counter(r.placement for r in rows if r.placement)
        notes = list(table.notes)
        if layout.header_row > 1:
            notes.append(
                f"En-tête trouvé ligne {layout.header_row} : "
                f"{layout.header_row - 1} ligne(s) de titre au-dessus ignorée(s)."
            )
        for c in layout.columns:
            if c.source == "duplicate":
                notes.append(
                    f"Colonne « {c.header} » ignorée : le champ {c.field} vient déjà d'une "
                    "autre colonne."
                )
        report = {
            "rows_read": len(rows),
            "accepted": counts[ACCEPTED],
            "warned": counts[WARNED],
            "rejected": counts[REJECTED],
            "warnings": [
                {"row": r.number, "reason": " ; ".join(r.warnings)}
                for r in rows
                if r.record is not None and r.warnings
            ],
            "rejections": [{"row": r.number, "reason": " ; ".join(r.errors)} for r in rejected],
            "blank_rows": blank,
            "placements": dict(placements),
            "file": {
                "name": table.name,
                "format": table.format,
                "encoding": table.encoding,
                "delimiter": table.delimiter,
                "sheet": table.sheet,
                "header_row": layout.header_row,
            },
            "columns": {
                c.header: c.field
                for c in layout.columns
                if c.field and c.source in ("alias", "mapping")
            },
            "ignored_columns": [
                c.header for c in layout.columns if c.source in ("", "ignored", "duplicate")
            ],
            "missing_fields": layout.missing,
            "notes": notes,
        }
        return ImportResult(registry, detail, rejected_rows, report, layout, table)


def import_table(
    table: RawTable,
    mapping: dict[str, str] | None = None,
    context: ImportContext | None = None,
) -> ImportResult:
    """Import a :class:`RawTable`; raises :class:`ImportFileError` when no column is known."""
    layout = detect_layout(table, mapping)
    if not layout.fields:
        shown = ", ".join(f"« {_quote(c.header, 40)} »" for c in layout.columns[:20])
        raise ImportFileError(
            f"Aucune colonne reconnue (en-tête supposé ligne {layout.header_row} : {shown}). "
            "Renommez les en-têtes (ville, filière, label, établissement…) ou indiquez la "
            'correspondance des colonnes (--map "Colonne=champ" en ligne de commande).'
        )
    return _Importer(table, layout, context or default_context()).run()


def import_bytes(
    data: bytes,
    name: str = "",
    sheet: str | None = None,
    mapping: dict[str, str] | None = None,
    context: ImportContext | None = None,
) -> ImportResult:
    """Read and import a CSV/XLSX file held in memory (the page's upload, a test's bytes).

    ``mapping`` is ``{column header: field}`` for headers the aliases do not know.
    Raises :class:`ImportFileError` (a :class:`~geo.errors.DataFileError`) when the
    file itself cannot be imported; problems of single rows are in the report.
    """
    return import_table(read_table(data, name, sheet), mapping, context)


def import_file(
    path: Path | str,
    sheet: str | None = None,
    mapping: dict[str, str] | None = None,
    context: ImportContext | None = None,
) -> ImportResult:
    """:func:`import_bytes` on a file, checking its size before reading it."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise ImportFileError(f"« {path} » n'est pas un fichier.")
        if size > MAX_BYTES:
            raise _too_big(size)
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ImportFileError(f"Fichier introuvable : {path}.") from exc
    except PermissionError as exc:
        raise ImportFileError(f"Fichier illisible (droits insuffisants) : {path}.") from exc
    except OSError as exc:
        raise ImportFileError(f"Fichier illisible : {path} ({exc.strerror or exc}).") from exc
    return import_bytes(data, path.name, sheet, mapping, context)


# --------------------------------------------------------------------------- accuracy

#: Well-known cities, hand-checked: normalised city text → département code.
KNOWN_CITY_DEPARTEMENTS: dict[str, str] = {
    normalise_name(k): v
    for k, v in {
        "Paris": "75",
        "Lyon": "69",
        "Marseille": "13",
        "Lille": "59",
        "Bordeaux": "33",
        "Toulouse": "31",
        "Nantes": "44",
        "Strasbourg": "67",
        "Montpellier": "34",
        "Rennes": "35",
        "Nice": "06",
        "Grenoble": "38",
        "Rouen": "76",
        "Brest": "29",
        "Dijon": "21",
        "Tours": "37",
        "Angers": "49",
        "Reims": "51",
        "Nancy": "54",
        "Caen": "14",
        "Limoges": "87",
        "Poitiers": "86",
        "Amiens": "80",
        "Clermont-Ferrand": "63",
        "Besançon": "25",
        "Saint-Étienne": "42",
        "Le Kremlin-Bicêtre": "94",
        "Créteil": "94",
        "Bron": "69",
        "Pessac": "33",
        "Fort-de-France": "972",
        "Pointe-à-Pitre": "971",
        "Cayenne": "973",
        "Saint-Pierre (La Réunion)": "974",
        "Saint-Denis (La Réunion)": "974",
    }.items()
}


def accuracy_on_compilation(
    raw_dir: Path | str | None = None, context: ImportContext | None = None
) -> dict:
    """Re-import the public compilation's raw files and measure département accuracy.

    Each ``*.csv`` of ``raw_dir`` (default ``data/raw/centres``) goes through
    :func:`import_bytes` as a coordinator's file would. Ground truth, for rows with a
    city: the ``department_code`` when given, else the ``postal_code``'s département,
    else :data:`KNOWN_CITY_DEPARTEMENTS`. A checked row is *correct* when it is imported
    and placed in that département; a rejected checked row is a miss.

    Returns ``rows`` (read), ``rows_with_city``, ``checked``, ``correct``, ``share``
    (correct / checked), ``imported`` and ``misses`` (file, row, city, expected, got,
    reason).
    """
    from geo.compilation import RAW_DIR

    raw_dir = Path(raw_dir) if raw_dir is not None else RAW_DIR
    ctx = context or default_context()
    totals = Counter()
    misses: list[dict] = []
    for path in sorted(raw_dir.glob("*.csv")):
        result = import_file(path, context=ctx)
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        detail = result.rows.set_index("source_row")
        totals["rows"] += result.report["rows_read"]
        totals["imported"] += len(result.registry)
        for i, src in enumerate(raw.to_dict("records")):
            city = str(src.get("city", "")).strip()
            if not city:
                continue
            totals["rows_with_city"] += 1
            dep_code = ctx.departement_code(str(src.get("department_code", "")))
            postal = _clean_postal_code(str(src.get("postal_code", "")).strip()) or ""
            if dep_code:
                expected = {dep_code}
            elif postal:
                expected = ctx.index.departements_of_postal_code(postal)
            else:
                known = KNOWN_CITY_DEPARTEMENTS.get(normalise_name(city))
                expected = {known} if known else set()
            if not expected:
                continue
            totals["checked"] += 1
            line = i + 2
            got = detail.loc[line, "commune_code"] if line in detail.index else ""
            got_dep = ctx.commune_dep.get(got, "") if got else ""
            if got_dep in expected:
                totals["correct"] += 1
            else:
                misses.append(
                    {
                        "file": path.name,
                        "row": line,
                        "city": city,
                        "expected": "/".join(sorted(expected)),
                        "got": got_dep,
                        "reason": detail.loc[line, "reason"] if line in detail.index else "",
                    }
                )
    checked = totals["checked"]
    return {
        "rows": totals["rows"],
        "rows_with_city": totals["rows_with_city"],
        "checked": checked,
        "correct": totals["correct"],
        "share": round(totals["correct"] / checked, 4) if checked else 0.0,
        "imported": totals["imported"],
        "misses": misses,
    }
