"""Offline commune matching: city names, postal codes and départements → INSEE code.

Everything runs against the embedded territory tables (``data/commune_names.parquet``
and ``data/communes.parquet``); no geocoding service is called.

Matching rules, in order:

1. The city text is normalised (:func:`normalise_name`): case, accents, ligatures
   (œ, æ), hyphens, apostrophes, "St/Ste" → "saint/sainte", "CEDEX" and
   arrondissement suffixes ("Paris 15e", "Lyon 3ème arrondissement") removed.
   A parenthesised hint is used too: "Saint-Denis (La Réunion)" restricts to the
   974 département, "La Tronche (Grenoble)" tries "La Tronche" then "Grenoble".
   Alternatives written "A / B" or "A; B" are tried in turn.
2. Candidates are communes (COM) and Paris/Lyon/Marseille arrondissements (ARM)
   with that name; failing those, former communes (communes déléguées or
   associées, e.g. "Cherbourg-Octeville") attached to their current commune.
3. Candidates are narrowed by the postal code (exact match, else its
   département prefix, which handles CEDEX codes) and by the département code.
4. One commune left: matched. Several: when one is a town of at least
   :data:`DOMINANT_MIN_POPULATION` inhabitants and every other has less than
   1/:data:`DOMINANT_RATIO` of its population ("La Rochelle": 17300, not the
   Haute-Saône village), it is matched *with a warning*; otherwise ``ambiguous``
   with the candidates listed. None: ``not_found``.

For Paris, Lyon and Marseille a postal code picks the arrondissement
(``arrondissement`` field); the commune code is the city's (75056, 69123, 13055).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

from geo.territories import OVERSEAS

MATCHED = "commune"
#: Homonym tie-break: the dominant candidate must have at least this many inhabitants...
DOMINANT_MIN_POPULATION = 20_000
#: ... and at least this many times the population of every other candidate.
DOMINANT_RATIO = 20
AMBIGUOUS = "ambiguous"
NOT_FOUND = "not_found"

_ARTICLE_HINTS = {
    # free-text territory names found in hints, normalised → département code
    "la reunion": "974",
    "reunion": "974",
    "ile de la reunion": "974",
    "guadeloupe": "971",
    "martinique": "972",
    "guyane": "973",
    "mayotte": "976",
    "corse": "2A|2B",
}


def normalise_name(text: str) -> str:
    """Normalise a commune name for matching.

    >>> normalise_name("St-Étienne CEDEX 2")
    'saint etienne'
    >>> normalise_name("Vandœuvre-lès-Nancy")
    'vandoeuvre les nancy'
    >>> normalise_name("Paris 15e arrondissement")
    'paris'
    """
    s = str(text).strip().lower()
    s = s.replace("œ", "oe").replace("æ", "ae")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = re.sub(r"[’'`´\-‐–—_.,/]", " ", s)
    s = re.sub(r"\bcedex\b(\s*\d+)?", " ", s)
    s = re.sub(r"\b\d{1,2}\s*(e|er|eme|ème)?\s*(arrondissement|arr)?\b", " ", s)
    s = re.sub(r"\barrondissement\b", " ", s)
    s = re.sub(r"\bste\b", "sainte", s)
    s = re.sub(r"\bst\b", "saint", s)
    s = re.sub(r"\s+", " ", s).strip()
    return s


def postal_departement(postal_code: str) -> set[str]:
    """Départements a postal code prefix points to (``97411`` → 974, ``20000`` → 2A/2B)."""
    pc = re.sub(r"\D", "", str(postal_code or ""))
    if len(pc) != 5:
        return set()
    if pc.startswith("97"):
        return {pc[:3]}
    if pc.startswith("20"):
        return {"2A", "2B"}
    return {pc[:2]}


@dataclass(frozen=True)
class Candidate:
    """One commune a text may designate."""

    code: str
    name: str
    dep: str
    arrondissement: str | None = None


@dataclass(frozen=True)
class GeocodeResult:
    """Outcome of one lookup: ``status`` is ``commune``, ``ambiguous`` or ``not_found``."""

    status: str
    code: str | None = None
    name: str | None = None
    dep: str | None = None
    arrondissement: str | None = None
    candidates: tuple[Candidate, ...] = field(default_factory=tuple)
    reason: str = ""
    warning: str = ""


class CommuneIndex:
    """An in-memory index of every commune name and postal code (built once, read-only)."""

    def __init__(self, commune_names: pd.DataFrame, communes: pd.DataFrame):
        self._com_name = dict(zip(communes["code"], communes["name"], strict=True))
        self._com_dep = dict(zip(communes["code"], communes["dep"], strict=True))
        self._com_pop = dict(zip(communes["code"], communes["population"], strict=True))
        self._primary: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
        self._former: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
        self._postal: dict[str, set[str]] = defaultdict(set)
        self._postal_arm: dict[str, str] = {}
        self._suggest_pool: dict[str, list[str]] | None = None  # built on first suggest()
        dep_names = {normalise_name(n): c for c, n in OVERSEAS.items()}
        self._hints = {**_ARTICLE_HINTS, **dep_names}
        for row in commune_names.itertuples(index=False):
            key = normalise_name(row.name)
            arm = row.own_code if row.kind == "ARM" else None
            target = self._primary if row.kind in ("COM", "ARM") else self._former
            entry = (row.code, arm)
            if entry not in target[key]:
                target[key].append(entry)
            for pc in row.postal_codes:
                self._postal[pc].add(row.code)
                if row.kind == "ARM":
                    self._postal_arm[pc] = row.own_code

    def departements_of_postal_code(self, postal_code: str) -> set[str]:
        """Départements of the communes served by a postal code, or its prefix's."""
        codes = self._postal.get(str(postal_code).strip(), set())
        return {self._com_dep[c] for c in codes} or postal_departement(postal_code)

    def _candidates(self, key: str) -> list[str]:
        """Commune codes a normalised name designates (current names before former ones)."""
        found = self._primary.get(key) or self._former.get(key, [])
        return list(dict.fromkeys(code for code, _ in found))  # Paris: 1 COM + 20 ARM → 1

    def _variants(self, city: str) -> list[tuple[str, set[str] | None]]:
        """(normalised name, département restriction) pairs to try, in order."""
        out: list[tuple[str, set[str] | None]] = []
        # Official names may hold parentheses ("Château-Chinon (Ville)"): try them whole first.
        whole = normalise_name(city)
        if whole in self._primary:
            out.append((whole, None))
        for alt in re.split(r"\s*(?:/|;|\bou\b)\s*", city):
            alt = alt.strip()
            if not alt:
                continue
            m = re.match(r"^(.*?)\s*\((.*)\)\s*$", alt)
            if m:
                main, hint = m.group(1), normalise_name(m.group(2))
                if hint in self._hints:
                    out.append((normalise_name(main), set(self._hints[hint].split("|"))))
                else:
                    out.append((normalise_name(main), None))
                    out.append((hint, None))
            else:
                out.append((normalise_name(alt), None))
        return [(k, d) for k, d in out if k]

    def lookup(
        self, city: str | None, postal_code: str | None = None, departement: str | None = None
    ) -> GeocodeResult:
        """Match a city (and optional postal code, département code) to one commune."""
        city = (city or "").strip()
        postal_code = re.sub(r"\s", "", str(postal_code or ""))
        departement = str(departement or "").strip().upper()
        if departement.isdigit() and len(departement) == 1:
            departement = "0" + departement
        if not city and not postal_code:
            return GeocodeResult(NOT_FOUND, reason="ni ville ni code postal")

        pc_communes = self._postal.get(postal_code, set()) if postal_code else set()
        pc_deps = postal_departement(postal_code) if postal_code else set()

        tried: list[str] = []
        ambiguous: list[Candidate] = []
        for key, hint_deps in self._variants(city) if city else []:
            tried.append(key)
            cands = self._candidates(key)
            if not cands:
                continue
            if hint_deps:
                cands = [c for c in cands if self._com_dep[c] in hint_deps]
            if departement:
                cands = [c for c in cands if self._com_dep[c] == departement]
            if len(cands) > 1 and pc_communes:
                narrowed = [c for c in cands if c in pc_communes]
                cands = narrowed or cands
            if len(cands) > 1 and pc_deps:
                narrowed = [c for c in cands if self._com_dep[c] in pc_deps]
                cands = narrowed or cands
            if len(cands) == 1:
                return self._result(cands[0], postal_code)
            if len(cands) > 1:
                dominant = self._dominant(cands)
                if dominant:
                    others = ", ".join(
                        f"{self._com_name[c]} ({self._com_dep[c]})" for c in cands if c != dominant
                    )
                    return self._result(
                        dominant,
                        postal_code,
                        warning=f"homonyme : « {city} » rattaché à la ville la plus peuplée, "
                        f"{self._com_name[dominant]} ({self._com_dep[dominant]}), plutôt qu'à "
                        f"{others} ; précisez le département si ce n'est pas le bon.",
                    )
                ambiguous = [self._candidate(c) for c in cands]
                break
        if ambiguous:
            names = ", ".join(f"{c.name} ({c.dep}, {c.code})" for c in ambiguous[:8])
            more = f" et {len(ambiguous) - 8} autres" if len(ambiguous) > 8 else ""
            return GeocodeResult(
                AMBIGUOUS,
                candidates=tuple(ambiguous),
                reason=f"« {city} » désigne plusieurs communes : {names}{more}. "
                "Précisez le code postal ou le département.",
            )
        if not city and len(pc_communes) == 1:
            return self._result(next(iter(pc_communes)), postal_code)
        where = f" dans le département {departement}" if departement else ""
        if city:
            reason = f"commune « {city} » introuvable{where}"
        else:
            reason = f"code postal « {postal_code} » introuvable ou partagé par plusieurs communes"
        return GeocodeResult(NOT_FOUND, reason=reason)

    def suggest(self, city: str, limit: int = 3) -> list[str]:
        """Commune names close to a (misspelt) city, best first, as « Name (dép.) ».

        Only names sharing the first two letters and within three characters of
        length are compared (a few milliseconds to a few tens per call).

        >>> index.suggest("Montpelier")  # doctest: +SKIP
        ['Montpellier (34)']
        """
        key = normalise_name(city or "")
        if not key:
            return []
        if self._suggest_pool is None:
            pool: dict[str, list[str]] = defaultdict(list)
            for name in self._primary:
                pool[name[:2]].append(name)
            self._suggest_pool = dict(pool)
        pool_keys = [k for k in self._suggest_pool.get(key[:2], []) if abs(len(k) - len(key)) <= 3]
        out: list[str] = []
        for close in difflib.get_close_matches(key, pool_keys, n=limit, cutoff=0.8):
            for code in self._candidates(close):
                label = f"{self._com_name[code]} ({self._com_dep[code]})"
                if label not in out:
                    out.append(label)
        return out[:limit]

    def _dominant(self, codes: list[str]) -> str | None:
        pops = sorted(((self._com_pop[c], c) for c in codes), reverse=True)
        (top, code), (second, _) = pops[0], pops[1]
        if top >= DOMINANT_MIN_POPULATION and top >= DOMINANT_RATIO * second:
            return code
        return None

    def _candidate(self, code: str) -> Candidate:
        return Candidate(code, self._com_name[code], self._com_dep[code])

    def _result(self, code: str, postal_code: str, warning: str = "") -> GeocodeResult:
        arm = self._postal_arm.get(postal_code) if postal_code else None
        if arm and not arm.startswith(code[:2]):
            arm = None
        return GeocodeResult(
            MATCHED,
            code=code,
            name=self._com_name[code],
            dep=self._com_dep[code],
            arrondissement=arm,
            warning=warning,
        )
