"""Importer une liste: a coordinator's CSV/XLSX list, checked row by row, previewed, then used.

Thin page over :mod:`geo.importer`: the upload is parsed from memory, nothing is written
to disk. "Utiliser cette liste" stores the imported registry in the session only, under
``st.session_state[geo.importer.IMPORTED_REGISTRY_KEY]`` as
``{"name": str, "centres": DataFrame (prepared, with commune/dep/reg), "report": dict}``.
Every text coming from the file goes through :func:`geo.importer.escape_markdown` before
any Markdown element (tables, messages, widget labels) shows it.
"""

import hashlib

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo import importer
from geo.centres import prepare_centres
from geo.errors import GeoError
from geo.export import to_csv_bytes
from geo.geocode import CommuneIndex
from geo.importer import IMPORTED_REGISTRY_KEY, escape_markdown
from geo.maps import LABEL_STYLES, base_map, sites_layer
from geo.territories import load_commune_names
from ui.data import display_departements, load_territories

PREVIEW_ROWS = 20
STATUS_NAMES = {"accepted": "acceptée", "warned": "avec avertissement", "rejected": "rejetée"}
PLACEMENT_NAMES = {
    "coordinates": "coordonnées fournies",
    "commune": "centre de la commune",
    "ambiguous": "commune ambiguë",
    "not_found": "commune introuvable",
    "": "",
}
DELIMITERS = {",": "virgule", ";": "point-virgule", "\t": "tabulation", "|": "barre verticale"}


@st.cache_resource(show_spinner="Préparation du géocodage hors ligne…")
def import_context() -> importer.ImportContext:
    """The territory data and commune index an import needs (shared, read-only)."""
    t = load_territories()
    index = CommuneIndex(load_commune_names(), t.communes)
    return importer.ImportContext(index, t.communes, t.departements, t.regions)


@st.cache_data(show_spinner=False, max_entries=4)
def read_upload(data: bytes, name: str, sheet: str | None) -> importer.RawTable:
    """The uploaded file's cells (raises ImportFileError when unreadable)."""
    return importer.read_table(data, name, sheet)


@st.cache_data(show_spinner="Import en cours…", max_entries=4)
def run_import(
    data: bytes, name: str, sheet: str | None, mapping: tuple[tuple[str, str], ...]
) -> importer.ImportResult:
    """Import the upload with the user's column mapping (cached per file and mapping)."""
    table = read_upload(data, name, sheet)
    return importer.import_table(table, dict(mapping), import_context())


def show_error(exc: Exception) -> None:
    """A GeoError as a French message, its text shown literally."""
    st.error(escape_markdown(str(exc)), icon="⚠️")


def clear_filters() -> None:
    """Forget the sidebar's selection: it named values of the previous dataset."""
    for key in [k for k in st.session_state if str(k).startswith("f_")] + ["filters"]:
        st.session_state.pop(key, None)


def active_import_banner() -> None:
    active = st.session_state.get(IMPORTED_REGISTRY_KEY)
    if not active:
        return
    st.info(
        f"Liste importée en cours d'utilisation : **{escape_markdown(active['name'])}** "
        f"({len(active['centres'])} sites), pour cette session seulement.",
        icon="📋",
    )
    if st.button("Revenir aux données embarquées", key="import_revert"):
        st.session_state.pop(IMPORTED_REGISTRY_KEY, None)
        clear_filters()
        st.rerun()


def choose_sheet(data: bytes, name: str, digest: str) -> str | None:
    """Sheet selector for a workbook with several sheets (None for a CSV)."""
    first = read_upload(data, name, None)
    if first.format != "xlsx" or len(first.sheets) < 2:
        return None
    return st.selectbox(
        "Feuille du classeur",
        list(first.sheets),
        key=f"import_sheet_{digest}",
        help="La première feuille est lue par défaut.",
    )


def column_mapping(table: importer.RawTable, digest: str) -> dict[str, str]:
    """Select boxes for the headers no alias knows; returns ``{header: field}``."""
    layout = importer.detect_layout(table)
    recognised = [c for c in layout.columns if c.source == "alias"]
    unknown = layout.unrecognised
    with st.expander(
        f"Colonnes : {len(recognised)} reconnues, {len(unknown)} à associer ou ignorer",
        expanded=bool(unknown) and not recognised,
    ):
        if recognised:
            st.dataframe(
                pd.DataFrame(
                    {
                        "Colonne du fichier": [c.header for c in recognised],
                        "Lue comme": [importer.FIELD_NAMES[c.field] for c in recognised],
                    }
                ),
                hide_index=True,
            )
        mapping: dict[str, str] = {}
        if unknown:
            st.markdown(
                "Colonnes non reconnues : choisissez le champ qu'elles contiennent "
                "(ou laissez « ignorer »)."
            )
            options = ["", *importer.FIELDS]
            grid = st.columns(3)
            for i, col in enumerate(unknown[:60]):
                choice = grid[i % 3].selectbox(
                    escape_markdown(col.header),
                    options,
                    format_func=lambda f: importer.FIELD_NAMES.get(f, "ignorer"),
                    key=f"import_map_{digest}_{col.index}",
                )
                if choice:
                    mapping[col.header] = choice
    return mapping


def report_section(result: importer.ImportResult) -> None:
    report = result.report
    info = report["file"]
    where = (
        f"feuille « {escape_markdown(info['sheet'])} »"
        if info["format"] == "xlsx"
        else f"CSV {info['encoding']}, séparateur {DELIMITERS.get(info['delimiter'], '?')}"
    )
    st.caption(f"{where} ; en-tête ligne {info['header_row']}.")
    for note in report["notes"]:
        st.caption(escape_markdown(note))

    cols = st.columns(4)
    cols[0].metric("Lignes lues", report["rows_read"])
    cols[1].metric("Acceptées", report["accepted"])
    cols[2].metric("Avec avertissement", report["warned"])
    cols[3].metric("Rejetées", report["rejected"])
    if report["blank_rows"]:
        st.caption(f"{report['blank_rows']} ligne(s) vide(s) ignorée(s).")
    if report["missing_fields"]:
        names = ", ".join(importer.FIELD_NAMES[f] for f in report["missing_fields"])
        st.caption(f"Champs absents du fichier : {names}.")

    if report["rejections"]:
        st.subheader(f"Lignes rejetées ({report['rejected']})")
        st.dataframe(
            pd.DataFrame(report["rejections"]).rename(columns={"row": "Ligne", "reason": "Motif"}),
            hide_index=True,
            width="stretch",
        )
        st.download_button(
            "Télécharger les lignes rejetées (CSV) pour les corriger",
            result.rejected_csv(),
            file_name="lignes-rejetees.csv",
            mime="text/csv",
            key="import_dl_rejected",
        )
    if report["warnings"]:
        st.subheader(f"Avertissements ({report['warned']})")
        st.dataframe(
            pd.DataFrame(report["warnings"]).rename(columns={"row": "Ligne", "reason": "Motif"}),
            hide_index=True,
            width="stretch",
        )
    with st.expander("Détail par ligne (statut et précision du placement)"):
        detail = result.rows.assign(
            status=result.rows["status"].map(STATUS_NAMES),
            placement=result.rows["placement"].map(PLACEMENT_NAMES),
        )
        st.dataframe(
            detail.rename(
                columns={
                    "source_row": "Ligne",
                    "status": "Statut",
                    "placement": "Placement",
                    "commune_code": "Commune (INSEE)",
                    "reason": "Motifs",
                }
            ),
            hide_index=True,
            width="stretch",
        )
    st.download_button(
        "Télécharger le rapport (JSON)",
        result.report_json().encode("utf-8"),
        file_name="rapport-import.json",
        mime="application/json",
        key="import_dl_report",
    )


def preview_table(centres: pd.DataFrame) -> None:
    """The first imported sites, every text escaped (st.table renders Markdown)."""
    head = centres.head(PREVIEW_ROWS)
    table = pd.DataFrame(
        {
            "Ligne": head["source_row"].astype(str),
            "Établissement": head["establishment"].map(escape_markdown),
            "Service": head["service"].map(escape_markdown),
            "Réseau": head["crmr_name"].map(escape_markdown),
            "Filière": head["filiere"].map(escape_markdown),
            "Label": head["label"].map(lambda x: escape_markdown(LABEL_STYLES[x].name)),
            "Commune": (head["commune"] + " (" + head["dep"] + ")").map(escape_markdown),
        }
    )
    st.table(table, hide_index=True)
    if len(centres) > PREVIEW_ROWS:
        st.caption(f"… et {len(centres) - PREVIEW_ROWS} autres sites.")


st.title("Importer une liste")
st.markdown(
    "Importez une liste de centres telle que vous l'avez (tableau de labellisation DGOS, "
    "tableur d'une filière) : **CSV** (virgule, point-virgule ou tabulation) ou **XLSX**. "
    "Chaque ligne est vérifiée et placée hors ligne dans sa commune ; le rapport dit ce qui "
    "a été fait de chacune. Rien n'est écrit sur le disque ni envoyé : la liste ne sert que "
    "pour cette session, après confirmation."
)
active_import_banner()

upload = st.file_uploader(
    "Fichier CSV ou XLSX",
    type=["csv", "tsv", "txt", "xlsx"],
    key="import_upload",
    help=f"Au plus {importer.MAX_BYTES // (1024 * 1024)} Mo et "
    f"{importer.MAX_ROWS:_} lignes.".replace("_", "\u202f"),
)

if upload is None:
    st.info(
        "Déposez un fichier pour voir le rapport d'import et l'aperçu sur la carte. Les "
        "en-têtes usuels (établissement, ville, code postal, filière, label…) sont reconnus ; "
        "les autres peuvent être associés à la main."
    )
else:
    data = upload.getvalue()
    digest = hashlib.sha1(data).hexdigest()[:12]
    try:
        sheet = choose_sheet(data, upload.name, digest)
        table = read_upload(data, upload.name, sheet)
        mapping = column_mapping(table, digest)
        result = run_import(data, upload.name, sheet, tuple(sorted(mapping.items())))
        prepared = prepare_centres(result.registry, load_territories().communes)
    except GeoError as exc:
        show_error(exc)
    else:
        st.header("Rapport d'import")
        report_section(result)

        st.header("Aperçu")
        if prepared.empty:
            st.warning("Aucune ligne acceptée : rien à afficher ni à utiliser.")
        else:
            preview_table(prepared)
            st_folium(
                base_map(display_departements(0.01)),
                key="import_preview",
                feature_group_to_add=[sites_layer(prepared, name="Sites importés")],
                returned_objects=[],
                height=520,
                use_container_width=True,
            )
            st.download_button(
                "Télécharger la liste importée (CSV, schéma du registre)",
                to_csv_bytes(result.registry),
                file_name="centres-importes.csv",
                mime="text/csv",
                key="import_dl_registry",
            )
            used = len(prepared)
            if st.button(
                f"Utiliser cette liste ({used} sites)",
                type="primary",
                key="import_use",
                help="Remplace les données affichées par cette liste, pour cette session.",
            ):
                st.session_state[IMPORTED_REGISTRY_KEY] = {
                    "name": upload.name,
                    "centres": prepared,
                    "report": {
                        k: result.report[k] for k in ("rows_read", "accepted", "warned", "rejected")
                    },
                }
                clear_filters()
                st.rerun()
