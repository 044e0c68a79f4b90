"""What-if scenarios: hypothetical sites added, existing sites removed, coverage before/after.

A :class:`Scenario` is a name, hypothetical sites to add (:class:`HypotheticalSite`: a
label, a commune and a WGS84 point, EPSG:4326) and registry ids to remove. It never
touches the registry on disk: :func:`scenario_sites` builds, in memory, the sites of a
selection after the scenario, and :func:`evaluate_scenario` measures the coverage before
and after with :func:`geo.coverage.compute_gaps` (inhabitants beyond each threshold in km,
territories with a site, E2SFCA accessibility in sites per million inhabitants).

Counting rule: a hypothetical site counts for the current selection whatever its
filière, network, label or round (it is what the user is testing); a removed site is
dropped from the selection when it belongs to it (ids outside the selection change
nothing and are reported).

Arithmetic: the "after" measures reuse the commune × location distance table of the
registry (:class:`geo.coverage.DistanceTable`) and add one column per new location
(:func:`extend_table`), with the same formula and the overseas zone rule; the result
equals a recomputation from scratch on a registry holding the hypothetical sites as
ordinary rows (tested).

Scenarios are saved as a small JSON document (:meth:`Scenario.to_json_bytes`) and read
back strictly (:func:`scenario_from_json`): any problem raises :class:`ScenarioError`
with a French sentence naming the field and the fix.

Example
-------
>>> s = Scenario("Test").with_addition(
...     HypotheticalSite("CH de Brest", "ccmr", "29019", -4.4861, 48.3904))
>>> Scenario.from_dict(s.to_dict()) == s
True
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from geo.centres import FRANCE_BOXES, LABELS
from geo.coverage import (
    DEFAULT_THRESHOLDS_KM,
    EARTH_RADIUS_KM,
    DistanceTable,
    Gaps,
    Selection,
    compute_gaps,
    unit_vectors,
    zone_of,
)
from geo.errors import GeoError
from geo.territories import OVERSEAS

SCENARIO_FORMAT = "carte-maladies-rares/scenario"
SCENARIO_VERSION = 1
#: Largest scenario file accepted (bytes).
MAX_SCENARIO_BYTES = 200_000
MAX_ADDITIONS = 200
MAX_REMOVALS = 3000
MAX_NAME_CHARS = 80
MAX_TEXT_CHARS = 160
#: Where a hypothetical site's point comes from.
SOURCES = ("commune", "registry", "suggestion")
HYPOTHETICAL_SUFFIX = " (hypothétique)"
HYPOTHETICAL_VINTAGE = "hypothetique"
_REQUIRED_KEYS = ("format", "version", "name", "additions", "removals")
_OPTIONAL_KEYS = ("created", "description")
_SITE_KEYS = ("name", "label", "commune_code", "lon", "lat", "source")
_SITE_OPTIONAL = ("registry_id",)
_COMMUNE_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


class ScenarioError(GeoError):
    """A scenario (or its JSON file) is invalid; the message says what to fix, in French."""


# --------------------------------------------------------------------------- the objects


@dataclass(frozen=True)
class HypotheticalSite:
    """A site that does not exist: shown as hypothetical, never written to ``data/``.

    ``name`` is the user's text (establishment or place), ``label`` one of
    :data:`geo.centres.LABELS`, ``commune_code`` its INSEE commune, ``lon``/``lat`` its
    point (WGS84 degrees), ``source`` how it was chosen (:data:`SOURCES`) and
    ``registry_id`` the registry row whose point it took (``source == "registry"``).
    """

    name: str
    label: str
    commune_code: str
    lon: float
    lat: float
    source: str = "commune"
    registry_id: str = ""

    @property
    def display_name(self) -> str:
        """The name with the "(hypothétique)" suffix, as every view shows it."""
        return (
            self.name
            if self.name.endswith(HYPOTHETICAL_SUFFIX)
            else self.name + HYPOTHETICAL_SUFFIX
        )

    def to_dict(self) -> dict:
        out = {k: getattr(self, k) for k in _SITE_KEYS}
        if self.registry_id:
            out["registry_id"] = self.registry_id
        return out


@dataclass(frozen=True)
class Scenario:
    """A named set of hypothetical additions and removals (immutable; methods return copies)."""

    name: str
    additions: tuple[HypotheticalSite, ...] = field(default_factory=tuple)
    removals: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_empty(self) -> bool:
        return not self.additions and not self.removals

    def with_addition(self, site: HypotheticalSite) -> Scenario:
        """This scenario plus one hypothetical site."""
        if len(self.additions) >= MAX_ADDITIONS:
            raise ScenarioError(
                f"Un scénario compte au plus {MAX_ADDITIONS} sites hypothétiques ; "
                "créez un autre scénario."
            )
        return replace(self, additions=(*self.additions, site))

    def without_addition(self, position: int) -> Scenario:
        """This scenario without its ``position``-th hypothetical site (0-based)."""
        if not 0 <= position < len(self.additions):
            raise IndexError(f"position must be in [0, {len(self.additions)}); got {position}")
        return replace(self, additions=self.additions[:position] + self.additions[position + 1 :])

    def with_removals(self, ids: Sequence[str]) -> Scenario:
        """This scenario with these registry ids removed too (order kept, no duplicate)."""
        return replace(self, removals=tuple(dict.fromkeys((*self.removals, *map(str, ids)))))

    def without_removal(self, site_id: str) -> Scenario:
        """This scenario with ``site_id`` restored."""
        return replace(self, removals=tuple(r for r in self.removals if r != site_id))

    def renamed(self, name: str) -> Scenario:
        return replace(self, name=_check_name(name, "name"))

    def to_dict(self) -> dict:
        """The JSON document (see :func:`scenario_from_json`)."""
        return {
            "format": SCENARIO_FORMAT,
            "version": SCENARIO_VERSION,
            "name": self.name,
            "additions": [s.to_dict() for s in self.additions],
            "removals": list(self.removals),
        }

    def to_json_bytes(self) -> bytes:
        """UTF-8 JSON, indented (a small file users can read)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2).encode("utf-8")

    @classmethod
    def from_dict(cls, data: dict, communes: pd.DataFrame | None = None) -> Scenario:
        """Strictly validated scenario from a parsed JSON document.

        See :func:`scenario_from_json` for the checks.
        """
        return _parse(data, communes)


# --------------------------------------------------------------------------- making sites


def _commune_row(communes: pd.DataFrame, code: str) -> pd.Series:
    match = communes.loc[communes["code"] == code]
    if match.empty:
        raise ScenarioError(
            f"Code commune « {code} » inconnu ; indiquez un code INSEE (ex. 29019)."
        )
    row = match.iloc[0]
    if pd.isna(row["lon"]) or pd.isna(row["lat"]):
        raise ScenarioError(
            f"La commune {row['name']} ({code}) n'a pas de point de référence ; "
            "choisissez une commune voisine."
        )
    return row


def site_at_commune(
    communes: pd.DataFrame, code: str, label: str, name: str = "", source: str = "commune"
) -> HypotheticalSite:
    """A hypothetical site at the representative point of commune ``code``."""
    row = _commune_row(communes, code)
    return HypotheticalSite(
        name=_check_text(name.strip() or f"Nouveau site – {row['name']}", "name"),
        label=_check_label(label, "label"),
        commune_code=str(code),
        lon=float(row["lon"]),
        lat=float(row["lat"]),
        source=source,
    )


def site_from_registry(
    centres: pd.DataFrame, site_id: str, label: str, name: str = ""
) -> HypotheticalSite:
    """A hypothetical site at the point of an existing registry row (an establishment)."""
    match = centres.loc[centres["id"] == site_id]
    if match.empty:
        raise ScenarioError(f"Site « {site_id} » absent du registre chargé.")
    row = match.iloc[0]
    default = (
        str(row["establishment"]).strip() or f"Site de {row.get('commune', row['commune_code'])}"
    )
    return HypotheticalSite(
        name=_check_text(name.strip() or default, "name"),
        label=_check_label(label, "label"),
        commune_code=str(row["commune_code"]),
        lon=float(row["lon"]),
        lat=float(row["lat"]),
        source="registry",
        registry_id=str(site_id),
    )


def hypothetical_rows(
    scenario: Scenario,
    communes: pd.DataFrame,
    columns: Sequence[str],
    start_index: int = 0,
    taken_ids: set[str] | frozenset[str] = frozenset(),
) -> pd.DataFrame:
    """The scenario's hypothetical sites as registry-shaped rows (in memory only).

    Columns are ``columns`` (those of the registry) plus ``hypothetical`` (True);
    ``establishment`` carries the "(hypothétique)" suffix, ``id`` is ``hyp-1``, ``hyp-2``…
    (prefixed further if the registry uses such ids), ``vintage`` is
    :data:`HYPOTHETICAL_VINTAGE`; the index starts at ``start_index``.
    """
    info = communes.set_index("code")
    rows = []
    for i, site in enumerate(scenario.additions):
        sid = f"hyp-{i + 1}"
        while sid in taken_ids:
            sid = "x" + sid
        c = info.loc[site.commune_code] if site.commune_code in info.index else None
        rows.append(
            {
                "id": sid,
                "filiere": "",
                "crmr_name": f"Scénario « {scenario.name} »",
                "label": site.label,
                "establishment": site.display_name,
                "service": "",
                "commune_code": site.commune_code,
                "lat": float(site.lat),
                "lon": float(site.lon),
                "age_group": "unknown",
                "vintage": HYPOTHETICAL_VINTAGE,
                "source_url": "",
                "commune": c["name"] if c is not None else site.commune_code,
                "dep": c["dep"] if c is not None else "",
                "reg": c["reg"] if c is not None else "",
                "capacity": 1.0,
                "hypothetical": True,
            }
        )
    cols = list(dict.fromkeys([*columns, "hypothetical"]))
    frame = pd.DataFrame(rows).reindex(columns=cols)
    frame.index = pd.RangeIndex(start_index, start_index + len(frame))
    return frame


def scenario_sites(
    centres: pd.DataFrame, selection: Selection, scenario: Scenario, communes: pd.DataFrame
) -> pd.DataFrame:
    """The selection's sites after the scenario: removals dropped, hypothetical rows added.

    Existing rows keep their registry index (and get ``hypothetical`` False); the
    hypothetical rows are indexed after the registry's largest index.
    """
    kept = selection.sites(centres)
    kept = kept[~kept["id"].isin(scenario.removals)].assign(hypothetical=False)
    start = int(centres.index.max()) + 1 if len(centres) else 0
    new = hypothetical_rows(scenario, communes, list(centres.columns), start, set(centres["id"]))
    if new.empty:
        return kept
    return pd.concat([kept, new.reindex(columns=kept.columns)], axis=0)


# --------------------------------------------------------------------------- arithmetic


def _location_keys(frame: pd.DataFrame) -> pd.Series:
    """The location key of :meth:`geo.coverage.DistanceTable.from_frames` (5 decimals)."""
    return frame["lon"].round(5).astype(str) + "," + frame["lat"].round(5).astype(str)


def extend_table(
    table: DistanceTable,
    centres: pd.DataFrame,
    communes: pd.DataFrame,
    rows: pd.DataFrame,
    corsica_separate: bool = False,
) -> DistanceTable:
    """``table`` (built for ``centres``) plus the distance columns of new ``rows``.

    A new row at a location the table already has reuses its column; other locations
    get a column computed as :meth:`DistanceTable.from_frames` does (great-circle km,
    float32, ``inf`` across zones, NaN for communes without a point). The returned
    table maps the registry index of ``centres`` and the index of ``rows``.
    """
    if rows.empty:
        return table
    existing = dict(
        zip(
            _location_keys(centres).to_numpy(),
            table.location_of_site.loc[centres.index].to_numpy(),
            strict=True,
        )
    )
    keys = _location_keys(rows)
    fresh = [k for k in pd.unique(keys) if k not in existing]
    column = dict(existing)
    by_location = table.by_location  # (locations, communes)
    zones = table.location_zone
    if fresh:
        first = rows.groupby(keys.to_numpy()).head(1)
        first = first.set_index(_location_keys(first)).loc[fresh]
        c_xyz = unit_vectors(
            communes["lon"].fillna(0).to_numpy(), communes["lat"].fillna(0).to_numpy()
        )
        l_xyz = unit_vectors(first["lon"].to_numpy(), first["lat"].to_numpy())
        cos = np.clip(c_xyz @ l_xyz.T, -1.0, 1.0)
        new_km = (EARTH_RADIUS_KM * np.arccos(cos)).astype(np.float32)
        new_zone = zone_of(first["dep"], corsica_separate)
        c_zone = zone_of(communes["dep"], corsica_separate)
        new_km[c_zone[:, None] != new_zone[None, :]] = np.inf
        new_km[~table.valid, :] = np.nan
        base = by_location.shape[0]
        column.update({k: base + i for i, k in enumerate(fresh)})
        by_location = np.concatenate([by_location, new_km.T], axis=0)
        zones = np.concatenate([zones, new_zone])
    mapping = pd.Series(keys.map(column).to_numpy(dtype=np.int64), index=rows.index)
    return replace(
        table,
        by_location=by_location,
        location_zone=zones,
        location_of_site=pd.concat([table.location_of_site, mapping]),
    )


@dataclass
class ScenarioResult:
    """Coverage of a selection before and after a scenario (see :func:`evaluate_scenario`)."""

    scenario: Scenario
    selection: Selection
    thresholds: tuple[float, ...]
    before: Gaps
    after: Gaps
    sites_after: pd.DataFrame
    removed: pd.DataFrame  # selection rows the scenario removes
    ignored_removals: tuple[str, ...]  # ids that are not in the selection

    def national(self) -> pd.DataFrame:
        """Key national figures: a row per indicator; columns ``before``, ``after``, ``change``."""
        b, a = self.before.national, self.after.national
        rows = [("Sites de la sélection", b["sites"], a["sites"])]
        for t in self.thresholds:
            k = f"{t:g}"
            rows.append(
                (
                    f"Habitants à plus de {k} km",
                    b["population_beyond_km"][k],
                    a["population_beyond_km"][k],
                )
            )
        for t in self.thresholds:
            k = f"{t:g}"
            rows.append(
                (
                    f"Part de la population à plus de {k} km (%)",
                    _pct(b["share_beyond_km"][k]),
                    _pct(a["share_beyond_km"][k]),
                )
            )
        rows += [
            ("Distance médiane (km)", b["median_km"], a["median_km"]),
            ("90e centile de distance (km)", b["p90_km"], a["p90_km"]),
            (
                "Accessibilité E2SFCA (sites par million d'hab.)",
                b["accessibility"],
                a["accessibility"],
            ),
            (
                "Départements sans site",
                b["territories_without_site"],
                a["territories_without_site"],
            ),
        ]
        out = pd.DataFrame(rows, columns=["indicator", "before", "after"])
        out["change"] = [
            None if x is None or y is None else round(y - x, 4)
            for x, y in zip(out["before"], out["after"], strict=True)
        ]
        return out

    def departements(self) -> pd.DataFrame:
        """One row per département: sites, coverage status and measures before/after.

        Columns ``code``, ``name``, ``sites_before``, ``sites_after``, ``change``
        ("nouvellement couvert", "n'est plus couvert" or ""), for each threshold t
        ``beyond_t_before``, ``beyond_t_after``, ``beyond_t_change`` (inhabitants),
        ``accessibility_before``, ``accessibility_after``, ``accessibility_change``.
        """
        b, a = self.before.territories, self.after.territories
        out = pd.DataFrame({"code": b.index, "name": b["name"].to_numpy()})
        out["sites_before"] = b["sites"].to_numpy()
        out["sites_after"] = a["sites"].reindex(b.index).to_numpy()
        cov_b, cov_a = b["covered"].to_numpy(), a["covered"].reindex(b.index).to_numpy()
        out["change"] = np.where(
            ~cov_b & cov_a,
            "nouvellement couvert",
            np.where(cov_b & ~cov_a, "n'est plus couvert", ""),
        )
        for t in self.thresholds:
            k = f"beyond_{t:g}"
            out[f"{k}_before"] = b[k].to_numpy()
            out[f"{k}_after"] = a[k].reindex(b.index).to_numpy()
            out[f"{k}_change"] = out[f"{k}_after"] - out[f"{k}_before"]
        out["accessibility_before"] = b["accessibility"].to_numpy()
        out["accessibility_after"] = a["accessibility"].reindex(b.index).to_numpy()
        out["accessibility_change"] = (
            out["accessibility_after"] - out["accessibility_before"]
        ).round(4)
        return out

    def newly_covered(self) -> pd.DataFrame:
        """Départements (``code``, ``name``) with no site before and at least one after."""
        d = self.departements()
        return d.loc[d["change"] == "nouvellement couvert", ["code", "name"]].reset_index(drop=True)

    def newly_uncovered(self) -> pd.DataFrame:
        """Départements (``code``, ``name``) with a site before and none after."""
        d = self.departements()
        return d.loc[d["change"] == "n'est plus couvert", ["code", "name"]].reset_index(drop=True)


def _pct(share) -> float | None:
    return None if share is None else round(100.0 * share, 3)


def departements_fr(frame: pd.DataFrame, thresholds: Sequence[float]) -> pd.DataFrame:
    """:meth:`ScenarioResult.departements` with French headers."""
    names = {
        "code": "Code",
        "name": "Département",
        "sites_before": "Sites avant",
        "sites_after": "Sites après",
        "change": "Changement",
        "accessibility_before": "Accessibilité avant (/M hab.)",
        "accessibility_after": "Accessibilité après (/M hab.)",
        "accessibility_change": "Variation de l'accessibilité",
    }
    for t in thresholds:
        k = f"{t:g}"
        names[f"beyond_{k}_before"] = f"Habitants à plus de {k} km, avant"
        names[f"beyond_{k}_after"] = f"Habitants à plus de {k} km, après"
        names[f"beyond_{k}_change"] = f"Variation à plus de {k} km"
    return frame.rename(columns=names)


def evaluate_scenario(
    communes: pd.DataFrame,
    departements: pd.DataFrame,
    centres: pd.DataFrame,
    selection: Selection,
    scenario: Scenario,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS_KM,
    table: DistanceTable | None = None,
    corsica_separate: bool = False,
) -> ScenarioResult:
    """Coverage of ``selection`` before and after ``scenario``, by département.

    Parameters
    ----------
    communes : DataFrame
        ``code``, ``dep``, ``population`` (inhabitants), ``lon``, ``lat`` (WGS84 degrees,
        EPSG:4326).
    departements : DataFrame
        ``code``, ``name``, ``population`` of every département.
    centres : DataFrame
        The registry (prepared, with ``dep``), never modified.
    selection : Selection
        The sites that count before the scenario.
    scenario : Scenario
        Hypothetical additions (always counted) and removals (registry ids).
    thresholds : sequence of float
        Distance thresholds, great-circle km.
    table : DistanceTable, optional
        The commune × location table of ``centres`` (or of a registry holding them),
        built with the same ``corsica_separate``; built here when not given.
    corsica_separate : bool
        Corsica is a zone of its own, like each DROM.

    Returns
    -------
    ScenarioResult
        ``before`` and ``after`` :class:`~geo.coverage.Gaps` (inhabitants beyond each
        threshold, E2SFCA accessibility in sites per million inhabitants), the sites
        after, the removed rows and the removals outside the selection.
    """
    thresholds = tuple(float(t) for t in thresholds)
    if table is None:
        table = DistanceTable.from_frames(communes, centres, corsica_separate)
    before = compute_gaps(
        communes,
        departements,
        centres,
        selection,
        "departement",
        thresholds,
        table,
        corsica_separate,
    )
    after_sites = scenario_sites(centres, selection, scenario, communes)
    new_rows = after_sites[after_sites["hypothetical"].astype(bool)]
    extended = extend_table(table, centres, communes, new_rows, corsica_separate)
    after = compute_gaps(
        communes,
        departements,
        after_sites,
        Selection(),
        "departement",
        thresholds,
        extended,
        corsica_separate,
    )
    in_selection = before.sites
    removed = in_selection[in_selection["id"].isin(scenario.removals)]
    ignored = tuple(r for r in scenario.removals if r not in set(in_selection["id"]))
    return ScenarioResult(
        scenario, selection, thresholds, before, after, after_sites, removed, ignored
    )


# --------------------------------------------------------------------------- strict JSON


def _reject_constant(name: str):
    raise ScenarioError(
        f"Valeur « {name} » interdite dans le fichier de scénario : utilisez des nombres finis."
    )


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise ScenarioError(f"Clé « {key} » présente deux fois dans le fichier de scénario.")
        out[key] = value
    return out


def scenario_from_json(
    data: bytes | str, communes: pd.DataFrame | None = None, centres: pd.DataFrame | None = None
) -> Scenario:
    """Read a scenario file strictly; raise :class:`ScenarioError` (French) on any problem.

    Checks: size (≤ :data:`MAX_SCENARIO_BYTES`), UTF-8, JSON syntax, no duplicate key,
    no NaN/Infinity, the exact keys (``format`` = :data:`SCENARIO_FORMAT`, ``version`` =
    1, ``name``, ``additions``, ``removals``; optional ``created``, ``description``), and
    each site: text lengths, a known label, a 5-character INSEE code (in ``communes``
    when given), finite coordinates in France and in the commune's territory (same
    métropole or DROM box), a known source. With ``centres``, every removed id must be
    in that registry.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > MAX_SCENARIO_BYTES:
        raise ScenarioError(
            f"Fichier de scénario trop volumineux ({len(raw):,} octets ; maximum "
            f"{MAX_SCENARIO_BYTES:,}). Un scénario est un petit fichier JSON exporté par "
            "cette page.".replace(",", " ")
        )
    if not raw.strip():
        raise ScenarioError("Fichier de scénario vide : choisissez un fichier JSON exporté.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            "Fichier de scénario illisible : ce n'est pas du texte UTF-8. "
            "Choisissez le fichier .json téléchargé depuis la page Scénarios."
        ) from exc
    try:
        parsed = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"Fichier de scénario invalide : JSON mal formé ligne {exc.lineno}, colonne "
            f"{exc.colno} ({exc.msg}). Choisissez le fichier .json téléchargé depuis cette page."
        ) from exc
    except RecursionError as exc:
        raise ScenarioError("Fichier de scénario invalide : structure trop imbriquée.") from exc
    scenario = _parse(parsed, communes)
    if centres is not None:
        known = set(centres["id"].astype(str))
        unknown = [r for r in scenario.removals if r not in known]
        if unknown:
            shown = ", ".join(f"« {u[:40]} »" for u in unknown[:5])
            more = f" et {len(unknown) - 5} autres" if len(unknown) > 5 else ""
            raise ScenarioError(
                f"Sites retirés absents du registre chargé : {shown}{more}. Ce scénario a été "
                "préparé sur d'autres données ; rechargez-le avec le même registre."
            )
    return scenario


def _type_name(value) -> str:
    return {
        dict: "un objet",
        list: "une liste",
        str: "un texte",
        bool: "un booléen",
        int: "un nombre",
        float: "un nombre",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _check_text(value, where: str, limit: int = MAX_TEXT_CHARS) -> str:
    if not isinstance(value, str):
        raise ScenarioError(f"« {where} » doit être un texte ; reçu {_type_name(value)}.")
    text = value.strip()
    if not text:
        raise ScenarioError(f"« {where} » est vide ; donnez un nom.")
    if len(text) > limit:
        raise ScenarioError(
            f"« {where} » dépasse {limit} caractères ({len(text)}) ; raccourcissez-le."
        )
    if _CONTROL_RE.search(text):
        raise ScenarioError(f"« {where} » contient des caractères de contrôle ; retirez-les.")
    return text


def _check_name(value, where: str) -> str:
    return _check_text(value, where, MAX_NAME_CHARS)


def _check_label(value, where: str) -> str:
    if not isinstance(value, str) or value not in LABELS:
        shown = value if isinstance(value, str) else _type_name(value)
        raise ScenarioError(
            f"« {where} » : label « {str(shown)[:40]} » inconnu ; valeurs admises : "
            f"{', '.join(LABELS)}."
        )
    return value


def _check_number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(
            f"« {where} » doit être un nombre (degrés décimaux) ; reçu {_type_name(value)}."
        )
    number = float(value)
    if not math.isfinite(number):
        raise ScenarioError(f"« {where} » doit être un nombre fini.")
    return number


def _check_keys(obj, required: Sequence[str], optional: Sequence[str], where: str) -> None:
    if not isinstance(obj, dict):
        raise ScenarioError(f"« {where} » doit être un objet JSON ; reçu {_type_name(obj)}.")
    missing = [k for k in required if k not in obj]
    if missing:
        raise ScenarioError(f"« {where} » : clé(s) manquante(s) : {', '.join(missing)}.")
    unknown = [str(k)[:40] for k in obj if k not in (*required, *optional)]
    if unknown:
        raise ScenarioError(
            f"« {where} » : clé(s) inattendue(s) : {', '.join(unknown)} ; clés admises : "
            f"{', '.join((*required, *optional))}."
        )


def box_of(lon: float, lat: float) -> str | None:
    """Name of the :data:`geo.centres.FRANCE_BOXES` box holding the point, if any."""
    for name, (x0, y0, x1, y1) in FRANCE_BOXES.items():
        if x0 <= lon <= x1 and y0 <= lat <= y1:
            return name
    return None


def _expected_box(dep: str) -> str:
    return OVERSEAS.get(dep, "métropole et Corse")


def _parse_site(obj, i: int, communes: pd.DataFrame | None) -> HypotheticalSite:
    where = f"additions[{i}]"
    _check_keys(obj, _SITE_KEYS, _SITE_OPTIONAL, where)
    name = _check_text(obj["name"], f"{where}.name")
    label = _check_label(obj["label"], f"{where}.label")
    code = obj["commune_code"]
    if not isinstance(code, str) or not _COMMUNE_RE.match(code):
        raise ScenarioError(
            f"« {where}.commune_code » : code INSEE invalide ; 5 caractères attendus "
            "(ex. 29019 ou 2A004), sous forme de texte."
        )
    lon = _check_number(obj["lon"], f"{where}.lon")
    lat = _check_number(obj["lat"], f"{where}.lat")
    box = box_of(lon, lat)
    if box is None:
        raise ScenarioError(
            f"« {where} » : coordonnées hors de France (lon {lon}, lat {lat}) ; "
            "vérifiez qu'elles ne sont pas inversées."
        )
    if communes is not None:
        match = communes.loc[communes["code"] == code]
        if match.empty:
            raise ScenarioError(
                f"« {where}.commune_code » : code commune « {code} » absent du Code officiel "
                "géographique chargé."
            )
        dep = str(match["dep"].iloc[0])
        if box != _expected_box(dep):
            raise ScenarioError(
                f"« {where} » : le point (lon {lon}, lat {lat}) est en {box}, pas dans le "
                f"territoire de la commune {code} ({_expected_box(dep)})."
            )
    source = obj["source"]
    if source not in SOURCES:
        raise ScenarioError(
            f"« {where}.source » : valeur « {str(source)[:40]} » inconnue ; valeurs admises : "
            f"{', '.join(SOURCES)}."
        )
    registry_id = obj.get("registry_id", "")
    if registry_id != "":
        registry_id = _check_text(registry_id, f"{where}.registry_id", 120)
    return HypotheticalSite(name, label, code, lon, lat, source, registry_id)


def _parse(obj, communes: pd.DataFrame | None) -> Scenario:
    _check_keys(obj, _REQUIRED_KEYS, _OPTIONAL_KEYS, "scénario")
    if obj["format"] != SCENARIO_FORMAT:
        raise ScenarioError(
            f"Ce fichier n'est pas un scénario de cette application (format attendu : "
            f"« {SCENARIO_FORMAT} »)."
        )
    version = obj["version"]
    if isinstance(version, bool) or version != SCENARIO_VERSION:
        raise ScenarioError(
            f"Version de scénario « {str(version)[:20]} » non prise en charge ; version attendue : "
            f"{SCENARIO_VERSION}."
        )
    name = _check_name(obj["name"], "name")
    for key in _OPTIONAL_KEYS:
        if key in obj:
            _check_text(obj[key], key, 2000)
    additions = obj["additions"]
    if not isinstance(additions, list):
        raise ScenarioError(f"« additions » doit être une liste ; reçu {_type_name(additions)}.")
    if len(additions) > MAX_ADDITIONS:
        raise ScenarioError(
            f"Trop de sites hypothétiques ({len(additions)}) ; maximum {MAX_ADDITIONS}."
        )
    removals = obj["removals"]
    if not isinstance(removals, list):
        raise ScenarioError(f"« removals » doit être une liste ; reçu {_type_name(removals)}.")
    if len(removals) > MAX_REMOVALS:
        raise ScenarioError(f"Trop de sites retirés ({len(removals)}) ; maximum {MAX_REMOVALS}.")
    sites = tuple(_parse_site(s, i, communes) for i, s in enumerate(additions))
    ids = tuple(_check_text(r, f"removals[{i}]", 120) for i, r in enumerate(removals))
    if len(set(ids)) != len(ids):
        raise ScenarioError(
            "« removals » : un même site est retiré deux fois ; gardez-le une fois."
        )
    return Scenario(name, sites, ids)
