"""Zones sans couverture: where people live far from any site of a disease group."""

import streamlit as st
from streamlit_folium import st_folium

from geo.centres import FILIERES
from geo.completeness import OFFICIAL_SOURCE
from geo.coverage import Selection, compute_gaps, filiere_matrix
from geo.export import to_csv_bytes
from geo.maps import (
    VIEWS,
    base_map,
    distance_classes,
    distance_legend,
    distance_palette,
    image_layer,
    sites_layer,
    uncovered_layer,
    view_center,
)
from ui.data import (
    active_registry,
    commune_grid,
    complete_networks,
    completeness_tables,
    display_departements,
    display_regions,
    distance_table,
    load_territories,
    registry_key,
    selection_completeness,
)
from ui.selection import selection_widgets

territories = load_territories()
centres = active_registry().centres

st.title("Zones sans couverture")
st.caption(
    "Pour une filière, un groupe de maladies ou un réseau : les territoires sans site et la "
    "population éloignée du site le plus proche. Distances à vol d'oiseau (grand cercle) depuis "
    "le point représentatif de chaque commune ; les résidents d'outre-mer ne sont couverts que "
    "par des sites de leur territoire."
)

selection = selection_widgets(centres)
if selection is None:
    st.info("Choisissez au moins une filière (ou un groupe qui en contient une).")
    st.stop()

key = registry_key(centres)
completeness = selection_completeness(key, centres, selection)
if completeness["complete"]:
    st.success(completeness["message"])
else:
    st.warning(completeness["message"])
only_complete = st.checkbox(
    "Restreindre aux réseaux complets dans les données (labellisation 2017–2022)",
    key="gaps_complete_only",
    help="Ne garde que les réseaux dont tous les sites officiels 2017–2022 sont chargés.",
)
if only_complete:
    keep = complete_networks(key, centres, selection.labels)
    centres = centres[centres["crmr_name"].isin(keep)]
    st.caption(f"{len(keep)} réseau(x) complet(s) : " + ", ".join(keep))

c1, c2, c3 = st.columns(3)
threshold = c1.select_slider("Seuil de distance (km)", [25, 50, 75, 100, 150, 200], value=100)
level = c2.radio(
    "Niveau",
    ["departement", "region"],
    horizontal=True,
    format_func=lambda v: {"departement": "Départements", "region": "Régions"}[v],
)
corsica_separate = st.session_state.get("sel_corsica", False)
thresholds = tuple(sorted({50.0, 100.0, 200.0, float(threshold)}))

registry = active_registry().centres  # the table covers the whole registry
table = distance_table(key, corsica_separate, registry)
level_frame = territories.departements if level == "departement" else territories.regions
gaps = compute_gaps(
    territories.communes,
    level_frame,
    centres,
    selection,
    level,
    thresholds,
    table=table,
    corsica_separate=corsica_separate,
)
nat = gaps.national
t_key = f"{threshold:g}"

if gaps.sites.empty:
    st.warning(
        f"Aucun site chargé pour {selection.describe()} avec ces labels et ce millésime : "
        "toute la population est sans site. Élargissez la sélection."
    )

share = nat["share_beyond_km"][t_key]
st.markdown(
    f"### {share * 100:.1f} % de la population à plus de {threshold} km d'un site "
    f"({selection.describe()})".replace(".", ",", 1)
)
m1, m2, m3, m4 = st.columns(4)
m1.metric("Sites de la sélection", nat["sites"])
m2.metric(
    f"Habitants à plus de {threshold} km",
    f"{nat['population_beyond_km'][t_key]:,}".replace(",", "\u202f"),
)
m3.metric(
    "Distance médiane",
    "—" if nat["median_km"] is None else f"{nat['median_km']:.0f} km",
    help="Pondérée par la population ; « — » si plus de la moitié n'a aucun site.",
)
m4.metric(
    "Territoires sans site",
    f"{nat['territories_without_site']} / {len(gaps.territories)}",
)
st.caption(
    "Chiffres calculés sur une compilation publique partielle : un territoire « sans site » "
    "peut avoir un centre absent des données. 90 % de la population vit à moins de "
    + ("—" if nat["p90_km"] is None else f"{nat['p90_km']:.0f} km")
    + " d'un site de la sélection."
)

# ------------------------------------------------------------------ map
left, right = st.columns([3, 1])
with right:
    view = st.radio("Territoire", list(VIEWS), key="gaps_view")
    layer = st.radio(
        "Couche",
        ["Distance au site le plus proche (communes)", "Territoires sans site"],
        key="gaps_layer",
    )
    show_sites = st.toggle("Afficher les sites", value=True, key="gaps_sites")

deps_display = display_departements(0.01)
center, zoom = view_center(view, deps_display)
layers = []
if layer.startswith("Distance"):
    grid, rows = commune_grid(view)
    classes = distance_classes(gaps.commune_km)
    png = grid.render_png(classes[territories.communes.index.get_indexer(rows)], distance_palette())
    layers.append(image_layer(png, grid.leaflet_bounds, "Distance"))
else:
    shapes = deps_display if level == "departement" else display_regions(0.01)
    layers.append(uncovered_layer(shapes, gaps.territories, "Sans site"))
if show_sites and len(gaps.sites):
    layers.append(sites_layer(gaps.sites))

with left:
    st_folium(
        base_map(deps_display),
        key="carte_lacunes",
        center=center,
        zoom=zoom,
        feature_group_to_add=layers,
        returned_objects=[],
        height=560,
        use_container_width=True,
    )
with right:
    st.markdown("**Légende**")
    if layer.startswith("Distance"):
        legend = distance_legend()
    else:
        legend = [("#D55E00", "aucun site de la sélection"), ("#f0f0f0", "au moins un site")]
    for colour, text in legend:
        st.markdown(
            f'<span style="display:inline-block;width:14px;height:14px;background:{colour};'
            f'border:1px solid #444;vertical-align:middle"></span> {text}',
            unsafe_allow_html=True,
        )

# ------------------------------------------------------------------ tables
st.subheader("Territoires les moins bien desservis")
ranking = gaps.table().sort_values(f"beyond_{t_key}", ascending=False)
ranking = ranking.rename(
    columns={
        "code": "Code",
        "name": "Nom",
        "population": "Population",
        "sites": "Sites",
        "covered": "Au moins un site",
        "median_km": "Distance médiane (km)",
        "p90_km": "90e centile (km)",
        "accessibility": "Accessibilité (E2SFCA, /M hab.)",
        **{f"beyond_{t:g}": f"Habitants à plus de {t:g} km" for t in thresholds},
    }
)
st.dataframe(ranking, hide_index=True, width="stretch")
st.download_button(
    "Télécharger le tableau (CSV)",
    to_csv_bytes(ranking),
    file_name=f"lacunes-{level}.csv",
    mime="text/csv",
)

communes_km = territories.communes[["code", "name", "dep", "population"]].assign(
    distance_km=gaps.commune_km.round(1),
    accessibilite=gaps.commune_accessibility.round(4),
)
st.download_button(
    "Télécharger la distance de chaque commune (CSV)",
    lambda: to_csv_bytes(communes_km),  # built on click: 35,000 rows
    file_name="distances-communes.csv",
    mime="text/csv",
)

st.subheader("Filières × régions : sites par région (0 = aucun site)")
matrix_sites = Selection(labels=selection.labels, vintages=selection.vintages).sites(centres)
matrix = filiere_matrix(matrix_sites, territories.regions, "reg", [f for f in FILIERES if f != ""])
matrix.index = matrix.index.map(
    dict(zip(territories.regions["code"], territories.regions["name"], strict=True))
)
st.dataframe(
    matrix.style.map(lambda v: "background-color:#D55E00;color:#fff" if v == 0 else ""),
    width="stretch",
)
st.caption(
    f"{int((matrix == 0).sum().sum())} couples région × filière sans aucun site "
    "(mêmes labels et millésime que la sélection)."
)
st.download_button(
    "Télécharger la matrice (CSV)",
    to_csv_bytes(matrix.reset_index(names="région")),
    file_name="matrice-filieres-regions.csv",
    mime="text/csv",
)
st.caption(
    "Accessibilité E2SFCA : l'offre de chaque site (1 par site) est partagée entre les "
    "habitants de sa zone d'attraction (100 km), pondérés par la distance (1 jusqu'à 30 km, "
    "0,68 jusqu'à 60 km, 0,22 jusqu'à 100 km) ; le score d'une commune somme ces parts. "
    "Exprimé en sites pour un million d'habitants."
)

with st.expander("Complétude des données par réseau et par filière (référence : 2017–2022)"):
    st.caption(OFFICIAL_SOURCE)
    per_filiere, per_network = completeness_tables(key, registry, selection.labels)
    st.dataframe(per_filiere, hide_index=True, width="stretch")
    st.dataframe(per_network, hide_index=True, width="stretch")
    st.download_button(
        "Télécharger la complétude par réseau (CSV)",
        to_csv_bytes(per_network),
        file_name="completude-reseaux.csv",
        mime="text/csv",
    )
