"""Maillage d'un réseau: sites, links to the coordinating site, catchments and per-site figures.

Thin page over :mod:`geo.network` (figures) and :mod:`geo.exports` (downloads).
"""

import streamlit as st
from streamlit_folium import st_folium

from geo.centres import FILIERES
from geo.export import to_csv_bytes
from geo.exports import (
    file_stem,
    map_image,
    render_map_png,
    standalone_html,
    summary_pdf,
    to_xlsx_bytes,
)
from geo.maps import LABEL_STYLES, VIEWS, base_map, image_layer, view_center
from geo.network import (
    NO_COORDINATOR,
    build_maillage,
    label_legend_items,
    links_layer,
    site_points,
    sites_points_layer,
    table_fr,
)
from ui.data import (
    active_registry,
    commune_grid,
    display_departements,
    load_territories,
    registry_key,
)

ALL_VINTAGES = "Tous les millésimes chargés"
MODES = ("Réseau CRMR", "Filière")


@st.cache_data(show_spinner="Calcul des zones d'attraction…", max_entries=32)
def maillage(key: str, _centres, network, filiere, vintages: tuple, corsica: bool):
    """:func:`geo.network.build_maillage`, cached per registry and choice."""
    del key  # cache key of the registry
    return build_maillage(
        load_territories().communes, _centres, network, filiere, vintages, corsica
    )


def number(n) -> str:
    """An integer with a narrow no-break space between thousands (French style)."""
    return f"{int(n):,}".replace(",", "\u202f")


territories = load_territories()
centres = active_registry().centres

st.title("Maillage d'un réseau")
st.caption(
    "Pour un réseau CRMR ou une filière : le site coordonnateur, les sites constitutifs et "
    "les centres de compétence, le lien de chaque site vers son coordonnateur, et la zone "
    "d'attraction de chaque site (les communes dont c'est le site le plus proche du réseau, "
    "à vol d'oiseau ; un résident d'outre-mer n'est rattaché qu'à un site de son territoire)."
)

c1, c2, c3, c4 = st.columns([1.3, 3, 1.4, 0.9])
mode = c1.radio("Choisir", MODES, key="net_mode")
pool = centres[centres["label"] != "pemr"]
if mode == MODES[0]:
    names = sorted(pool["crmr_name"].unique())
    if not names:
        st.info("Aucun réseau dans les données chargées.")
        st.stop()
    # default: the largest network that has a coordinating site (else the largest)
    sizes = pool.groupby("crmr_name").agg(
        n=("id", "size"), coord=("label", lambda s: (s == "crmr_coordonnateur").any())
    )
    best = sizes.sort_values(["coord", "n"], ascending=False).index[0]
    network = c2.selectbox("Réseau CRMR", names, index=names.index(best), key="net_network")
    filiere = None
else:
    present = [f for f in FILIERES if f in set(pool["filiere"])]
    network, filiere = None, c2.selectbox("Filière", present, key="net_filiere")
vintage = c3.selectbox(
    "Millésime", [ALL_VINTAGES, *sorted(pool["vintage"].unique(), reverse=True)], key="net_vintage"
)
corsica = c4.checkbox(
    "Corse à part", key="net_corsica", help="La Corse n'est rattachée qu'à des sites corses."
)
vintages = () if vintage == ALL_VINTAGES else (vintage,)

try:
    m = maillage(registry_key(centres), centres, network, filiere, vintages, corsica)
except ValueError:
    st.info(
        "Aucun site pour ce choix avec ce millésime. Choisissez « Tous les millésimes chargés » "
        "ou un autre réseau."
    )
    st.stop()

what = f"réseau {network}" if network else f"filière {filiere}"
coordinators = int((m.sites["label"] == "crmr_coordonnateur").sum())
k1, k2, k3, k4 = st.columns(4)
k1.metric("Sites", len(m.sites))
k2.metric("Sites coordonnateurs", coordinators)
k3.metric("Liens vers un coordonnateur", len(m.links))
k4.metric(
    "Habitants sans site dans leur territoire",
    number(m.population_without_site),
    help="Résidents d'un territoire (DROM, ou Corse si « Corse à part ») sans site de ce choix.",
)
if network and not m.has_coordinator:
    st.warning(NO_COORDINATOR, icon="ℹ️")
elif m.without_coordinator:
    with st.expander(
        f"{len(m.without_coordinator)} réseau(x) sans site coordonnateur dans les données "
        "(pas de lien tracé)"
    ):
        st.dataframe({"Réseau": m.without_coordinator}, hide_index=True, width="stretch")
st.caption(
    "Compilation publique partielle : des sites peuvent manquer, et le rôle de nombreux sites "
    "de référence n'est pas précisé. Les sites placés au même point (plusieurs hôpitaux d'une "
    "ville au point de la mairie) partagent une zone d'attraction : leurs chiffres sont ceux de "
    "la zone commune, à ne pas additionner."
)

# ------------------------------------------------------------------ map
left, right = st.columns([3, 1])
with right:
    view = st.radio("Territoire", list(VIEWS), key="net_view")
    show_zones = st.toggle("Zones d'attraction", value=True, key="net_zones")
    show_links = st.toggle("Liens vers le coordonnateur", value=True, key="net_links")

deps_display = display_departements(0.01)
center, zoom = view_center(view, deps_display)
grid, rows = commune_grid(view)
classes = m.commune_classes()[territories.communes.index.get_indexer(rows)]


def layers() -> list:
    """The page's map layers (new objects at each call: one set per map)."""
    out = []
    if show_zones:
        png = grid.render_png(classes, m.palette())
        out.append(image_layer(png, grid.leaflet_bounds, "Zones d'attraction", opacity=0.65))
    if show_links and len(m.links):
        out.append(links_layer(m))
    out.append(sites_points_layer(m))
    return out


with left:
    st_folium(
        base_map(deps_display),
        key="carte_reseau",
        center=center,
        zoom=zoom,
        feature_group_to_add=layers(),
        returned_objects=[],
        height=560,
        use_container_width=True,
    )
with right:
    st.markdown("**Légende**")
    st.caption(
        "Couleur de zone : une par site (ou groupe de sites au même point), voir la colonne "
        "« Couleur » du tableau. Trait plein : site de référence → coordonnateur ; "
        "pointillé : centre de compétence → coordonnateur."
    )

# ------------------------------------------------------------------ table
st.subheader("Chiffres par site")
shown = table_fr(m.table.drop(columns=["id"]))
st.dataframe(
    shown.style.map(lambda v: f"background-color:{v};color:{v}", subset=["Couleur"]),
    hide_index=True,
    width="stretch",
)
st.caption(
    "Population desservie : habitants des communes dont ce site est le plus proche du réseau "
    "(même territoire). Distance : à vol d'oiseau, en km, depuis le point représentatif de la "
    "commune."
)

# ------------------------------------------------------------------ downloads
stem = file_stem("maillage", network or filiere or "", vintage if vintages else "")
title = f"Maillage — {what}" + (f" ({vintage})" if vintages else "")
zone_items = list(
    dict.fromkeys(
        (c, f"Zone : {name}") for c, name in zip(m.table["colour"], m.table["commune"], strict=True)
    )
)
legend = [*zone_items[:14], *label_legend_items(m.sites["label"])]
figures = [
    ("Sites", str(len(m.sites))),
    ("Sites coordonnateurs", str(coordinators)),
    ("Liens vers un coordonnateur", str(len(m.links))),
    ("Habitants sans site dans leur territoire", number(m.population_without_site)),
]
top = m.table.drop_duplicates("colour").nlargest(5, "population")
for r in top.itertuples(index=False):
    figures.append(
        (
            f"Zone de {r.commune}",
            f"{number(r.population)} hab., commune la plus éloignée {r.farthest_name} "
            f"à {r.farthest_km:.0f} km",
        )
    )
notes = [NO_COORDINATOR] if network and not m.has_coordinator else []
points = site_points(m.sites)
links = m.links


def export_html() -> str:
    fmap = base_map(deps_display, center=center, zoom=zoom)
    for layer in layers():
        layer.add_to(fmap)
    return standalone_html(fmap, title, f"{title} — zones d'attraction, liens, sites")


def export_png() -> bytes:
    image = map_image(
        grid,
        classes,
        m.palette(),
        points,
        links if show_links else None,
        outlines=deps_display.geometry,
    )
    return render_map_png(image, title, legend, subtitle=f"Territoire : {view}")


def export_pdf() -> bytes:
    image = map_image(
        grid,
        classes,
        m.palette(),
        points,
        links if show_links else None,
        outlines=deps_display.geometry,
    )
    return summary_pdf(title, image, figures, notes, legend)


st.markdown("**Télécharger**")
d1, d2, d3, d4, d5 = st.columns(5)
d1.download_button(
    "Tableau (CSV)", to_csv_bytes(shown), f"{stem}.csv", "text/csv", key="net_dl_csv"
)
d2.download_button(
    "Tableau (XLSX)",
    lambda: to_xlsx_bytes({"Sites": shown}),
    f"{stem}.xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    key="net_dl_xlsx",
    on_click="ignore",
)
d3.download_button(
    "Carte (HTML hors ligne)",
    export_html,
    f"{stem}.html",
    "text/html",
    key="net_dl_html",
    on_click="ignore",
)
d4.download_button(
    "Carte (PNG)", export_png, f"{stem}.png", "image/png", key="net_dl_png", on_click="ignore"
)
d5.download_button(
    "Synthèse (PDF)",
    export_pdf,
    f"{stem}.pdf",
    "application/pdf",
    key="net_dl_pdf",
    on_click="ignore",
)
st.caption(
    "La carte HTML s'ouvre sans connexion (bibliothèques incluses dans le fichier). "
    f"Labels : {', '.join(LABEL_STYLES[x].name for x in dict.fromkeys(m.sites['label']))}."
)
