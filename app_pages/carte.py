"""Carte nationale: every loaded site over the départements, with filters and a table."""

import streamlit as st
from streamlit_folium import st_folium

from geo.coverage import sites_per_departement
from geo.export import table_for_export, to_csv_bytes
from geo.maps import (
    LABEL_STYLES,
    VIEWS,
    base_map,
    density_layer,
    density_legend,
    sites_layer,
    view_center,
)
from ui.data import active_registry, display_departements, load_territories, tiles_setting
from ui.sidebar import Filters

territories = load_territories()
centres = active_registry().centres
filters: Filters = st.session_state.get("filters", Filters())
shown = filters.apply(centres)

st.title("Centres maladies rares en France")
st.caption(
    "Sites des centres de référence (CRMR), de compétence (CCMR), de ressources et de "
    "compétences (CRC), centres collaborateurs et plateformes d'expertise (PEMR), d'après "
    "une compilation publique partielle. Chaque site est placé au centre de sa commune."
)

cols = st.columns(4)
cols[0].metric("Sites affichés", f"{len(shown)}", help=f"sur {len(centres)} sites chargés")
cols[1].metric("Réseaux", shown.loc[shown["label"] != "pemr", "crmr_name"].nunique())
cols[2].metric("Départements avec un site", shown["dep"].nunique())
cols[3].metric("Communes", shown["commune_code"].nunique())

left, right = st.columns([3, 1])
with right:
    view = st.radio("Territoire", list(VIEWS), key="map_view", horizontal=False)
    show_density = st.toggle(
        "Densité par département",
        key="map_density",
        help="Sites (du filtre courant) par million d'habitants.",
    )
    tiles_url, tiles_attr = tiles_setting()
    use_tiles = bool(tiles_url) and st.toggle("Fond de carte", key="map_tiles", value=False)

departements_display = display_departements(0.01)
center, zoom = view_center(view, departements_display)
base = base_map(
    departements_display,
    tiles_url=tiles_url if use_tiles else None,
    tiles_attribution=tiles_attr,
)
layers = []
if show_density:
    density = sites_per_departement(shown, territories.departements)
    layers.append(density_layer(display_departements(0.02), density, name="Densité"))
if len(shown):
    layers.append(sites_layer(shown))

with left:
    if shown.empty:
        st.info("Aucun site ne correspond aux filtres : élargissez la sélection dans le panneau.")
    st_folium(
        base,
        key="carte_nationale",
        center=center,
        zoom=zoom,
        feature_group_to_add=layers,
        returned_objects=[],
        height=620,
        use_container_width=True,
    )
with right:
    if show_density:
        st.markdown("**Densité (sites par million d'habitants)**")
        for colour, text in density_legend():
            st.markdown(
                f'<span style="display:inline-block;width:14px;height:14px;background:{colour};'
                f'border:1px solid #444;vertical-align:middle"></span> {text}',
                unsafe_allow_html=True,
            )
    st.markdown("**Légende des sites**")
    counts = shown["label"].value_counts()
    for label, style in LABEL_STYLES.items():
        st.markdown(f"- {style.name} : {int(counts.get(label, 0))}")

st.subheader("Tableau des sites affichés")
table = table_for_export(shown)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={
        "source_url": st.column_config.LinkColumn("Source"),
        "label": st.column_config.TextColumn("Label"),
        "crmr_name": st.column_config.TextColumn("Réseau"),
        "establishment": st.column_config.TextColumn("Établissement"),
    },
)
st.download_button(
    "Télécharger le tableau (CSV)",
    to_csv_bytes(table),
    file_name="sites-maladies-rares.csv",
    mime="text/csv",
)
