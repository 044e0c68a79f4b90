"""Two labellisations side by side: sites added, removed, relabelled, and the coverage change.

Two registries A (e.g. the 2017–2022 round) and B (e.g. 2023–2028, or an uploaded list
in the registry schema) are matched site by site (:func:`compare_registries`) on the key
*establishment + commune + network*: ``establishment`` and ``crmr_name`` normalised
(:func:`normalise_text`: case, accents, whitespace), ``commune_code`` as written. In each
key group:

1. one row on each side: the same site, ``unchanged`` when the label is the same,
   ``relabelled`` otherwise;
2. rows on one side only: ``added`` (B only) or ``removed`` (A only);
3. several rows on a side: rows with the same label and service (normalised) are paired
   first (``unchanged``); what remains is treated as in 1–2 when it can be, else the
   remaining rows are ``ambiguous`` (several candidates, listed separately in
   :attr:`Comparison.ambiguous` with a group number, never guessed).

The coverage change (:func:`coverage_change`) is the national share of the population
beyond each threshold (great-circle km from the commune's representative point,
overseas zone rule) for each registry, with :func:`geo.coverage.compute_gaps`.
"""

from __future__ import annotations

import html
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.centres import prepare_centres
from geo.coverage import DEFAULT_THRESHOLDS_KM, Selection, compute_gaps
from geo.errors import DataFileError
from geo.maps import LABEL_STYLES

STATUSES = ("added", "removed", "relabelled", "unchanged", "ambiguous")
STATUS_FR = {
    "added": "ajouté",
    "removed": "retiré",
    "relabelled": "label changé",
    "unchanged": "inchangé",
    "ambiguous": "appariement ambigu",
}
#: Okabe–Ito colours per status; the marker size and outline also differ (see
#: :data:`STATUS_STYLE`), so colour is never the only carrier of meaning.
STATUS_COLOURS = {
    "added": "#009E73",
    "removed": "#D55E00",
    "relabelled": "#0072B2",
    "unchanged": "#BBBBBB",
    "ambiguous": "#CC79A7",
}
#: (radius px, SVG dash array) per status.
STATUS_STYLE = {
    "added": (8, ""),
    "removed": (8, "3 3"),
    "relabelled": (8, ""),
    "unchanged": (4, ""),
    "ambiguous": (7, "1 3"),
}
#: Largest uploaded registry accepted (bytes).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
DESCRIPTIVE = (
    "filiere",
    "crmr_name",
    "establishment",
    "service",
    "commune_code",
    "commune",
    "dep",
    "reg",
    "lon",
    "lat",
)


def normalise_text(value) -> str:
    """Case, accents and whitespace folded: ``"  CHU  de Nîmes "`` → ``"chu de nimes"``.

    >>> normalise_text("  CHU  de Nîmes ")
    'chu de nimes'
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    s = unicodedata.normalize("NFKD", str(value).replace("œ", "oe").replace("Œ", "OE"))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return " ".join(s.casefold().split())


def match_keys(frame: pd.DataFrame) -> pd.Series:
    """The matching key of each row: establishment | commune code | network, normalised."""
    return (
        frame["establishment"].map(normalise_text)
        + "|"
        + frame["commune_code"].astype(str).str.strip().str.upper()
        + "|"
        + frame["crmr_name"].map(normalise_text)
    )


@dataclass
class Comparison:
    """Result of :func:`compare_registries`.

    ``sites``: one row per matched pair or unmatched row, with ``status``
    (:data:`STATUSES` except ``ambiguous``), ``key``, ``id_a``, ``id_b``, ``label_a``,
    ``label_b`` and the descriptive columns (from B when present, else A).
    ``ambiguous``: the rows that could not be paired, with ``group`` (one number per
    key), ``side`` (``A`` or ``B``), ``id``, ``label`` and the descriptive columns.
    """

    sites: pd.DataFrame
    ambiguous: pd.DataFrame
    name_a: str = "A"
    name_b: str = "B"

    def counts(self) -> dict[str, int]:
        """Rows per status (``ambiguous``: rows of both sides involved)."""
        out = {s: int((self.sites["status"] == s).sum()) for s in STATUSES if s != "ambiguous"}
        out["ambiguous"] = len(self.ambiguous)
        return out

    def by_region_filiere(self, regions: pd.DataFrame | None = None) -> pd.DataFrame:
        """Counts per (région, filière): one column per status, plus ``total``.

        ``regions`` (``code``, ``name``) gives région names; rows sorted by région then
        filière.
        """
        amb = self.ambiguous.assign(status="ambiguous")
        rows = pd.concat(
            [self.sites[["reg", "filiere", "status"]], amb[["reg", "filiere", "status"]]],
            ignore_index=True,
        )
        rows["reg"] = rows["reg"].fillna("").astype(str)
        if len(rows):
            table = rows.groupby(["reg", "filiere", "status"]).size().unstack(fill_value=0)
            table = table.reindex(columns=list(STATUSES), fill_value=0).reset_index()
        else:
            table = pd.DataFrame(
                {
                    c: pd.Series(dtype=object if c in ("reg", "filiere") else int)
                    for c in ("reg", "filiere", *STATUSES)
                }
            )
        if regions is not None:
            names = dict(zip(regions["code"], regions["name"], strict=True))
            table.insert(1, "region", table["reg"].map(names).fillna(table["reg"]))
        table.columns.name = None
        table["total"] = table[list(STATUSES)].sum(axis=1)
        sort = ["region" if "region" in table.columns else "reg", "filiere"]
        return table.sort_values(sort, kind="stable").reset_index(drop=True)

    def map_rows(self) -> pd.DataFrame:
        """Every row to draw (pairs, unmatched and ambiguous), with ``status``."""
        amb = self.ambiguous.assign(
            status="ambiguous",
            label_a=np.where(self.ambiguous["side"] == "A", self.ambiguous["label"], ""),
            label_b=np.where(self.ambiguous["side"] == "B", self.ambiguous["label"], ""),
        )
        cols = ["status", "label_a", "label_b", *DESCRIPTIVE]
        return pd.concat([self.sites[cols], amb[cols]], ignore_index=True)


def _descriptive(row: pd.Series) -> dict:
    return {c: row.get(c, "") for c in DESCRIPTIVE}


def compare_registries(
    a: pd.DataFrame, b: pd.DataFrame, name_a: str = "A", name_b: str = "B"
) -> Comparison:
    """Match the sites of ``a`` and ``b`` (registry frames) and classify each.

    Parameters
    ----------
    a, b : DataFrame
        Registry frames (``id``, ``establishment``, ``commune_code``, ``crmr_name``,
        ``label``, ``service``, ``filiere``, ``reg``, ``lon``, ``lat`` in WGS84 degrees);
        neither is modified.
    name_a, name_b : str
        How the two lists are called in popups and legends.

    Returns
    -------
    Comparison
        ``sites`` (added, removed, relabelled, unchanged) and ``ambiguous`` rows; see the
        module docstring for the matching rule.

    Examples
    --------
    >>> a = pd.DataFrame({"id": ["1"], "establishment": ["CHU de Lille"],
    ...     "commune_code": ["59350"], "crmr_name": ["N"], "label": ["ccmr"]})
    >>> b = a.assign(id="2", establishment="chu  de LILLE", label="crmr_constitutif")
    >>> compare_registries(a, b).sites["status"].tolist()
    ['relabelled']
    """
    a = a.assign(
        _key=match_keys(a), _svc=a.get("service", pd.Series("", a.index)).map(normalise_text)
    )
    b = b.assign(
        _key=match_keys(b), _svc=b.get("service", pd.Series("", b.index)).map(normalise_text)
    )
    groups_a = {k: g for k, g in a.groupby("_key", sort=False)}
    groups_b = {k: g for k, g in b.groupby("_key", sort=False)}
    pairs: list[dict] = []
    ambiguous: list[dict] = []

    def pair(key, ra, rb):
        if ra is None:
            status, base = "added", rb
        elif rb is None:
            status, base = "removed", ra
        else:
            status = "unchanged" if ra["label"] == rb["label"] else "relabelled"
            base = rb
        pairs.append(
            {
                "status": status,
                "key": key,
                "id_a": "" if ra is None else ra["id"],
                "id_b": "" if rb is None else rb["id"],
                "label_a": "" if ra is None else ra["label"],
                "label_b": "" if rb is None else rb["label"],
                **_descriptive(base),
            }
        )

    group_no = 0
    for key in dict.fromkeys([*groups_a, *groups_b]):
        ga = groups_a.get(key, a.iloc[0:0])
        gb = groups_b.get(key, b.iloc[0:0])
        rem_a = list(ga.index)
        rem_b = list(gb.index)
        if len(rem_a) > 1 or len(rem_b) > 1:
            # pair identical (label, service) rows first
            for idx_a in list(rem_a):
                ra = a.loc[idx_a]
                same = [
                    i
                    for i in rem_b
                    if b.at[i, "label"] == ra["label"] and b.at[i, "_svc"] == ra["_svc"]
                ]
                if same:
                    pair(key, ra, b.loc[same[0]])
                    rem_a.remove(idx_a)
                    rem_b.remove(same[0])
        if len(rem_a) == 1 and len(rem_b) == 1:
            pair(key, a.loc[rem_a[0]], b.loc[rem_b[0]])
        elif not rem_a:
            for i in rem_b:
                pair(key, None, b.loc[i])
        elif not rem_b:
            for i in rem_a:
                pair(key, a.loc[i], None)
        else:
            group_no += 1
            for side, frame, idx in (("A", a, rem_a), ("B", b, rem_b)):
                for i in idx:
                    row = frame.loc[i]
                    ambiguous.append(
                        {
                            "group": group_no,
                            "side": side,
                            "key": key,
                            "id": row["id"],
                            "label": row["label"],
                            **_descriptive(row),
                        }
                    )
    site_cols = ["status", "key", "id_a", "id_b", "label_a", "label_b", *DESCRIPTIVE]
    amb_cols = ["group", "side", "key", "id", "label", *DESCRIPTIVE]
    return Comparison(
        pd.DataFrame(pairs, columns=site_cols),
        pd.DataFrame(ambiguous, columns=amb_cols),
        name_a,
        name_b,
    )


# --------------------------------------------------------------------------- coverage


def coverage_change(
    communes: pd.DataFrame,
    departements: pd.DataFrame,
    a: pd.DataFrame,
    b: pd.DataFrame,
    selection: Selection | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS_KM,
    corsica_separate: bool = False,
) -> pd.DataFrame:
    """National share of inhabitants beyond each threshold (km) with registry A and with B.

    One row per threshold: ``threshold_km``, ``population_beyond_a``, ``share_beyond_a``
    (%), ``population_beyond_b``, ``share_beyond_b`` (%), ``change_points`` (B − A, in
    percentage points). ``selection`` is applied to both registries (its site counts:
    ``len(selection.sites(a))``); ``None`` means every site.
    """
    selection = selection or Selection()
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)  # the tables index by row
    ga = compute_gaps(
        communes,
        departements,
        a,
        selection,
        "departement",
        thresholds,
        corsica_separate=corsica_separate,
    )
    gb = compute_gaps(
        communes,
        departements,
        b,
        selection,
        "departement",
        thresholds,
        corsica_separate=corsica_separate,
    )
    rows = []
    for t in ga.thresholds:
        k = f"{t:g}"
        sa, sb = ga.national["share_beyond_km"][k], gb.national["share_beyond_km"][k]
        rows.append(
            {
                "threshold_km": t,
                "population_beyond_a": ga.national["population_beyond_km"][k],
                "share_beyond_a": None if sa is None else round(100 * sa, 2),
                "population_beyond_b": gb.national["population_beyond_km"][k],
                "share_beyond_b": None if sb is None else round(100 * sb, 2),
                "change_points": None if sa is None or sb is None else round(100 * (sb - sa), 2),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- reading a list


def read_registry_upload(data: bytes, communes: pd.DataFrame) -> pd.DataFrame:
    """An uploaded CSV in the registry schema, validated by :func:`geo.centres.prepare_centres`.

    Accepts UTF-8 (with or without BOM), comma or semicolon separated. Raises
    :class:`~geo.errors.DataFileError` (unreadable) or
    :class:`~geo.errors.RegistryError` (invalid rows, each with its line and fix).
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise DataFileError(
            f"Fichier trop volumineux ({len(data) / 1e6:.1f} Mo ; maximum "
            f"{MAX_UPLOAD_BYTES / 1e6:.0f} Mo)."
        )
    try:
        text = bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFileError(
            "Fichier illisible : il n'est pas encodé en UTF-8. Enregistrez-le en « CSV UTF-8 » "
            "ou passez par la page « Importer une liste »."
        ) from exc
    if not text.strip():
        raise DataFileError("Fichier vide : un CSV avec en-tête est attendu.")
    first = text.splitlines()[0]
    sep = ";" if first.count(";") > first.count(",") else ","
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise DataFileError(
            f"CSV illisible ({exc.__class__.__name__}) : vérifiez le séparateur et les "
            "guillemets, ou passez par la page « Importer une liste »."
        ) from exc
    return prepare_centres(frame, communes)


# --------------------------------------------------------------------------- map


def status_popup_html(row: pd.Series, name_a: str = "A", name_b: str = "B") -> str:
    """Popup of one compared site; every value escaped."""

    def esc(v) -> str:
        return html.escape("" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))

    def label(x) -> str:
        return LABEL_STYLES[x].name if x in LABEL_STYLES else str(x or "—")

    lines = [
        f"<strong>{esc(STATUS_FR[row['status']].capitalize())}</strong>",
        f"{esc(row['establishment']) or '(établissement non précisé)'}",
        f"Réseau : {esc(row['crmr_name'])}",
        f"Filière : {esc(row['filiere'])}" if row["filiere"] else "",
        f"Commune : {esc(row.get('commune', row['commune_code']))}",
        f"Label ({esc(name_a)}) : {esc(label(row['label_a']))}",
        f"Label ({esc(name_b)}) : {esc(label(row['label_b']))}",
    ]
    return "<br>".join(x for x in lines if x)


def comparison_points(comparison: Comparison) -> pd.DataFrame:
    """Rows for :func:`geo.network.points_layer`, unchanged sites first (drawn below)."""
    rows = comparison.map_rows()
    rows = rows[rows["lon"].notna() & rows["lat"].notna()]
    order = {
        s: i for i, s in enumerate(("unchanged", "ambiguous", "relabelled", "removed", "added"))
    }
    rows = rows.sort_values("status", key=lambda s: s.map(order), kind="stable")
    out = pd.DataFrame(
        {
            "lon": rows["lon"].astype(float),
            "lat": rows["lat"].astype(float),
            "fill": rows["status"].map(STATUS_COLOURS),
            "stroke": "#222222",
            "radius": rows["status"].map(lambda s: STATUS_STYLE[s][0]),
            "dash": rows["status"].map(lambda s: STATUS_STYLE[s][1]),
            "tip": [
                html.escape(f"{STATUS_FR[s]} : {e or c}")
                for s, e, c in zip(
                    rows["status"], rows["establishment"], rows["crmr_name"], strict=True
                )
            ],
            "popup": [
                status_popup_html(r, comparison.name_a, comparison.name_b)
                for _, r in rows.iterrows()
            ],
        }
    )
    return out.reset_index(drop=True)


def status_legend(comparison: Comparison) -> list[tuple[str, str]]:
    """(colour, French text with count) per status, for the map legend."""
    counts = comparison.counts()
    return [(STATUS_COLOURS[s], f"{STATUS_FR[s].capitalize()} ({counts[s]})") for s in STATUSES]
