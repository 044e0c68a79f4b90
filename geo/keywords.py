"""Keywords a patient would type (diseases, organs) mapped to the 23 filières.

``data/keywords.csv`` (``keyword, lang, filiere, note``) is the project's documented
table: one row per (keyword, filière) pair, so a keyword may point to several
filières ("surdité": SENSGENE for genetic deafness, TETECOU for ear malformations;
"sang": MaRIH, MCGRE and MHEMO). ``lang`` is ``fr`` or ``en`` (the English
interface accepts English keywords; every keyword is matched in both languages).
``note`` says what part of the filière the keyword points to; it is shown to users.
The mapping is a judgement from the filières' own scope and the networks of the
registry (``crmr_name``), not an official thesaurus: a disease missing here can
still be found through its filière or its 2007 disease group.

Matching (:func:`match_keyword`) is accent-, case- and punctuation-insensitive and
tolerates plurals (a final ``s`` or ``x`` is dropped from words of four letters or
more on both sides: "myopathies" = "myopathie", "reins" = "rein"; "os" stays "os"),
in this order:

1. ``exact``: the whole query is a keyword ("Hémophilie", "mucoviscidoses");
2. ``contains``: every word of a keyword appears in the query ("maladie de Marfan",
   "maladie du rein"); when one matched keyword's words are a subset of another's,
   only the more specific is kept ("malformation cardiaque" → CARDIOGEN, not
   "malformation" → AnDDI-Rares);
3. ``prefix``: the query (3 letters or more) begins exactly one keyword ("mucov");
4. ``none``: nothing matched; ``suggestions`` lists close keywords (same prefix or
   similar spelling, e.g. "mucovicidose" → "mucoviscidose").
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geo.centres import FILIERES
from geo.territories import DATA_DIR

KEYWORDS_FILE = DATA_DIR / "keywords.csv"
KEYWORD_COLUMNS = ("keyword", "lang", "filiere", "note")
LANGS = ("fr", "en")

EXACT = "exact"
CONTAINS = "contains"
PREFIX = "prefix"
NONE = "none"

#: Minimum query length for prefix matching.
PREFIX_MIN_CHARS = 3
#: difflib similarity cutoff for suggestions (0–1).
SUGGEST_CUTOFF = 0.72


def normalise_keyword(text: str) -> str:
    """Lower-case, accent-free, punctuation-free, singular form of a keyword or query.

    >>> normalise_keyword("Hémophilies")
    'hemophilie'
    >>> normalise_keyword("Cœur")
    'coeur'
    >>> normalise_keyword("os de verre")
    'os de verre'
    """
    s = str(text or "").strip().lower().replace("œ", "oe").replace("æ", "ae")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = re.sub(r"[^a-z0-9]+", " ", s)
    return " ".join(_singular(w) for w in s.split())


def _singular(word: str) -> str:
    return word[:-1] if len(word) >= 4 and word[-1] in "sx" else word


def load_keywords(path: Path = KEYWORDS_FILE) -> pd.DataFrame:
    """The keyword table as strings, checked: ``keyword, lang, filiere, note`` (+ ``key``).

    ``key`` is :func:`normalise_keyword` of ``keyword``. Raises ``ValueError`` naming
    the line for an unknown filière or language, or an empty keyword.
    """
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in KEYWORD_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {', '.join(missing)}")
    problems = []
    for i, row in enumerate(table.itertuples(index=False), start=2):
        if not row.keyword.strip():
            problems.append(f"line {i}: empty keyword")
        if row.lang not in LANGS:
            problems.append(f"line {i}: lang must be one of {', '.join(LANGS)}; got {row.lang!r}")
        if row.filiere not in FILIERES:
            problems.append(f"line {i}: unknown filière {row.filiere!r}")
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    table = table.copy()
    table["key"] = table["keyword"].map(normalise_keyword)
    return table


@dataclass(frozen=True)
class KeywordMatch:
    """What a query matched: ``status`` is ``exact``, ``contains``, ``prefix`` or ``none``.

    ``keywords`` are the matched keywords as the table writes them; ``filieres`` the
    filières they point to (table order, no duplicate); ``notes`` the (keyword,
    filière, note) rows; ``suggestions`` close keywords when nothing matched.
    """

    query: str
    status: str
    keywords: tuple[str, ...] = ()
    filieres: tuple[str, ...] = ()
    notes: tuple[tuple[str, str, str], ...] = field(default_factory=tuple)
    suggestions: tuple[str, ...] = ()

    @property
    def found(self) -> bool:
        return self.status != NONE


def _result(query: str, status: str, table: pd.DataFrame, keys: list[str]) -> KeywordMatch:
    rows = table[table["key"].isin(keys)]
    keywords = tuple(dict.fromkeys(rows.drop_duplicates("key")["keyword"]))
    filieres = tuple(dict.fromkeys(rows["filiere"]))
    notes = tuple(
        dict.fromkeys(
            (r.keyword, r.filiere, r.note)
            for r in rows.drop_duplicates(["key", "filiere"]).itertuples(index=False)
        )
    )
    return KeywordMatch(query, status, keywords, filieres, notes)


def match_keyword(query: str, table: pd.DataFrame, lang: str | None = None) -> KeywordMatch:
    """Match a free-text query against the keyword table (see the module's rules).

    ``table`` is :func:`load_keywords`'s frame; ``lang`` (``fr``/``en``) orders the
    suggestions, keywords of that language first.

    >>> table = load_keywords()
    >>> match_keyword("Maladie de Marfan", table).filieres
    ('FAVA-Multi',)
    >>> match_keyword("hemophilies", table).status
    'exact'
    """
    key = normalise_keyword(query)
    if not key:
        return KeywordMatch(str(query or ""), NONE, suggestions=_examples(table, lang))
    keys = list(dict.fromkeys(table["key"]))
    if key in keys:
        return _result(query, EXACT, table, [key])

    words = set(key.split())
    inside = [k for k in keys if set(k.split()) <= words]
    inside = [k for k in inside if not any(set(k.split()) < set(o.split()) for o in inside)]
    if inside:
        return _result(query, CONTAINS, table, inside)

    if len(key) >= PREFIX_MIN_CHARS:
        starts = [k for k in keys if k.startswith(key)]
        if len(starts) == 1:
            return _result(query, PREFIX, table, starts)
    return KeywordMatch(query, NONE, suggestions=suggest_keywords(query, table, lang))


def suggest_keywords(
    query: str, table: pd.DataFrame, lang: str | None = None, limit: int = 6
) -> tuple[str, ...]:
    """Keywords close to ``query`` (beginning with it, or spelt alike), best first."""
    key = normalise_keyword(query)
    if not key:
        return ()
    ordered = _ordered(table, lang)
    by_key = dict(zip(ordered["key"], ordered["keyword"], strict=True))
    keys = list(by_key)
    out = [k for k in keys if len(key) >= 2 and k.startswith(key)]
    out += difflib.get_close_matches(key, keys, n=limit, cutoff=SUGGEST_CUTOFF)
    # Word-level closeness: "maladie de marfann" → "marfan".
    for word in key.split():
        if len(word) >= 4:
            out += difflib.get_close_matches(word, keys, n=2, cutoff=0.8)
    return tuple(dict.fromkeys(by_key[k] for k in out))[:limit]


def _ordered(table: pd.DataFrame, lang: str | None) -> pd.DataFrame:
    """Unique keywords, those of ``lang`` first (stable)."""
    uniq = table.drop_duplicates("key")
    if lang in LANGS:
        uniq = pd.concat([uniq[uniq["lang"] == lang], uniq[uniq["lang"] != lang]])
    return uniq


def _examples(table: pd.DataFrame, lang: str | None, limit: int = 6) -> tuple[str, ...]:
    return tuple(_ordered(table, lang)["keyword"].head(limit))


def keyword_summary(table: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """One row per keyword (of ``lang`` when given): ``keyword``, ``filieres``, ``note``."""
    rows = table if lang is None else table[table["lang"] == lang]
    grouped = rows.groupby("keyword", sort=False)
    return pd.DataFrame(
        {
            "keyword": list(grouped.groups),
            "filieres": [", ".join(dict.fromkeys(g["filiere"])) for _, g in grouped],
            "note": [" ; ".join(n for n in dict.fromkeys(g["note"]) if n) for _, g in grouped],
        }
    )
