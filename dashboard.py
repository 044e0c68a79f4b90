"""Entry point: page config, navigation and the shared sidebar (language, filters, provenance).

``PUBLIC=1`` (public mode) registers only "Où me soigner ?" (the home page) and the
national map: the import page and the committee tools are not registered at all, so
their URLs lead nowhere.
"""

import os

import streamlit as st

from geo.errors import GeoError
from ui.data import active_registry, load_territories
from ui.i18n import LANG_SWITCH_LABEL, LANGS, t
from ui.sidebar import filters_sidebar, provenance_sidebar

PUBLIC = os.environ.get("PUBLIC", "").strip() == "1"

st.set_page_config(
    page_title=t("app.page_title"),
    layout="wide",
    menu_items={"About": t("app.about")},
)

NEAREST = "app_pages/ou_me_soigner.py"
if PUBLIC:
    MAP_PAGE = st.Page("app_pages/carte.py", title=t("nav.map"))
    pages = st.navigation(
        [
            st.Page(NEAREST, title=t("nav.nearest"), default=True),
            MAP_PAGE,
            # links shared from the full dashboard (/ou-me-soigner?commune=…) keep working
            st.Page(NEAREST, title=t("nav.nearest"), url_path="ou-me-soigner", visibility="hidden"),
        ]
    )
else:
    MAP_PAGE = st.Page("app_pages/carte.py", title=t("nav.map"), default=True)
    pages = st.navigation(
        [
            MAP_PAGE,
            st.Page(NEAREST, title=t("nav.nearest"), url_path="ou-me-soigner"),
            st.Page("app_pages/lacunes.py", title=t("nav.gaps")),
            st.Page("app_pages/import.py", title=t("nav.import"), url_path="importer"),
            st.Page("app_pages/reseau.py", title=t("nav.network"), url_path="reseau"),
            st.Page("app_pages/scenarios.py", title=t("nav.scenarios"), url_path="scenarios"),
            st.Page("app_pages/comparaison.py", title=t("nav.compare"), url_path="comparaison"),
            st.Page("app_pages/sources.py", title=t("nav.sources")),
        ]
    )

st.sidebar.radio(
    LANG_SWITCH_LABEL,
    list(LANGS),
    format_func=LANGS.get,
    key="lang",
    horizontal=True,
    help=t("lang.help"),
    bind="query-params",
)

try:
    territories = load_territories()
    active = active_registry()
except GeoError as exc:
    st.error(t("app.load_error", error=exc))
    st.stop()

if active.problem:
    st.error(active.problem)
    if active.details:
        with st.expander(t("app.problem_details")):
            st.markdown("\n".join(f"- {p}" for p in active.details))

if pages.url_path == MAP_PAGE.url_path:  # the other pages have their own selection
    st.session_state["filters"] = filters_sidebar(active.centres, territories.regions)
provenance_sidebar(active)
pages.run()
