"""Nearest centres from a commune: the engine of the public page "Où me soigner ?".

Pure functions and small classes (no streamlit) on the typed frames of
:mod:`geo.territories` and :mod:`geo.centres`.

* :class:`CommuneSearch` finds a commune from what a person types: a name with or
  without accents ("evry" → Évry-Courcouronnes), a postal code ("97400" → Saint-Denis,
  974), a name with its département ("Saint-Denis (93)"), or a former commune name
  ("Cherbourg-Octeville" → Cherbourg-en-Cotentin). :meth:`CommuneSearch.resolve`
  is the strict form used by the command line: one commune, or
  :class:`AmbiguousCommune` / :class:`CommuneNotFound` with the candidates.
* :func:`query_filieres` turns what is looked for (a filière, a disease group of
  the 2007 typology, or a keyword of ``data/keywords.csv``) into filières.
* :func:`nearest_sites` lists the nearest sites of those filières by level of care.
* :func:`nearest_layers` and :func:`nearest_view` draw a result (folium, offline,
  escaped texts); :func:`nearest_map` puts them on a standalone map.

Levels
------
``reference``: CRMR sites (labels ``crmr_coordonnateur``, ``crmr_constitutif``,
``crmr_site``). ``competence``: CCMR and CRC (labels ``ccmr``, ``crc``). Collaborating
centres and PEMR platforms (the latter have no filière) are not listed.

Distances
---------
Great-circle kilometres on a sphere of radius :data:`geo.coverage.EARTH_RADIUS_KM`
between WGS84 points: from the commune's representative point (town hall when
known) to the site's point (the centre of its commune in the embedded registry).
Not a road distance. A query is one point against at most a few hundred sites, so
the exact haversine distance to each site and a stable sort are used: faster than
building a KD-tree per query, and ties (several services of one hospital share a
point) are broken the same way every time — distance, level of the label
(coordonnateur first), establishment, id — so that a shared link gives the same list.

Overseas rule
-------------
As in :mod:`geo.coverage`, each overseas département (971, 972, 973, 974, 976) is a
zone of its own and metropolitan France (Corsica included) another. A resident
gets the nearest sites of each level *in their zone* (``in_zone`` true). A resident
of an overseas département also gets the nearest reference sites in metropolitan
France (``in_zone`` false, "en métropole"): the recourse when the territory has no
reference site for the disease, or for a second opinion.

Labellisation rounds
--------------------
All loaded rows by default (``vintages=()``). A site listed in several rounds (same
network, establishment, service, commune and label) is shown once, under its most
recent round; ``vintages`` lists every round it appears in.
"""

from __future__ import annotations

import bisect
import difflib
import html
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.centres import FILIERES, LABELS, REFERENCE_LABELS
from geo.coverage import METRO, haversine_km, zone_of
from geo.errors import GeoError
from geo.geocode import normalise_name
from geo.territories import OVERSEAS

REFERENCE = "reference"
COMPETENCE = "competence"
#: Level of care → the registry labels it covers, in display order.
LEVEL_LABELS: dict[str, tuple[str, ...]] = {
    REFERENCE: REFERENCE_LABELS,
    COMPETENCE: ("ccmr", "crc"),
}
LEVELS = tuple(LEVEL_LABELS)
DEFAULT_N = 3
MAX_N = 10

#: What a person can look for (``mode``): a keyword, a disease group, or a filière.
MODES = ("keyword", "group", "filiere")

#: Columns of :attr:`NearestResult.sites`, in order.
SITE_COLUMNS = (
    "rank",
    "level",
    "in_zone",
    "id",
    "label",
    "establishment",
    "service",
    "crmr_name",
    "filiere",
    "commune_code",
    "commune",
    "dep",
    "lat",
    "lon",
    "distance_km",
    "vintage",
    "vintages",
    "source_url",
)

_LABEL_ORDER = {label: i for i, label in enumerate(LABELS)}
_POSTAL_RE = re.compile(r"^\d{5}$")
_DEP_HINT_RE = re.compile(r"^(?P<name>.*?)\s*\(\s*(?P<dep>\d{2,3}|2[ABab])\s*\)\s*(?:[–—-].*)?$")


# --------------------------------------------------------------------------- errors


class NearestError(GeoError):
    """A problem with a nearest-centre query that the user can fix."""


class CommuneNotFound(NearestError):
    """No commune matches; ``suggestions`` are close communes (:class:`CommuneMatch`)."""

    def __init__(self, message: str, suggestions: Sequence[CommuneMatch] = ()):
        super().__init__(message)
        self.suggestions = tuple(suggestions)


class AmbiguousCommune(NearestError):
    """Several communes match; ``candidates`` lists them (:class:`CommuneMatch`)."""

    def __init__(self, message: str, candidates: Sequence[CommuneMatch]):
        super().__init__(message)
        self.candidates = tuple(candidates)


class NoPosition(NearestError):
    """The commune has no point in the territory tables (4 communes of Cantal)."""


class EmptySelection(NearestError):
    """What is looked for designates no filière (unknown keyword, group "Autres")."""


# --------------------------------------------------------------------------- communes


@dataclass(frozen=True)
class CommuneMatch:
    """One commune a typed text may designate.

    ``postal_codes`` are all of the commune's codes (arrondissements included for
    Paris, Lyon, Marseille); ``postal_code`` the one typed, if any; ``former`` the
    former commune name that matched (commune déléguée or associée), if any.
    """

    code: str
    name: str
    dep: str
    population: int
    postal_codes: tuple[str, ...] = ()
    postal_code: str | None = None
    former: str | None = None

    def label(self, former_word: str = "anciennement") -> str:
        """``Nom (dép.) – CP`` as the page lists it: ``Saint-Denis (974) – 97400, 97417, 97490``.

        Up to three postal codes (the typed one only, when one was typed), then ``…``.
        """
        if self.postal_code:
            codes = self.postal_code
        else:
            codes = ", ".join(self.postal_codes[:3]) + ("…" if len(self.postal_codes) > 3 else "")
        text = f"{self.name} ({self.dep})" + (f" – {codes}" if codes else "")
        if self.former:
            text += f", {former_word} {self.former}"
        return text

    @property
    def short(self) -> str:
        """``Nom (dép.)``, accepted back by :meth:`CommuneSearch.search` and ``resolve``."""
        return f"{self.name} ({self.dep})"


class CommuneSearch:
    """Search every commune by name (accents optional) or postal code; built once, read-only.

    ``commune_names`` is :func:`geo.territories.load_commune_names`, ``communes``
    :func:`geo.territories.load_communes` (``code, name, dep, population`` are used).

    >>> search = CommuneSearch(load_commune_names(), load_communes())  # doctest: +SKIP
    >>> [m.label() for m in search.search("97400")]  # doctest: +SKIP
    ['Saint-Denis (974) – 97400']
    """

    def __init__(self, commune_names: pd.DataFrame, communes: pd.DataFrame):
        self._name = dict(zip(communes["code"], communes["name"], strict=True))
        self._dep = dict(zip(communes["code"], communes["dep"], strict=True))
        self._pop = dict(
            zip(communes["code"], communes["population"].fillna(0).astype(int), strict=True)
        )
        current: dict[str, list[str]] = defaultdict(list)
        former: dict[str, list[tuple[str, str]]] = defaultdict(list)
        postal: dict[str, list[str]] = defaultdict(list)
        own_postal: dict[str, list[str]] = defaultdict(list)
        columns = (commune_names[c].tolist() for c in ("name", "kind", "code", "postal_codes"))
        for name, kind, code, postal_codes in zip(*columns, strict=True):
            if code not in self._name:
                continue
            key = normalise_name(name)
            if kind in ("COM", "ARM"):
                if code not in current[key]:
                    current[key].append(code)
                for pc in postal_codes if postal_codes is not None else ():
                    if code not in postal[pc]:
                        postal[pc].append(code)
                    if pc not in own_postal[code]:
                        own_postal[code].append(pc)
            elif (code, name) not in former[key]:
                former[key].append((code, name))
        # a former name that is also a current name is found as the current one
        self._current = dict(current)
        self._former = {k: v for k, v in former.items() if k not in self._current}
        self._postal = {pc: self._by_population(codes) for pc, codes in postal.items()}
        self._own_postal = {c: tuple(sorted(pcs)) for c, pcs in own_postal.items()}
        self._keys = sorted(self._current)
        self._former_keys = sorted(self._former)
        self._postal_keys = sorted(self._postal)
        pool: dict[str, list[str]] = defaultdict(list)
        for key in self._keys:
            pool[key[:2]].append(key)
        self._pool = dict(pool)

    def __len__(self) -> int:
        return len(self._name)

    def _by_population(self, codes) -> list[str]:
        return sorted(dict.fromkeys(codes), key=lambda c: (-self._pop[c], c))

    def get(self, code: str, postal_code: str | None = None, former: str | None = None):
        """The :class:`CommuneMatch` of an INSEE commune code, or ``None``."""
        code = str(code or "").strip().upper()
        if code not in self._name:
            return None
        return CommuneMatch(
            code,
            self._name[code],
            self._dep[code],
            int(self._pop[code]),
            self._own_postal.get(code, ()),
            postal_code,
            former,
        )

    def _prefixed(self, keys: list[str], prefix: str) -> list[str]:
        i = bisect.bisect_left(keys, prefix)
        out = []
        while i < len(keys) and keys[i].startswith(prefix):
            out.append(keys[i])
            i += 1
        return out

    def search(self, text: str, limit: int = 20) -> list[CommuneMatch]:
        """Communes a typed text may designate, best first (at most ``limit``).

        * 5 digits: the communes served by that postal code (most populous first);
          2 to 4 digits: communes whose postal code begins with them.
        * a name: communes of exactly that name (accents, case, hyphens and
          "St"/"Ste" ignored), then names beginning with it, then names holding a word
          that begins with it (3 letters or more), most populous first in each
          group; then former communes of that name.
        * ``Nom (dép.)`` (as :attr:`CommuneMatch.short` writes it; anything after a
          dash is ignored) restricts to that département.
        """
        text = str(text or "").strip()
        if not text or limit <= 0:
            return []
        compact = re.sub(r"\s", "", text)
        if compact.isdigit():
            return self._search_postal(compact, limit)
        dep = None
        m = _DEP_HINT_RE.match(text)
        if m:
            text, dep = m.group("name"), m.group("dep").upper()
            if len(dep) == 1:
                dep = "0" + dep
        key = normalise_name(text)
        if not key:
            return []

        def keep(code: str) -> bool:
            return dep is None or self._dep[code] == dep

        seen: set[str] = set()
        out: list[CommuneMatch] = []

        def add(codes, former: str | None = None) -> None:
            for code in codes:
                if code not in seen and keep(code) and len(out) < limit:
                    seen.add(code)
                    out.append(self.get(code, former=former))

        add(self._by_population(self._current.get(key, [])))
        prefixed = self._prefixed(self._keys, key)
        add(self._by_population(c for k in prefixed for c in self._current[k]))
        if len(key) >= 3 and len(out) < limit:
            word = " " + key
            inner = [k for k in self._keys if word in " " + k and not k.startswith(key)]
            add(self._by_population(c for k in inner for c in self._current[k]))
        for k in [key, *self._prefixed(self._former_keys, key)]:
            for code, name in self._former.get(k, []):
                add([code], former=name)
        return out

    def _search_postal(self, digits: str, limit: int) -> list[CommuneMatch]:
        if len(digits) == 5:
            return [self.get(c, postal_code=digits) for c in self._postal.get(digits, [])][:limit]
        if not 2 <= len(digits) < 5:
            return []
        out: list[CommuneMatch] = []
        seen: set[str] = set()
        for pc in self._prefixed(self._postal_keys, digits):
            for code in self._postal[pc]:
                if code not in seen:
                    seen.add(code)
                    out.append(self.get(code, postal_code=pc))
                if len(out) >= limit:
                    return out
        return out

    def pick(self, text: str, matches: Sequence[CommuneMatch]) -> CommuneMatch | None:
        """The match a search designates without asking, else ``None``.

        The only match, or the only current commune whose name is exactly the text
        (accents optional): "lyon" picks Lyon, not Lyons-la-Forêt; "Saint-Denis" picks
        none of its four homonyms.
        """
        if len(matches) == 1:
            return matches[0]
        name = str(text or "").strip()
        m = _DEP_HINT_RE.match(name)
        key = normalise_name(m.group("name") if m else name)
        exact = [x for x in matches if x.former is None and normalise_name(x.name) == key]
        return exact[0] if len(exact) == 1 else None

    def suggest(self, text: str, limit: int = 5) -> list[CommuneMatch]:
        """Communes whose name is spelt like ``text`` (misspellings), best first."""
        key = normalise_name(text)
        if len(key) < 2:
            return []
        pool = [k for k in self._pool.get(key[:2], []) if abs(len(k) - len(key)) <= 3]
        out: list[CommuneMatch] = []
        for close in difflib.get_close_matches(key, pool, n=limit, cutoff=0.75):
            out += [self.get(c) for c in self._by_population(self._current[close])]
        return out[:limit]

    def resolve(self, text: str) -> CommuneMatch:
        """Exactly one commune for a name or postal code, or an error listing the candidates.

        A postal code must designate one commune; a name must be the exact name of
        one commune (accents optional), possibly written ``Nom (dép.)``, or else of
        one former commune. Raises :class:`AmbiguousCommune` (candidates listed, in
        French) or :class:`CommuneNotFound` (close names suggested).
        """
        text = str(text or "").strip()
        if not text:
            raise CommuneNotFound("commune vide : indiquez un nom de commune ou un code postal.")
        compact = re.sub(r"\s", "", text)
        if compact.isdigit():
            if not _POSTAL_RE.match(compact):
                raise CommuneNotFound(
                    f"« {text} » n'est pas un code postal (5 chiffres) ; "
                    "indiquez un code postal ou un nom de commune."
                )
            found = self._search_postal(compact, limit=1000)
            if len(found) == 1:
                return found[0]
            if not found:
                raise CommuneNotFound(f"code postal « {compact} » inconnu.")
            raise AmbiguousCommune(
                f"le code postal {compact} est partagé par {len(found)} communes : "
                f"{_list(found)}. Précisez le nom de la commune, par exemple "
                f"« {found[0].short} ».",
                found,
            )
        dep = None
        m = _DEP_HINT_RE.match(text)
        name = text
        if m:
            name, dep = m.group("name"), m.group("dep").upper()
            dep = "0" + dep if len(dep) == 1 else dep
        key = normalise_name(name)
        exact = [c for c in self._current.get(key, []) if dep is None or self._dep[c] == dep]
        former = [
            (c, n) for c, n in self._former.get(key, []) if dep is None or self._dep[c] == dep
        ]
        if exact:
            found = [self.get(c) for c in self._by_population(exact)]
        else:
            found = list({c: self.get(c, former=n) for c, n in former}.values())
        if len(found) == 1:
            return found[0]
        if found:
            raise AmbiguousCommune(
                f"« {text} » désigne {len(found)} communes : {_list(found)}. Précisez le "
                f"département, par exemple « {found[0].short} », ou le code postal.",
                found,
            )
        close = self.search(name, limit=5) or self.suggest(name)
        where = f" dans le département {dep}" if dep else ""
        hint = f" Vouliez-vous dire : {_list(close)} ?" if close else ""
        raise CommuneNotFound(f"commune « {name.strip()} » introuvable{where}.{hint}", close)


def _list(matches: Sequence[CommuneMatch], limit: int = 10) -> str:
    text = ", ".join(
        f"{m.name} ({m.dep}, code commune {m.code}"
        + (f", CP {', '.join(m.postal_codes[:3])}" if m.postal_codes else "")
        + ")"
        for m in matches[:limit]
    )
    return text + (f" et {len(matches) - limit} autres" if len(matches) > limit else "")


# --------------------------------------------------------------------------- origin


@dataclass(frozen=True)
class Origin:
    """Where the person lives: a commune and its representative point (WGS84 degrees)."""

    code: str
    name: str
    dep: str
    lon: float
    lat: float

    @property
    def zone(self) -> str:
        """Coverage zone: the overseas département code, or ``metropole``."""
        return str(zone_of([self.dep])[0])

    @property
    def overseas(self) -> bool:
        return self.zone != METRO

    @property
    def territory(self) -> str:
        """French name of the zone ("La Réunion", "métropole")."""
        return OVERSEAS.get(self.zone, "métropole")

    @classmethod
    def from_commune(cls, communes: pd.DataFrame, code: str) -> Origin:
        """The origin of an INSEE commune code (``communes``: :func:`load_communes`)."""
        rows = communes[communes["code"] == str(code)]
        if rows.empty:
            raise CommuneNotFound(f"code commune INSEE « {code} » inconnu.")
        row = rows.iloc[0]
        if pd.isna(row["lon"]) or pd.isna(row["lat"]):
            raise NoPosition(
                f"la commune {row['name']} ({row['dep']}) n'a pas de position dans les "
                "données (commune fusionnée ou scindée récemment) ; choisissez une commune voisine."
            )
        return cls(str(row["code"]), str(row["name"]), str(row["dep"]), float(row["lon"]),
                   float(row["lat"]))  # fmt: skip


# --------------------------------------------------------------------------- what is looked for


def find_filiere(text: str) -> str | None:
    """The canonical filière for a name typed in any case, with or without accents.

    >>> find_filiere("defiscience"), find_filiere("FAI²R"), find_filiere("muco-cftr")
    ('DéfiScience', 'FAI2R', 'MUCO-CFTR')
    """
    from geo.keywords import normalise_keyword

    key = normalise_keyword(text).replace(" ", "")
    for f in FILIERES:
        if normalise_keyword(f).replace(" ", "") == key:
            return f
    return None


@dataclass(frozen=True)
class Query:
    """What is looked for, resolved: ``filieres`` (empty = nothing found) and how.

    ``keyword`` is the :class:`geo.keywords.KeywordMatch` in ``keyword`` mode.
    """

    mode: str
    value: str
    filieres: tuple[str, ...]
    keyword: object | None = None
    group_name: str | None = None


def query_filieres(
    mode: str,
    value: str | int,
    groups: pd.DataFrame | None = None,
    keywords: pd.DataFrame | None = None,
    lang: str | None = None,
) -> Query:
    """Resolve ``mode`` (``keyword``, ``group`` or ``filiere``) and ``value`` into filières.

    ``groups``/``keywords`` default to the embedded tables. Never raises for an
    unknown value: the returned :class:`Query` then has no filière (and, for a
    keyword, suggestions); ``ValueError`` only for an unknown ``mode``.
    """
    from geo.groups import filieres_of_group, group_names, load_groups
    from geo.keywords import load_keywords, match_keyword

    value = str(value if value is not None else "").strip()
    if mode == "filiere":
        f = find_filiere(value)
        return Query(mode, f or value, (f,) if f else ())
    if mode == "group":
        groups = load_groups() if groups is None else groups
        try:
            gid = int(value)
            filieres = filieres_of_group(gid, groups)
        except ValueError:
            return Query(mode, value, ())
        return Query(mode, str(gid), tuple(filieres), group_name=group_names(groups)[gid])
    if mode == "keyword":
        keywords = load_keywords() if keywords is None else keywords
        match = match_keyword(value, keywords, lang)
        return Query(mode, value, match.filieres, keyword=match)
    raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")


# --------------------------------------------------------------------------- nearest sites


def _round_rank(vintage: str) -> tuple[int, int]:
    """Sort key of a labellisation round: periods, then years, then "before-YYYY", then
    "unknown"; most recent first within each kind."""
    m = re.match(r"^(\d{4})-(\d{4})$", vintage)
    if m:
        return (0, -int(m.group(1)))
    m = re.match(r"^(\d{4})$", vintage)
    if m:
        return (1, -int(m.group(1)))
    m = re.match(r"^before-(\d{4})$", vintage)
    if m:
        return (2, -int(m.group(1)))
    return (3, 0)


_SITE_KEY = ("crmr_name", "establishment", "service", "commune_code", "label")


def _collapse(sites: pd.DataFrame, positions: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Positions kept among ``positions`` (one per site, most recent round) and their rounds."""
    keys = list(zip(*(sites[c].to_numpy()[positions] for c in _SITE_KEY), strict=True))
    rounds = sites["vintage"].to_numpy()[positions]
    best: dict[tuple, int] = {}
    seen: dict[tuple, list[str]] = defaultdict(list)
    for i, (key, vintage) in enumerate(zip(keys, rounds, strict=True)):
        seen[key].append(vintage)
        if key not in best or _round_rank(vintage) < _round_rank(rounds[best[key]]):
            best[key] = i
    kept = sorted(best.values())
    listed = [", ".join(sorted(dict.fromkeys(seen[keys[i]]), key=_round_rank)) for i in kept]
    return positions[kept], listed


def collapse_rounds(sites: pd.DataFrame) -> pd.DataFrame:
    """One row per site listed in several rounds (most recent kept), with ``vintages``.

    A site is identified by network, establishment, service, commune and label.
    Returns a new frame (the caller's is not modified), in the original row order.
    """
    kept, listed = _collapse(sites, np.arange(len(sites)))
    return sites.iloc[kept].assign(
        vintages=pd.Series(listed, index=sites.index[kept], dtype=object)
    )


def _check_n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"n must be an int between 1 and {MAX_N}; got {type(n).__name__}")
    if not 1 <= int(n) <= MAX_N:
        raise ValueError(f"n must be between 1 and {MAX_N}; got {n}")
    return int(n)


@dataclass(frozen=True)
class NearestResult:
    """The nearest sites of some filières from one origin, by level (see :func:`nearest_sites`).

    ``sites`` has :data:`SITE_COLUMNS`; ``sections`` every (level, in_zone) group
    asked for, in display order, empty ones included.
    """

    origin: Origin
    filieres: tuple[str, ...]
    n: int
    vintages: tuple[str, ...]
    sites: pd.DataFrame
    sections: tuple[tuple[str, bool], ...] = field(default_factory=tuple)

    def section(self, level: str, in_zone: bool = True) -> pd.DataFrame:
        """The rows of one group, nearest first."""
        s = self.sites
        return s[(s["level"] == level) & (s["in_zone"] == in_zone)]

    def records(self) -> list[dict]:
        """JSON-ready list of sites (distance rounded to 0.01 km), in display order."""
        out = []
        for row in self.sites.itertuples(index=False):
            out.append(
                {
                    "rank": int(row.rank),
                    "level": row.level,
                    "in_zone": bool(row.in_zone),
                    "id": str(row.id),
                    "establishment": row.establishment,
                    "service": row.service,
                    "label": row.label,
                    "crmr_name": row.crmr_name,
                    "filiere": row.filiere,
                    "commune_code": row.commune_code,
                    "commune": row.commune,
                    "dep": row.dep,
                    "distance_km": round(float(row.distance_km), 2),
                    "vintage": row.vintage,
                    "vintages": row.vintages,
                }
            )
        return out


def nearest_sites(
    centres: pd.DataFrame,
    origin: Origin,
    filieres: Sequence[str],
    n: int = DEFAULT_N,
    vintages: Sequence[str] = (),
) -> NearestResult:
    """The ``n`` nearest sites of each level of care for ``filieres``, from ``origin``.

    Parameters
    ----------
    centres : DataFrame
        The registry (:func:`geo.centres.load_centres`: ``lon``, ``lat`` in WGS84
        degrees, ``dep``, ``label``, ``filiere``…).
    origin : Origin
        The person's commune and its point.
    filieres : sequence of str
        Filières to look in; must not be empty (an empty list is *not* "all").
    n : int
        Sites per group, 1 to :data:`MAX_N`.
    vintages : sequence of str
        Labellisation rounds to keep; empty = every loaded row.

    Returns
    -------
    NearestResult
        Groups, in order: reference then competence sites of the origin's zone
        (``in_zone`` true), then, for an overseas origin, reference sites in
        metropolitan France (``in_zone`` false). ``distance_km`` is the great-circle
        distance in km; ``rank`` counts from 1 within each group.

    Examples
    --------
    >>> origin = Origin("97411", "Saint-Denis", "974", 55.44863, -20.87897)
    >>> result = nearest_sites(centres, origin, ["MCGRE"], n=1)  # doctest: +SKIP
    >>> result.section("reference", in_zone=False)["commune"].tolist()  # doctest: +SKIP
    ['Orléans']
    """
    n = _check_n(n)
    filieres = tuple(dict.fromkeys(filieres or ()))
    if not filieres:
        raise EmptySelection(
            "aucune filière choisie : choisissez une filière, un groupe ou un mot-clé."
        )
    unknown = [f for f in filieres if f not in FILIERES]
    if unknown:
        raise ValueError(f"filieres must be among the 23 FSMR; got {', '.join(unknown)}")
    vintages = tuple(v for v in vintages or () if v)
    labels = [label for level in LEVELS for label in LEVEL_LABELS[level]]
    mask = centres["filiere"].isin(filieres).to_numpy() & centres["label"].isin(labels).to_numpy()
    if vintages:
        mask &= centres["vintage"].isin(vintages).to_numpy()
    pos, listed = _collapse(centres, np.flatnonzero(mask))

    lon = centres["lon"].to_numpy(dtype=float)[pos]
    lat = centres["lat"].to_numpy(dtype=float)[pos]
    km = np.atleast_1d(np.asarray(haversine_km(origin.lon, origin.lat, lon, lat), dtype=float))
    zones = zone_of(centres["dep"].to_numpy()[pos]) if len(pos) else np.array([], dtype=object)
    label = centres["label"].to_numpy()[pos]
    level = np.where(np.isin(label, REFERENCE_LABELS), REFERENCE, COMPETENCE)
    label_order = np.array([_LABEL_ORDER[x] for x in label], dtype=int)
    establishment = np.array(
        [
            str(x).casefold() if isinstance(x, str) else ""
            for x in centres["establishment"].to_numpy()[pos]
        ],
        dtype=object,
    )
    ids = centres["id"].astype(str).to_numpy()[pos]
    sections = [(lv, True) for lv in LEVELS]
    if origin.overseas:
        sections.append((REFERENCE, False))

    chosen, ranks, levels, flags = [], [], [], []
    for lv, in_zone in sections:
        rows = np.flatnonzero(
            (level == lv) & ((zones == origin.zone) if in_zone else (zones == METRO))
        )
        if len(rows) == 0:
            continue
        order = np.lexsort(
            (ids[rows], establishment[rows], label_order[rows], np.round(km[rows], 6))
        )
        picked = rows[order[:n]]
        chosen += picked.tolist()
        ranks += range(1, len(picked) + 1)
        levels += [lv] * len(picked)
        flags += [in_zone] * len(picked)
    out = centres.iloc[pos[chosen]].reset_index(drop=True)
    out = out.assign(
        rank=np.asarray(ranks, dtype=int),
        level=pd.Series(levels, dtype=object),
        in_zone=np.asarray(flags, dtype=bool),
        distance_km=km[chosen],
        vintages=pd.Series([listed[i] for i in chosen], dtype=object),
    )
    for col in SITE_COLUMNS:
        if col not in out.columns:
            out[col] = ""
    out = out[list(SITE_COLUMNS)]
    return NearestResult(origin, filieres, n, vintages, out, tuple(sections))


# --------------------------------------------------------------------------- map

#: French texts of the map (the page passes its own translation, same keys).
MAP_TEXTS_FR: dict[str, str] = {
    "origin": "Votre commune : {name}",
    "service": "Service",
    "network": "Réseau",
    "filiere": "Filière",
    "level": "Niveau",
    "distance": "{km} km à vol d'oiseau",
    "mainland": "en métropole",
    "no_establishment": "(établissement non précisé)",
    "sites_here": "{count} site(s) à {commune}",
}


def format_km(km: float, decimal: str = ",") -> str:
    """Distance for people: one decimal under 10 km, whole km above (``decimal`` separator)."""
    text = f"{km:.1f}" if km < 10 else f"{km:.0f}"
    return text.replace(".", decimal)


#: Bind each feature's escaped ``popup`` (if any) and ``tip`` properties. Texts travel as
#: JSON data, never inside JavaScript source (folium's Tooltip and Popup put their text in a
#: JS template literal, where ``${…}`` would run, and Popup needs jQuery).
_BIND = """
function (feature, layer) {
    if (feature.properties.popup) {
        layer.bindPopup(feature.properties.popup, {maxWidth: 340});
    }
    layer.bindTooltip(feature.properties.tip, {sticky: feature.geometry.type === "LineString"});
}
"""


def _feature(geometry: dict, **properties) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def nearest_view(
    result: NearestResult, width_px: int = 600, height_px: int = 460
) -> tuple[tuple[float, float], float]:
    """Centre (lat, lon) and Leaflet zoom showing the commune and the sites of its zone.

    Web Mercator arithmetic for a map of about ``width_px`` × ``height_px`` pixels, with
    a 20 % margin, snapped down to a quarter zoom level, between 4 and 11. Sites in
    metropolitan France of an overseas result are not zoomed to.
    """
    o = result.origin
    near = result.sites[result.sites["in_zone"].astype(bool)]
    lats = np.array([o.lat, *near["lat"].astype(float)])
    lons = np.array([o.lon, *near["lon"].astype(float)])

    def merc(lat):
        return np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))

    y0, y1 = merc(lats.min()), merc(lats.max())
    center_lat = float(np.degrees(2 * np.arctan(np.exp((y0 + y1) / 2)) - np.pi / 2))
    center = (round(center_lat, 4), round(float((lons.min() + lons.max()) / 2), 4))
    dlon = max(float(lons.max() - lons.min()), 1e-9) * 1.2
    dy = max(float(y1 - y0), 1e-9) * 1.2
    zoom = min(np.log2(width_px * 360 / (256 * dlon)), np.log2(height_px * 2 * np.pi / (256 * dy)))
    return center, float(np.clip(np.floor(zoom * 4) / 4, 4, 11))


def nearest_layers(
    result: NearestResult,
    texts: Mapping[str, str] | None = None,
    label_names: Mapping[str, str] | None = None,
    decimal: str = ",",
) -> list:
    """The result drawn as two folium FeatureGroups: straight lines, then points (offline).

    One line from the commune to each site, dashed to sites in metropolitan France of an
    overseas result. Sites sharing a point are one marker whose popup lists them; marker
    size and colour follow :data:`geo.maps.LABEL_STYLES` (the best level at that point),
    the commune is a larger white circle with a thick black edge. Every data text is
    HTML-escaped and travels as GeoJSON properties. ``texts`` overrides
    :data:`MAP_TEXTS_FR` (same keys and placeholders); ``label_names`` maps labels to
    names (default: the :data:`geo.maps.LABEL_STYLES` names). Coordinates WGS84.
    Pass them to ``st_folium(base, feature_group_to_add=...)`` with a constant base
    map, so that a new result does not reload the map.
    """
    import folium
    from folium.utilities import JsCode

    from geo.maps import COORD_DECIMALS, LABEL_STYLES

    tx = {**MAP_TEXTS_FR, **(texts or {})}
    names = {k: s.name for k, s in LABEL_STYLES.items()} | dict(label_names or {})
    o = result.origin
    esc = html.escape
    bind = JsCode(_BIND)

    def xy(lon, lat) -> list[float]:
        return [round(float(lon), COORD_DECIMALS), round(float(lat), COORD_DECIMALS)]

    def km_text(row) -> str:
        text = tx["distance"].format(km=format_km(row.distance_km, decimal))
        return text if row.in_zone else f"{text} ({tx['mainland']})"

    sites = result.sites
    lines = folium.FeatureGroup(name="lines")
    features = [
        _feature(
            {"type": "LineString", "coordinates": [xy(o.lon, o.lat), xy(row.lon, row.lat)]},
            tip=esc(f"{km_text(row)} – {row.establishment or tx['no_establishment']}"),
            dashed=not row.in_zone,
        )
        for row in sites.itertuples(index=False)
    ]
    if features:
        folium.GeoJson(
            {"type": "FeatureCollection", "features": features},
            style_function=lambda f: {
                "color": "#333333",
                "weight": 2,
                "opacity": 0.85,
                "dashArray": "6 6" if f["properties"]["dashed"] else None,
            },
            on_each_feature=bind,
            control=False,
        ).add_to(lines)

    points = []
    for (lat, lon), group in sites.groupby([sites["lat"].round(5), sites["lon"].round(5)]):
        best = min(group["label"], key=lambda x: _LABEL_ORDER.get(x, 99))
        items = []
        for row in group.itertuples(index=False):
            parts = [
                f"<strong>{esc(row.establishment or tx['no_establishment'])}</strong>",
                f"{esc(tx['service'])} : {esc(row.service)}" if row.service else "",
                f"{esc(tx['level'])} : {esc(names.get(row.label, row.label))}",
                f"{esc(tx['network'])} : {esc(row.crmr_name)}",
                f"{esc(tx['filiere'])} : {esc(row.filiere)}",
                esc(km_text(row)),
            ]
            items.append("<br>".join(x for x in parts if x))
        commune = str(group["commune"].iloc[0])
        points.append(
            _feature(
                {"type": "Point", "coordinates": xy(lon, lat)},
                popup="<hr>".join(items),
                tip=esc(tx["sites_here"].format(count=len(group), commune=commune)),
                fill=LABEL_STYLES[best].colour,
                radius=LABEL_STYLES[best].radius + 1,
                edge="#222222",
                weight=1,
            )
        )
    points.append(
        _feature(
            {"type": "Point", "coordinates": xy(o.lon, o.lat)},
            tip=esc(tx["origin"].format(name=f"{o.name} ({o.dep})")),
            fill="#ffffff",
            radius=10,
            edge="#000000",
            weight=3,
        )
    )
    markers = folium.FeatureGroup(name="points")
    folium.GeoJson(
        {"type": "FeatureCollection", "features": points},
        marker=folium.CircleMarker(radius=8, fill=True),
        style_function=lambda f: {
            "color": f["properties"]["edge"],
            "weight": f["properties"]["weight"],
            "fillColor": f["properties"]["fill"],
            "fillOpacity": 1.0,
            "radius": f["properties"]["radius"],
        },
        on_each_feature=bind,
        control=False,
    ).add_to(markers)
    return [lines, markers]


def nearest_map(
    result: NearestResult,
    texts: Mapping[str, str] | None = None,
    label_names: Mapping[str, str] | None = None,
    decimal: str = ",",
):
    """A standalone folium map of a result: :func:`nearest_layers` at :func:`nearest_view`."""
    from geo.maps import offline_map

    center, zoom = nearest_view(result)
    m = offline_map(center=center, zoom=zoom)
    for layer in nearest_layers(result, texts, label_names, decimal):
        layer.add_to(m)
    return m
