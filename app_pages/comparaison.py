"""Comparer deux listes: two labellisations side by side (added, removed, relabelled sites).

Thin page over :mod:`geo.compare`. Each side is the application's registry (filtered on
labellisation rounds), the list imported in this session (page « Importer une liste »),
or an uploaded CSV in the registry schema (validated by
:func:`geo.centres.prepare_centres`). Texts from the data go through
:func:`geo.importer.escape_markdown` wherever Streamlit reads Markdown.
"""

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.centres import CENTRES_FILE, FILIERES, default_centres_path, load_centres
from geo.compare import (
    STATUS_FR,
    compare_registries,
    comparison_points,
    coverage_change,
    read_registry_upload,
    status_legend,
)
from geo.coverage import Selection
from geo.errors import GeoError, RegistryError
from geo.export import to_csv_bytes
from geo.exports import file_stem, standalone_html, to_xlsx_bytes
from geo.importer import IMPORTED_REGISTRY_KEY, escape_markdown
from geo.maps import LABEL_STYLES, VIEWS, base_map, view_center
from geo.network import legend_control, points_layer
from ui.data import display_departements, load_territories, registry_key
from ui.selection import LABEL_PRESETS

APP = "Registre de l'application"
IMPORTED = "Liste importée (cette session)"
UPLOAD = "Fichier CSV (schéma du registre)"
THRESHOLDS = (50.0, 100.0, 200.0)


@st.cache_data(show_spinner="Chargement du registre…", max_entries=4)
def app_registry(path: str, mtime: float) -> tuple[pd.DataFrame, str]:
    """The registry of ``CENTRES_FILE`` (or the embedded one when it fails) and its name."""
    del mtime  # part of the cache key
    communes = load_territories().communes
    try:
        return load_centres(default_centres_path(), communes), default_centres_path().name
    except GeoError:
        return load_centres(CENTRES_FILE, communes), CENTRES_FILE.name


@st.cache_data(show_spinner="Lecture du fichier…", max_entries=4)
def uploaded_registry(data: bytes) -> pd.DataFrame:
    """An uploaded registry CSV, validated (raises GeoError)."""
    return read_registry_upload(data, load_territories().communes)


@st.cache_data(show_spinner="Comparaison de la couverture…", max_entries=16)
def coverage(key_a: str, key_b: str, _a, _b, selection: Selection, corsica: bool):
    """:func:`geo.compare.coverage_change`, cached per pair of registries and selection."""
    del key_a, key_b
    t = load_territories()
    return coverage_change(t.communes, t.departements, _a, _b, selection, THRESHOLDS, corsica)


def choose(side: str, column, default_vintage: str) -> tuple[pd.DataFrame | None, str]:
    """The widgets of one side; returns its sites (None when not ready) and its name."""
    path = default_centres_path()
    imported = st.session_state.get(IMPORTED_REGISTRY_KEY)
    sources = [APP, *([IMPORTED] if imported else []), UPLOAD]
    with column:
        st.markdown(f"**Liste {side}**")
        source = st.radio("Source", sources, key=f"cmp_src_{side}")
        if source == UPLOAD:
            upload = st.file_uploader(
                "CSV au schéma de data/centres.csv", type=["csv"], key=f"cmp_file_{side}"
            )
            if upload is None:
                return None, ""
            try:
                frame = uploaded_registry(upload.getvalue())
            except RegistryError as exc:
                st.error(escape_markdown(str(exc)), icon="⚠️")
                with st.expander("Tous les problèmes"):
                    for problem in exc.problems[:50]:
                        st.markdown(f"- {escape_markdown(problem)}")
                return None, ""
            except GeoError as exc:
                st.error(escape_markdown(str(exc)), icon="⚠️")
                return None, ""
            name = upload.name
        elif source == IMPORTED:
            frame, name = imported["centres"], str(imported["name"])
        else:
            frame, name = app_registry(str(path), path.stat().st_mtime if path.exists() else 0)
        rounds = sorted(frame["vintage"].unique(), reverse=True)
        default = [default_vintage] if default_vintage in rounds else []
        chosen = st.multiselect(
            "Millésimes retenus (vide : tous)",
            rounds,
            default=default,
            key=f"cmp_vintage_{side}_{source}",
        )
        if chosen:
            frame = frame[frame["vintage"].isin(chosen)]
            name = f"{name} ({', '.join(chosen)})"
        st.caption(f"{len(frame)} sites.")
    return frame, name


territories = load_territories()

st.title("Comparer deux listes")
st.caption(
    "Deux labellisations côte à côte : sites ajoutés, retirés ou dont le label change. Un site "
    "est reconnu d'une liste à l'autre par son établissement, sa commune et son réseau (sans "
    "tenir compte des majuscules, des accents ni des espaces) ; quand plusieurs sites "
    "pourraient correspondre, ils sont listés à part, sans choix arbitraire."
)

ca, cb = st.columns(2)
a, name_a = choose("A", ca, "2017-2022")
b, name_b = choose("B", cb, "2023-2028")
if a is None or b is None:
    st.info("Choisissez les deux listes à comparer (et téléversez le fichier s'il y a lieu).")
    st.stop()
if a.empty or b.empty:
    st.warning("Une des deux listes est vide avec ces millésimes : élargissez le choix.")
    st.stop()

comparison = compare_registries(a, b, name_a, name_b)
counts = comparison.counts()
m = st.columns(5)
for col, status in zip(
    m, ("added", "removed", "relabelled", "unchanged", "ambiguous"), strict=True
):
    col.metric(STATUS_FR[status].capitalize(), counts[status])

# ------------------------------------------------------------------ map
left, right = st.columns([3, 1])
with right:
    view = st.radio("Territoire", list(VIEWS), key="cmp_view")
    hide_same = st.toggle("Masquer les sites inchangés", key="cmp_hide_same")
points = comparison_points(comparison)
if hide_same:
    points = points[points["fill"] != "#BBBBBB"].reset_index(drop=True)
deps_display = display_departements(0.01)
center, zoom = view_center(view, deps_display)
legend = status_legend(comparison)


def comparison_map():
    fmap = base_map(deps_display, center=center, zoom=zoom)
    points_layer(points, "Sites comparés").add_to(fmap)
    legend_control(legend, f"A : {name_a} / B : {name_b}").add_to(fmap)
    return fmap


with left:
    base = base_map(deps_display)
    legend_control(legend, "Comparaison").add_to(base)
    st_folium(
        base,
        key="carte_comparaison",
        center=center,
        zoom=zoom,
        feature_group_to_add=[points_layer(points, "Sites comparés")],
        returned_objects=[],
        height=540,
        use_container_width=True,
    )
with right:
    st.caption(
        f"A : {escape_markdown(name_a)}. B : {escape_markdown(name_b)}. Vert : ajouté ; "
        "vermillon pointillé : retiré ; bleu : label changé ; violet : ambigu ; gris (petit) : "
        "inchangé."
    )

# ------------------------------------------------------------------ tables
st.subheader("Par région et par filière")
by_rf = comparison.by_region_filiere(territories.regions).drop(columns=["reg"])
by_rf = by_rf.rename(
    columns={
        "region": "Région",
        "filiere": "Filière",
        "total": "Total",
        **{s: STATUS_FR[s].capitalize() for s in STATUS_FR},
    }
)
st.dataframe(by_rf, hide_index=True, width="stretch")


def label_fr(x) -> str:
    return LABEL_STYLES[x].name if x in LABEL_STYLES else (x or "")


changes = comparison.sites[comparison.sites["status"] != "unchanged"]
detail = pd.DataFrame(
    {
        "Statut": changes["status"].map(STATUS_FR),
        "Établissement": changes["establishment"],
        "Commune": changes["commune"],
        "Réseau": changes["crmr_name"],
        "Filière": changes["filiere"],
        "Label (A)": changes["label_a"].map(label_fr),
        "Label (B)": changes["label_b"].map(label_fr),
        "Identifiant (A)": changes["id_a"],
        "Identifiant (B)": changes["id_b"],
    }
)
st.subheader("Sites ajoutés, retirés ou relabellisés")
st.dataframe(detail, hide_index=True, width="stretch")

ambiguous = pd.DataFrame(
    {
        "Groupe": comparison.ambiguous["group"],
        "Liste": comparison.ambiguous["side"],
        "Établissement": comparison.ambiguous["establishment"],
        "Commune": comparison.ambiguous["commune"],
        "Réseau": comparison.ambiguous["crmr_name"],
        "Label": comparison.ambiguous["label"].map(label_fr),
        "Service": comparison.ambiguous["service"],
        "Identifiant": comparison.ambiguous["id"],
    }
)
if len(ambiguous):
    st.subheader("Appariements ambigus")
    st.caption(
        "Même établissement, même commune et même réseau, mais plusieurs sites possibles d'un "
        "côté ou de l'autre : à vérifier à la main."
    )
    st.dataframe(ambiguous, hide_index=True, width="stretch")

# ------------------------------------------------------------------ coverage
st.subheader("Couverture : part de la population éloignée d'un site")
c1, c2, c3 = st.columns([2, 2, 1])
present = [f for f in FILIERES if f in set(a["filiere"]) | set(b["filiere"])]
filieres = c1.multiselect(
    "Filières (vide : toutes)", present, key="cmp_filieres", placeholder="Toutes les filières"
)
preset = c2.selectbox("Sites qui comptent", list(LABEL_PRESETS), key="cmp_labels")
corsica = c3.checkbox("Corse à part", key="cmp_corsica")
selection = Selection(filieres=tuple(filieres), labels=LABEL_PRESETS[preset])
cov = coverage(registry_key(a), registry_key(b), a, b, selection, corsica)
st.caption(
    f"Sites retenus : {len(selection.sites(a))} dans A, {len(selection.sites(b))} dans B. "
    "Distances à vol d'oiseau depuis le point représentatif de chaque commune ; un résident "
    "d'outre-mer n'est couvert que par un site de son territoire."
)
cov_fr = cov.rename(
    columns={
        "threshold_km": "Seuil (km)",
        "population_beyond_a": "Habitants au-delà (A)",
        "share_beyond_a": "Part au-delà (A, %)",
        "population_beyond_b": "Habitants au-delà (B)",
        "share_beyond_b": "Part au-delà (B, %)",
        "change_points": "Écart (points)",
    }
)
st.dataframe(cov_fr, hide_index=True, width="stretch")

# ------------------------------------------------------------------ downloads
stem = file_stem("comparaison")
st.markdown("**Télécharger**")
d1, d2, d3 = st.columns(3)
d1.download_button(
    "Changements (CSV)", to_csv_bytes(detail), f"{stem}.csv", "text/csv", key="cmp_dl_csv"
)
d2.download_button(
    "Tous les tableaux (XLSX)",
    lambda: to_xlsx_bytes(
        {
            "Par région et filière": by_rf,
            "Changements": detail,
            "Ambigus": ambiguous,
            "Couverture": cov_fr,
        }
    ),
    f"{stem}.xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    key="cmp_dl_xlsx",
    on_click="ignore",
)
d3.download_button(
    "Carte (HTML hors ligne)",
    lambda: standalone_html(
        comparison_map(), "Comparaison de deux listes", f"A : {name_a} — B : {name_b}"
    ),
    f"{stem}.html",
    "text/html",
    key="cmp_dl_html",
    on_click="ignore",
)
