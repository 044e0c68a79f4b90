"""Completeness of the loaded registry against the official 2017–2022 composition.

A coverage gap means something only if the network's list of sites is complete.
This module compares the sites loaded for each CRMR network with the number of
sites the official 2017–2022 labellisation gave it, per network, per filière and
for a :class:`geo.coverage.Selection`. Pure pandas, no streamlit.

Data
----
``data/official_composition_2018.csv`` (:func:`load_official`)
    Orphanet's working table of 2 August 2018 (repository fmorphanet/Cartographie),
    as counts: one row per row of ``data/raw/official-network-composition-2018.csv``
    with its original columns (``filiere_orphanet``, ``orphanet_network_id``,
    ``crmr_name``, ``n_coordonnateur``, ``n_constitutif``, ``n_competence``) plus
    ``filiere`` (canonical name, :data:`ORPHANET_FILIERES`) and
    ``official_crmr_name`` (``crmr_name`` with runs of whitespace made one space and
    the ends stripped). 112 rows, 114 + 286 + 1,769 = 2,169 sites. Two rows are one
    network, C-MAVEM (NeuroSphinx): their names differ only by a trailing line break
    (1 + 7 + 33 and 0 + 0 + 1 sites), so the table holds 111 distinct networks; a
    network is keyed by (``filiere``, ``official_crmr_name``) and its counts are the
    sum of its rows. ``orphanet_network_id`` is the same for every network of a
    filière, so it does not identify a network. Rebuilt by :func:`build_official`.
``data/network_matching.csv`` (:func:`load_matching`)
    One row per network name of ``data/centres.csv`` (PEMR excepted): ``crmr_name``
    (exactly as in the registry), ``filiere``, ``orphanet_network_id``,
    ``official_crmr_name`` (exactly as in the official file's column of that name;
    empty = not matched), ``method`` and ``note`` (why, for every row).

Matching and its review rule
----------------------------
:func:`propose_matches` proposes, for each loaded network name, the official
network of the same filière with the highest token similarity (names folded to
lower case without accents or punctuation, generic words such as « centre de
référence », « maladies rares » and articles dropped, a plural ``s`` cut; the score
is the mean of the Dice coefficient and the share of the official tokens found).
Every proposal was then read by a person, with both names and the loaded rows'
vintages, and kept only when all of these hold:

1. the two names designate the same CRMR network: same disease scope and, for
   networks split by region (AnDDI-Rares, FAI2R, FILNEMUS, the CARDIOGEN rhythm
   networks, MAGEC Nord/Sud, MCGRE Antilles-Guyane), the same region named in the
   loaded name itself (a region deduced from the host hospital is not enough);
   wording the compilers added in parentheses (« page: … ») is ignored;
2. the loaded name is used for at least one row of vintage ``2017-2022`` or
   ``unknown``, *or* it is the official name itself (``exact`` or ``normalised``).
   Other names used only for before-2017 rows (earlier structures, e.g. CLAD-Ouest,
   the 2005–2007 national centres) or only for 2023-2028 rows (the next round,
   often re-scoped, e.g. PRADORT 2023, OrphaLung 2023) stay unmatched;
3. a name that says its CRMR is not named or not specified stays unmatched, except
   where the official table itself has a row for such sites: the non-regional FAI2R
   row « maladies auto-immunes systémiques rares » (0 + 0 + 35) and the MHEMO row
   « maladies hémorragiques constitutionnelles » (0 + 0 + 30, the CRC-MHC);
4. a network of a filière that has a single official network (FILSLAN, MUCO-CFTR)
   matches it when its scope is that network's (ALS centres, CRCM).

Proposals that were wrong were replaced by the right network when one was certain
(e.g. RAISE, RESO = Est & Sud-Ouest, SED NV sites inside the 2017 MOC network).
``method`` says how a kept pair was found: ``exact`` (identical strings),
``normalised`` (identical token sets after the folding above), ``manual`` (any
other pair, accepted or added by judgement; the note says which). Unmatched names
have an empty ``official_crmr_name`` and a note giving the reason.

Counting rule
-------------
Loaded sites are registry rows of a matched name (and of the requested vintages).
Labels map to the official levels as :data:`LEVEL_OF_LABEL` says:
``crmr_coordonnateur`` → coordonnateur, ``crmr_constitutif`` → constitutif,
``crmr_site`` (reference site whose role the source does not state) → counts toward
the reference sites (coordonnateur + constitutif) without a role, ``ccmr`` and
``crc`` → competence (the official table has no CRC column; the CRC of MHEMO,
MUCO-CFTR and FILSLAN are counted in its competence column). ``collaborateur`` and
``pemr`` have no official counterpart and never count.

Levels are compared in groups, because a ``crmr_site`` can be either role:
*reference* (loaded coordonnateur + constitutif + crmr_site vs official coordonnateur
+ constitutif) and *competence*. ``labels`` restricts the comparison to the groups
those labels belong to; when it holds only ``crmr_coordonnateur`` (or only
``crmr_constitutif``) that role is compared alone. A network is *complete* when,
for every compared group, loaded ≥ official, and the official count of the
compared groups is positive. ``share`` = loaded / official over the compared
groups; it is not capped (more than 1 means extra or duplicate rows, or a name
matched too widely). The official reference is the 2017–2022 round: any other
vintage makes the comparison indicative only.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from geo.centres import FILIERES
from geo.errors import DataFileError
from geo.territories import DATA_DIR

RAW_OFFICIAL_FILE = DATA_DIR / "raw" / "official-network-composition-2018.csv"
OFFICIAL_FILE = DATA_DIR / "official_composition_2018.csv"
MATCHING_FILE = DATA_DIR / "network_matching.csv"

#: The labellisation round the official table describes (registry ``vintage`` value).
OFFICIAL_VINTAGE = "2017-2022"
#: Source line for the UI.
OFFICIAL_SOURCE = (
    "Composition officielle 2017–2022 : table de travail d'Orphanet du 2 août 2018 "
    "(dépôt GitHub fmorphanet/Cartographie), en nombres de sites par réseau."
)

#: Orphanet's filière spellings in the official table → canonical names (geo.centres.FILIERES).
ORPHANET_FILIERES = {
    "AnDDI": "AnDDI-Rares",
    "BRAIN TEAM": "BRAIN-TEAM",
    "Cardiogen": "CARDIOGEN",
    "DefiScience": "DéfiScience",
    "FAIIR": "FAI2R",
    "FAVA-Multi": "FAVA-Multi",
    "FILFOIE": "FILFOIE",
    "FILNEMUS": "FILNEMUS",
    "FILSLAN": "FILSLAN",
    "FIMARAD": "FIMARAD",
    "FIMATHO": "FIMATHO",
    "FIRENDO": "FIRENDO",
    "G2M": "G2M",
    "MARIH": "MaRIH",
    "MCGRE": "MCGRE",
    "MHEMO": "MHEMO",
    "MUCO": "MUCO-CFTR",
    "NEUROSPHINX": "NeuroSphinx",
    "ORKID": "ORKiD",
    "OSCAR": "OSCAR",
    "RESPIFIL": "RespiFIL",
    "SENSGENE": "SENSGENE",
    "TETE COU": "TETECOU",
}

#: Registry label → official level (``site``: a reference site of unknown role).
LEVEL_OF_LABEL = {
    "crmr_coordonnateur": "coordonnateur",
    "crmr_constitutif": "constitutif",
    "crmr_site": "site",
    "ccmr": "competence",
    "crc": "competence",
}
COUNTED_LABELS = tuple(LEVEL_OF_LABEL)
MATCH_METHODS = ("exact", "normalised", "manual")

OFFICIAL_COLUMNS = (
    "filiere",
    "filiere_orphanet",
    "orphanet_network_id",
    "official_crmr_name",
    "crmr_name",
    "n_coordonnateur",
    "n_constitutif",
    "n_competence",
)
MATCHING_COLUMNS = (
    "crmr_name",
    "filiere",
    "orphanet_network_id",
    "official_crmr_name",
    "method",
    "note",
)
_COUNTS = ("n_coordonnateur", "n_constitutif", "n_competence")

#: Comparison groups: official count columns, registry labels, French wording.
_GROUPS = {
    "reference": (
        ("n_coordonnateur", "n_constitutif"),
        ("crmr_coordonnateur", "crmr_constitutif", "crmr_site"),
        "sites de référence",
    ),
    "coordonnateur": (("n_coordonnateur",), ("crmr_coordonnateur",), "sites coordonnateurs"),
    "constitutif": (("n_constitutif",), ("crmr_constitutif",), "sites constitutifs"),
    "competence": (("n_competence",), ("ccmr", "crc"), "centres de compétence"),
}

#: Words ignored when comparing names (generic or grammatical).
# fmt: off
_STOP = frozenset({
    "a", "au", "aux", "d", "de", "des", "du", "en", "et", "l", "la", "le", "les", "pour", "sur",
    "un", "une", "centre", "centres", "reference", "referent", "national", "nationale", "crmr",
    "cr", "maladie", "maladies", "rare", "rares", "page",
})
# fmt: on


# --------------------------------------------------------------------------- names


def collapse_spaces(text: str) -> str:
    """Return ``text`` with runs of whitespace (line breaks included) made one space.

    Parameters
    ----------
    text : str
        Any name.

    Returns
    -------
    str
        The name, ends stripped; the official file's ``official_crmr_name``.
    """
    return " ".join(str(text).split())


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", str(text).replace("œ", "oe").replace("Œ", "oe"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = re.sub(r"\b(auto|neuro|leuco|multi)[\s-]+", r"\1", text)
    return re.sub(r"[^0-9a-z]+", " ", text).strip()


def name_tokens(name: str) -> frozenset[str]:
    """Informative tokens of a network name, as used to compare names.

    Parameters
    ----------
    name : str
        A network name (loaded or official).

    Returns
    -------
    frozenset of str
        Lower-case, accent- and punctuation-free words, without generic words
        (« centre de référence », « maladies rares », articles…) and with a plural
        ``s`` cut from words longer than four letters. Two names with equal token
        sets match by the ``normalised`` method.
    """
    out = set()
    for tok in _fold(name).split():
        if tok in _STOP or len(tok) < 2:
            continue
        out.add(tok[:-1] if len(tok) > 4 and tok.endswith("s") else tok)
    return frozenset(out)


def _score(loaded: frozenset[str], official: frozenset[str]) -> float:
    if not loaded or not official:
        return 0.0
    common = len(loaded & official)
    dice = 2 * common / (len(loaded) + len(official))
    cover = common / len(official)
    return round((dice + cover) / 2, 3)


def canonical_filiere(orphanet: str) -> str:
    """Canonical filière name for one of Orphanet's spellings.

    Parameters
    ----------
    orphanet : str
        The official table's ``filiere_orphanet`` value, e.g. ``"FAIIR"``.

    Returns
    -------
    str
        One of :data:`geo.centres.FILIERES`, e.g. ``"FAI2R"``.

    Raises
    ------
    ValueError
        When the spelling is not in :data:`ORPHANET_FILIERES`.
    """
    key = collapse_spaces(orphanet)
    if key not in ORPHANET_FILIERES:
        raise ValueError(
            f"unknown Orphanet filière spelling {orphanet!r}; add it to ORPHANET_FILIERES"
        )
    return ORPHANET_FILIERES[key]


# --------------------------------------------------------------------------- loading


def build_official(raw: Path = RAW_OFFICIAL_FILE) -> pd.DataFrame:
    """Build the shipped official table from Orphanet's raw file.

    Parameters
    ----------
    raw : Path
        ``data/raw/official-network-composition-2018.csv``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OFFICIAL_COLUMNS`, all strings (as written to
        ``data/official_composition_2018.csv``), one row per raw row, raw values kept.
    """
    frame = pd.read_csv(raw, dtype=str, keep_default_na=False, encoding="utf-8")
    frame["filiere"] = frame["filiere_orphanet"].map(canonical_filiere)
    frame["official_crmr_name"] = frame["crmr_name"].map(collapse_spaces)
    return frame[list(OFFICIAL_COLUMNS)]


def _read(path: Path, columns: Iterable[str], what: str) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"Fichier {what} introuvable : {path}.")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFileError(f"Fichier {what} illisible : {path} ({exc}).") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataFileError(f"Fichier {what} {path} : colonnes manquantes {', '.join(missing)}.")
    return frame


def load_official(path: Path = OFFICIAL_FILE) -> pd.DataFrame:
    """Load the official 2017–2022 composition (one row per row of Orphanet's table).

    Parameters
    ----------
    path : Path
        Default ``data/official_composition_2018.csv``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OFFICIAL_COLUMNS`; the three ``n_*`` counts as ``int``.
        112 rows for the embedded file. Use :func:`official_networks` for one row
        per network.

    Raises
    ------
    DataFileError
        When the file is missing, unreadable or lacks a column.
    """
    frame = _read(path, OFFICIAL_COLUMNS, "de composition officielle")
    for col in _COUNTS:
        frame[col] = pd.to_numeric(frame[col], errors="raise").astype(int)
    return frame


def official_networks(official: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per official network (rows of the same network summed).

    Parameters
    ----------
    official : pandas.DataFrame, optional
        :func:`load_official`'s frame (loaded when omitted).

    Returns
    -------
    pandas.DataFrame
        Columns ``filiere``, ``orphanet_network_id``, ``official_crmr_name``,
        ``n_coordonnateur``, ``n_constitutif``, ``n_competence``, ``n_total``,
        ``rows`` (rows of the table); 111 rows for the embedded file, sorted by
        filière then name.
    """
    official = load_official() if official is None else official
    nets = (
        official.groupby(["filiere", "official_crmr_name"], sort=True)
        .agg(
            orphanet_network_id=("orphanet_network_id", "first"),
            n_coordonnateur=("n_coordonnateur", "sum"),
            n_constitutif=("n_constitutif", "sum"),
            n_competence=("n_competence", "sum"),
            rows=("crmr_name", "size"),
        )
        .reset_index()
    )
    nets["n_total"] = nets[list(_COUNTS)].sum(axis=1)
    cols = ["filiere", "orphanet_network_id", "official_crmr_name", *_COUNTS, "n_total", "rows"]
    return nets[cols]


def load_matching(path: Path = MATCHING_FILE) -> pd.DataFrame:
    """Load the reviewed matching table of loaded network names to official networks.

    Parameters
    ----------
    path : Path
        Default ``data/network_matching.csv``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`MATCHING_COLUMNS`, strings; ``official_crmr_name`` empty
        for unmatched names. Keep ``official_crmr_name != ""`` for the matches.

    Raises
    ------
    DataFileError
        When the file is missing, unreadable, lacks a column, has an unknown
        ``method`` or names one loaded network twice.
    """
    frame = _read(path, MATCHING_COLUMNS, "de rapprochement des réseaux")
    matched = frame["official_crmr_name"] != ""
    bad = frame.loc[matched & ~frame["method"].isin(MATCH_METHODS), "method"]
    if len(bad):
        raise DataFileError(
            f"Fichier {path} : méthode « {bad.iloc[0]} » inconnue ; "
            f"valeurs admises : {', '.join(MATCH_METHODS)}."
        )
    dup = frame.duplicated(["filiere", "crmr_name"])
    if dup.any():
        raise DataFileError(
            f"Fichier {path} : réseau « {frame.loc[dup, 'crmr_name'].iloc[0]} » en double."
        )
    return frame


# --------------------------------------------------------------------------- proposals


def propose_matches(centres: pd.DataFrame, official: pd.DataFrame) -> pd.DataFrame:
    """Propose an official network for each loaded network name (to be reviewed).

    Parameters
    ----------
    centres : pandas.DataFrame
        A registry (needs ``filiere``, ``crmr_name``, ``label``, ``vintage``);
        PEMR rows are ignored.
    official : pandas.DataFrame
        :func:`load_official` or :func:`build_official`'s frame.

    Returns
    -------
    pandas.DataFrame
        One row per (filière, loaded name), sorted: ``filiere``, ``crmr_name``,
        ``vintages`` (comma-separated), ``sites``, ``official_crmr_name`` (best
        candidate of the same filière), ``score`` (0–1, 1 for equal token sets),
        ``method`` (``exact``, ``normalised`` or ``similar``), ``runner_up`` and
        ``runner_up_score``. Nothing is decided here: read each pair (see the
        module's review rule) before writing ``data/network_matching.csv``.
    """
    nets = official.drop_duplicates(["filiere", "official_crmr_name"])
    rows = []
    loaded = centres[centres["label"] != "pemr"]
    for (filiere, name), g in loaded.groupby(["filiere", "crmr_name"], sort=True):
        toks = name_tokens(name)
        cands = []
        for off in nets.loc[nets["filiere"] == filiere, "official_crmr_name"]:
            if name == off:
                method, score = "exact", 1.0
            elif toks == name_tokens(off):
                method, score = "normalised", 1.0
            else:
                method, score = "similar", _score(toks, name_tokens(off))
            cands.append((score, method, off))
        cands.sort(key=lambda c: -c[0])
        best = cands[0] if cands else (0.0, "", "")
        second = cands[1] if len(cands) > 1 else (0.0, "", "")
        rows.append(
            {
                "filiere": filiere,
                "crmr_name": name,
                "vintages": ",".join(sorted(set(g["vintage"]))),
                "sites": len(g),
                "official_crmr_name": best[2],
                "score": best[0],
                "method": best[1],
                "runner_up": second[2],
                "runner_up_score": second[0],
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- completeness


def _vintages(vintage: str | Iterable[str] | None) -> tuple[str, ...] | None:
    if vintage is None:
        return None
    if isinstance(vintage, str):
        return (vintage,)
    vintages = tuple(vintage)
    return vintages or None


def compared_groups(labels: Iterable[str] | None = None) -> tuple[str, ...]:
    """The level groups compared for a set of registry labels.

    Parameters
    ----------
    labels : iterable of str, optional
        Registry labels that count (``None`` or empty = all).

    Returns
    -------
    tuple of str
        Among ``reference``, ``coordonnateur``, ``constitutif``, ``competence``
        (see the module docstring); empty when no label has an official counterpart
        (only ``collaborateur`` and/or ``pemr``).
    """
    chosen = set(labels or COUNTED_LABELS) & set(COUNTED_LABELS)
    ref = chosen & {"crmr_coordonnateur", "crmr_constitutif", "crmr_site"}
    groups: list[str] = []
    if ref == {"crmr_coordonnateur"}:
        groups.append("coordonnateur")
    elif ref == {"crmr_constitutif"}:
        groups.append("constitutif")
    elif ref:
        groups.append("reference")
    if chosen & {"ccmr", "crc"}:
        groups.append("competence")
    return tuple(groups)


def _group_labels(groups: Iterable[str], labels: Iterable[str] | None) -> set[str]:
    chosen = set(labels or COUNTED_LABELS)
    return {lab for g in groups for lab in _GROUPS[g][1] if lab in chosen}


def _loaded_counts(rows: pd.DataFrame) -> dict[str, int]:
    vc = rows["label"].value_counts()
    n = {lab: int(vc.get(lab, 0)) for lab in COUNTED_LABELS}
    out = {
        "loaded_coordonnateur": n["crmr_coordonnateur"],
        "loaded_constitutif": n["crmr_constitutif"],
        "loaded_site": n["crmr_site"],
        "loaded_competence": n["ccmr"] + n["crc"],
    }
    out["loaded_reference"] = (
        out["loaded_coordonnateur"] + out["loaded_constitutif"] + out["loaded_site"]
    )
    out["loaded_total"] = out["loaded_reference"] + out["loaded_competence"]
    return out


def _compare(off: pd.Series, rows: pd.DataFrame, groups, labels) -> tuple[int, int, bool]:
    """Official and loaded counts over the compared groups, and completeness."""
    official = loaded = 0
    complete = bool(groups)
    chosen = set(labels or COUNTED_LABELS)
    for g in groups:
        cols, labs, _ = _GROUPS[g]
        o = int(sum(int(off[c]) for c in cols))
        n = int(rows["label"].isin([lab for lab in labs if lab in chosen]).sum())
        official += o
        loaded += n
        complete &= n >= o
    return official, loaded, bool(complete and official > 0)


def _matched(matching: pd.DataFrame) -> pd.DataFrame:
    return matching.loc[
        matching["official_crmr_name"] != "", ["filiere", "crmr_name", "official_crmr_name"]
    ]


def network_completeness(
    centres: pd.DataFrame,
    vintage: str | Iterable[str] | None = OFFICIAL_VINTAGE,
    labels: Iterable[str] | None = None,
    official: pd.DataFrame | None = None,
    matching: pd.DataFrame | None = None,
    include_unmatched: bool = False,
) -> pd.DataFrame:
    """Loaded vs official site counts for each official 2017–2022 network.

    Parameters
    ----------
    centres : pandas.DataFrame
        A registry (needs ``filiere``, ``crmr_name``, ``label``, ``vintage``).
    vintage : str or iterable of str or None, default ``"2017-2022"``
        Registry vintages whose rows count; ``None`` = every row. Anything other
        than ``"2017-2022"`` makes the comparison indicative.
    labels : iterable of str, optional
        Registry labels whose level is compared (``None`` = all levels); e.g.
        :data:`geo.centres.REFERENCE_LABELS` compares reference sites only.
    official, matching : pandas.DataFrame, optional
        :func:`load_official` and :func:`load_matching` frames (loaded when omitted).
    include_unmatched : bool, default False
        Also list official networks no loaded name is matched to (loaded 0).

    Returns
    -------
    pandas.DataFrame
        One row per official network with at least one matched name present in
        ``centres`` (all 111 with ``include_unmatched``), sorted by filière and name:

        - ``filiere``, ``official_crmr_name``;
        - ``crmr_names``: tuple of the loaded names matched to it (any vintage);
        - ``official_coordonnateur``, ``official_constitutif``,
          ``official_reference`` (the two summed), ``official_competence``,
          ``official_total``;
        - ``loaded_coordonnateur``, ``loaded_constitutif``, ``loaded_site``
          (``crmr_site``), ``loaded_reference`` (the three summed),
          ``loaded_competence`` (``ccmr`` + ``crc``), ``loaded_total``: rows of the
          matched names and the vintages, whatever ``labels``;
        - ``official_compared``, ``loaded_compared``: over the compared groups
          (:func:`compared_groups`);
        - ``share``: loaded_compared / official_compared (NaN when the official
          count is 0; not capped at 1);
        - ``complete``: loaded ≥ official in every compared group, official > 0.

        ``frame.attrs`` holds ``vintages`` (list or None) and ``groups``.
    """
    official = load_official() if official is None else official
    matching = load_matching() if matching is None else matching
    vintages = _vintages(vintage)
    groups = compared_groups(labels)
    nets = official_networks(official)
    present = centres[["filiere", "crmr_name"]].drop_duplicates()
    links = _matched(matching).merge(present, on=["filiere", "crmr_name"], how="inner")
    rows = centres[centres["label"].isin(COUNTED_LABELS)]
    if vintages is not None:
        rows = rows[rows["vintage"].isin(vintages)]
    rows = rows.merge(links, on=["filiere", "crmr_name"], how="inner")
    by_net = {key: g for key, g in rows.groupby(["filiere", "official_crmr_name"])}
    names = links.groupby(["filiere", "official_crmr_name"])["crmr_name"].agg(
        lambda s: tuple(sorted(s))
    )
    empty = rows.iloc[0:0]
    out = []
    for net in nets.itertuples(index=False):
        key = (net.filiere, net.official_crmr_name)
        if key not in names.index and not include_unmatched:
            continue
        g = by_net.get(key, empty)
        row = {
            "filiere": net.filiere,
            "official_crmr_name": net.official_crmr_name,
            "crmr_names": names.get(key, ()),
            "official_coordonnateur": int(net.n_coordonnateur),
            "official_constitutif": int(net.n_constitutif),
            "official_reference": int(net.n_coordonnateur + net.n_constitutif),
            "official_competence": int(net.n_competence),
            "official_total": int(net.n_total),
            **_loaded_counts(g),
        }
        o, n, complete = _compare(pd.Series(net._asdict()), g, groups, labels)
        row.update(
            official_compared=o,
            loaded_compared=n,
            share=(n / o) if o else math.nan,
            complete=complete,
        )
        out.append(row)
    frame = pd.DataFrame(out, columns=_NETWORK_COLUMNS)
    frame["complete"] = frame["complete"].astype(bool)
    frame["share"] = frame["share"].astype(float)
    frame.attrs.update(vintages=None if vintages is None else list(vintages), groups=groups)
    return frame.reset_index(drop=True)


_NETWORK_COLUMNS = (
    "filiere",
    "official_crmr_name",
    "crmr_names",
    "official_coordonnateur",
    "official_constitutif",
    "official_reference",
    "official_competence",
    "official_total",
    "loaded_coordonnateur",
    "loaded_constitutif",
    "loaded_site",
    "loaded_reference",
    "loaded_competence",
    "loaded_total",
    "official_compared",
    "loaded_compared",
    "share",
    "complete",
)


def complete_networks(
    centres: pd.DataFrame,
    vintage: str | Iterable[str] | None = OFFICIAL_VINTAGE,
    labels: Iterable[str] | None = None,
    official: pd.DataFrame | None = None,
    matching: pd.DataFrame | None = None,
) -> list[str]:
    """Loaded network names whose official network is complete in the loaded data.

    Parameters
    ----------
    centres, vintage, labels, official, matching
        As for :func:`network_completeness`.

    Returns
    -------
    list of str
        Sorted ``crmr_name`` values of ``centres`` matched to a complete network
        and having at least one row of the vintages (and a counted label): restrict
        a selection with ``centres["crmr_name"].isin(names)``.
    """
    table = network_completeness(centres, vintage, labels, official, matching)
    names = {n for t in table.loc[table["complete"], "crmr_names"] for n in t}
    vintages = _vintages(vintage)
    rows = centres[centres["crmr_name"].isin(names) & centres["label"].isin(COUNTED_LABELS)]
    if vintages is not None:
        rows = rows[rows["vintage"].isin(vintages)]
    return sorted(set(rows["crmr_name"]))


def filiere_completeness(
    centres: pd.DataFrame,
    vintage: str | Iterable[str] | None = OFFICIAL_VINTAGE,
    labels: Iterable[str] | None = None,
    official: pd.DataFrame | None = None,
    matching: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Loaded vs official site counts per filière.

    Parameters
    ----------
    centres, vintage, labels, official, matching
        As for :func:`network_completeness`.

    Returns
    -------
    pandas.DataFrame
        One row per filière (all 23, in :data:`geo.centres.FILIERES` order):
        ``filiere``, ``official_networks``, ``matched_networks`` (official networks
        with a matched name in ``centres``), ``complete_networks`` (complete at the
        compared levels), ``official_reference``, ``official_competence``,
        ``official_total``, ``loaded_reference``, ``loaded_competence``,
        ``loaded_total`` (every row of the filière and vintages with a counted
        label, matched or not), ``official_compared``, ``loaded_compared``,
        ``share`` (loaded_compared / official_compared).
    """
    official = load_official() if official is None else official
    matching = load_matching() if matching is None else matching
    vintages = _vintages(vintage)
    groups = compared_groups(labels)
    nets = official_networks(official)
    per_net = network_completeness(
        centres, vintage, labels, official, matching, include_unmatched=True
    )
    rows = centres[centres["label"].isin(COUNTED_LABELS)]
    if vintages is not None:
        rows = rows[rows["vintage"].isin(vintages)]
    chosen = _group_labels(groups, labels)
    out = []
    for filiere in FILIERES:
        n = nets[nets["filiere"] == filiere]
        p = per_net[per_net["filiere"] == filiere]
        g = rows[rows["filiere"] == filiere]
        loaded = _loaded_counts(g)
        o = int(p["official_compared"].sum())
        lc = int(g["label"].isin(chosen).sum())
        out.append(
            {
                "filiere": filiere,
                "official_networks": len(n),
                "matched_networks": int((p["crmr_names"].map(len) > 0).sum()),
                "complete_networks": int(p["complete"].sum()),
                "official_reference": int((n["n_coordonnateur"] + n["n_constitutif"]).sum()),
                "official_competence": int(n["n_competence"].sum()),
                "official_total": int(n["n_total"].sum()),
                "loaded_reference": loaded["loaded_reference"],
                "loaded_competence": loaded["loaded_competence"],
                "loaded_total": loaded["loaded_total"],
                "official_compared": o,
                "loaded_compared": lc,
                "share": (lc / o) if o else math.nan,
            }
        )
    frame = pd.DataFrame(out)
    frame.attrs.update(vintages=None if vintages is None else list(vintages), groups=groups)
    return frame


# --------------------------------------------------------------------------- selection


def _int_fr(n: int) -> str:
    return f"{int(n):,}".replace(",", "\u202f")


def _pct_fr(share: float) -> str:
    pct = share * 100
    if 0 < pct < 1:
        return "moins de 1\u00a0%"
    return f"{round(pct):d}\u00a0%"


def _plural(n: int, one: str, many: str) -> str:
    return one if n <= 1 else many


def _levels_fr(groups: tuple[str, ...]) -> str:
    if set(groups) == {"reference", "competence"}:
        return "sites officiels"
    words = [_GROUPS[g][2] for g in groups]
    return " et ".join(words) + " officiels"


def selection_completeness(
    centres: pd.DataFrame,
    selection,
    official: pd.DataFrame | None = None,
    matching: pd.DataFrame | None = None,
) -> dict:
    """How complete a coverage selection is, with a French sentence for the page.

    Parameters
    ----------
    centres : pandas.DataFrame
        The registry the selection applies to.
    selection : geo.coverage.Selection
        Its ``network`` (a loaded name) or ``filieres`` (empty = all) set the
        official networks involved; its ``labels`` the compared levels; its
        ``vintages`` (empty = every row) the loaded rows. PEMR and collaborating
        centres never count.
    official, matching : pandas.DataFrame, optional
        :func:`load_official` and :func:`load_matching` frames.

    Returns
    -------
    dict
        ``scope`` (``"network"``, ``"filieres"`` or ``"all"``); ``vintages`` (list,
        empty = all); ``indicative`` (True unless the vintages are exactly
        ``2017-2022``); ``groups`` (compared level groups); ``networks`` (official
        names involved); ``n_networks``; ``official`` (official sites of those
        networks at the compared levels, None when not measurable); ``loaded``
        (sites of the selection at those levels); ``loaded_unmatched`` (of which
        rows of names matched to no official network); ``share`` (loaded /
        official, None when not measurable); ``complete`` (every involved network
        has loaded ≥ official in the selection's rows; None when not measurable);
        ``complete_networks`` (loaded names of the selection whose network is
        complete, see :func:`complete_networks`); ``n_complete_networks``
        (official networks complete); ``message`` (one French sentence).
    """
    official = load_official() if official is None else official
    matching = load_matching() if matching is None else matching
    vintages = tuple(selection.vintages)
    indicative = set(vintages) != {OFFICIAL_VINTAGE}
    groups = compared_groups(selection.labels)
    sites = selection.sites(centres)
    sites = sites[sites["label"].isin(_group_labels(groups, selection.labels))]
    links = _matched(matching)
    result = {
        "scope": "network" if selection.network else ("filieres" if selection.filieres else "all"),
        "vintages": list(vintages),
        "indicative": indicative,
        "groups": list(groups),
        "networks": [],
        "n_networks": 0,
        "official": None,
        "loaded": len(sites),
        "loaded_unmatched": int(
            (
                ~sites.set_index(["filiere", "crmr_name"]).index.isin(
                    links.set_index(["filiere", "crmr_name"]).index
                )
            ).sum()
        ),
        "share": None,
        "complete": None,
        "complete_networks": [],
        "n_complete_networks": 0,
        "message": "",
    }
    if not groups:
        result["message"] = (
            "Les centres collaborateurs et les PEMR ne figurent pas dans la composition "
            "officielle 2017–2022 : complétude non mesurable."
        )
        return result

    table = network_completeness(
        sites, None, selection.labels, official, matching, include_unmatched=True
    )
    if selection.network:
        keys = links.loc[links["crmr_name"] == selection.network, ["filiere", "official_crmr_name"]]
        if keys.empty:
            result["message"] = (
                f"Réseau « {selection.network} » non rapproché de la composition officielle "
                "2017–2022 (organisation antérieure ou postérieure, ou réseau non nommé par "
                "la source) : complétude non mesurable."
            )
            return result
        table = table.merge(keys.drop_duplicates(), on=["filiere", "official_crmr_name"])
    elif selection.filieres:
        table = table[table["filiere"].isin(selection.filieres)]

    official_n = int(table["official_compared"].sum())
    result.update(networks=list(table["official_crmr_name"]), n_networks=len(table))
    if official_n == 0:
        result["message"] = (
            "Aucun site officiel 2017–2022 à ces niveaux pour cette sélection : "
            "complétude non mesurable."
        )
        return result
    complete = bool(table["complete"].all())
    loaded = len(sites)
    share = loaded / official_n
    names = complete_networks(centres, vintages or None, selection.labels, official, matching)
    in_scope = set(selection.sites(centres)["crmr_name"])
    result.update(
        official=official_n,
        share=share,
        complete=complete,
        complete_networks=[n for n in names if n in in_scope],
        n_complete_networks=int(table["complete"].sum()),
    )

    state = "complète" if complete else "incomplète"
    vint = ""
    if indicative:
        vint = " (tous millésimes)" if not vintages else f" (millésimes {', '.join(vintages)})"
    text = (
        f"Sélection {state} : {_int_fr(loaded)} "
        f"{_plural(loaded, 'site chargé', 'sites chargés')}{vint} sur {_int_fr(official_n)} "
        f"{_levels_fr(groups)} 2017–2022 ({_pct_fr(share)})"
    )
    n_net, k = len(table), int(table["complete"].sum())
    if n_net > 1:
        text += f" ; {k} {_plural(k, 'réseau complet', 'réseaux complets')} sur {n_net}"
    if indicative:
        text += (
            " ; la référence officielle étant la labellisation 2017–2022, "
            "la comparaison n'est qu'indicative"
        )
    result["message"] = text + "."
    return result
