"""Entry point: page config, navigation and the shared sidebar (filters, provenance)."""

import streamlit as st

from geo.errors import GeoError
from ui.data import active_registry, load_territories
from ui.sidebar import filters_sidebar, provenance_sidebar

st.set_page_config(
    page_title="Carte des maladies rares en France",
    layout="wide",
    menu_items={"About": "Carte de référence des centres maladies rares (données publiques)."},
)

MAP_PAGE = st.Page("app_pages/carte.py", title="Carte nationale", default=True)
pages = st.navigation(
    [
        MAP_PAGE,
        st.Page("app_pages/lacunes.py", title="Zones sans couverture"),
        st.Page("app_pages/import.py", title="Importer une liste", url_path="importer"),
        st.Page("app_pages/reseau.py", title="Maillage d'un réseau", url_path="reseau"),
        st.Page("app_pages/scenarios.py", title="Scénarios", url_path="scenarios"),
        st.Page("app_pages/comparaison.py", title="Comparer deux listes", url_path="comparaison"),
        st.Page("app_pages/sources.py", title="Sources et méthode"),
    ]
)

try:
    territories = load_territories()
    active = active_registry()
except GeoError as exc:
    st.error(f"Les données n'ont pas pu être chargées : {exc}")
    st.stop()

if active.problem:
    st.error(active.problem)
    if active.details:
        with st.expander("Détail des problèmes"):
            st.markdown("\n".join(f"- {p}" for p in active.details))

if pages.url_path == MAP_PAGE.url_path:  # the other pages have their own selection
    st.session_state["filters"] = filters_sidebar(active.centres, territories.regions)
provenance_sidebar(active)
pages.run()
