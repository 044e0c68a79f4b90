"""Où me soigner ? — the public page: the nearest rare-disease centres from a commune.

Thin page over :mod:`geo.nearest` (commune search, nearest sites, map) and
:mod:`geo.keywords`; every interface string comes from :mod:`ui.i18n` (French by
default, English when ``st.session_state["lang"] == "en"``).

The selection lives in the URL query parameters, so a link reproduces the answer:
``commune`` (INSEE code), ``mode`` (``keyword``, ``group`` or ``filiere``), ``value``
(the keyword, group number or filière), ``n`` (sites per level) and ``vintage`` (only
when one round is chosen). The page reads the URL once, on its first run in a browser
session (opening a link starts a new session), and writes it back after each run; it
never touches other parameters (``lang``, bound to the sidebar's language switch). It
depends on nothing but the URL, its own widgets (keys ``oms_*``) and the language, so it
works the same in the full dashboard and in public mode.

Data texts reach the screen escaped: :func:`ui.i18n.md` before any Markdown element
(``st.markdown``, ``st.table`` cells, alerts), :func:`html.escape` inside the map
(:func:`geo.nearest.nearest_layers`, texts passed as GeoJSON data). The only raw HTML
is the static print stylesheet.
"""

from urllib.parse import urlencode

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.centres import FILIERES
from geo.export import to_csv_bytes
from geo.groups import group_names, load_groups
from geo.keywords import PREFIX, keyword_summary, load_keywords
from geo.maps import offline_map
from geo.nearest import (
    DEFAULT_N,
    MAX_N,
    MODES,
    CommuneSearch,
    NearestResult,
    NoPosition,
    Origin,
    find_filiere,
    format_km,
    nearest_layers,
    nearest_sites,
    nearest_view,
    query_filieres,
)
from geo.territories import load_commune_names
from ui.data import active_registry, load_territories
from ui.i18n import current_lang, md, t

#: Query parameters this page owns (it never touches the others, e.g. ``lang``).
QP_KEYS = ("commune", "mode", "value", "n", "vintage")
SEARCH_LIMIT = 20
ALL_ROUNDS = "all"
#: Print layout: no sidebar, header, toolbar, map iframe or buttons on paper. Static CSS only.
PRINT_CSS = """<style>
@media print {
  [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
  [data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
  [data-testid="stDownloadButton"], [data-testid="stExpander"], header, iframe {
    display: none !important;
  }
  [data-testid="stMain"], [data-testid="stMainBlockContainer"] {
    margin: 0 !important; padding: 0 !important; max-width: 100% !important;
  }
}
</style>"""


@st.cache_resource(show_spinner=False)
def commune_search() -> CommuneSearch:
    """The commune name/postal-code index (shared, read-only; under a second to build)."""
    return CommuneSearch(load_commune_names(), load_territories().communes)


def base_map():
    """The constant base of the result map (an empty offline Leaflet map): results are
    layers, so a new answer updates the map instead of reloading it."""
    return offline_map()


@st.cache_data(show_spinner=False)
def keyword_table() -> pd.DataFrame:
    return load_keywords()


@st.cache_data(show_spinner=False)
def groups_table() -> pd.DataFrame:
    return load_groups()


lang = current_lang()
decimal = "," if lang == "fr" else "."
territories = load_territories()
centres = active_registry().centres
with st.spinner(t("oms.loading")):
    search = commune_search()
keywords = keyword_table()
groups = groups_table()
group_ids = list(group_names(groups))
rounds = sorted(centres["vintage"].unique(), reverse=True)


# ------------------------------------------------------------------ URL → widgets


def _apply_url(params: dict[str, str]) -> None:
    """Seed the widgets from a shared link (invalid values are ignored)."""
    if "commune" in params:
        match = search.get(params["commune"])
        if match:
            st.session_state["oms_q"] = match.short
        else:
            st.session_state["oms_bad_code"] = params["commune"]
    mode = params.get("mode")
    value = params.get("value", "")
    if mode in MODES:
        st.session_state["oms_mode"] = mode
    if mode == "keyword":
        st.session_state["oms_kw"] = value
    elif mode == "group" and value.isdigit() and int(value) in group_ids:
        st.session_state["oms_group"] = int(value)
    elif mode == "filiere" and find_filiere(value):
        st.session_state["oms_filiere"] = find_filiere(value)
    n_text = params.get("n", "")
    if n_text.isdigit():
        st.session_state["oms_n"] = min(max(int(n_text), 1), MAX_N)
    if params.get("vintage") in rounds:
        st.session_state["oms_vintage"] = params["vintage"]


# Only once per session: a later run may carry a URL the browser has not updated yet
# (fast clicks), which must not undo the widgets' newer values.
if not st.session_state.get("oms_url_read"):
    _apply_url({k: st.query_params[k] for k in QP_KEYS if k in st.query_params})
    st.session_state["oms_url_read"] = True


def _pin_commune(code: str | None) -> None:
    """Callback: write the chosen commune back as ``Nom (dép.)`` (one match next run)."""
    match = search.get(code) if code else None
    if match:
        st.session_state["oms_q"] = match.short


def _set(key: str, value: str) -> None:
    st.session_state[key] = value


# ------------------------------------------------------------------ 1. commune

st.title(t("oms.title"))
st.markdown(t("oms.intro"))
st.header(t("oms.step_commune"))
bad_code = st.session_state.pop("oms_bad_code", None)
if bad_code:
    st.warning(t("oms.commune.bad_link", code=md(bad_code)))
text = st.text_input(
    t("oms.commune.label"),
    key="oms_q",
    placeholder=t("oms.commune.placeholder"),
    help=t("oms.commune.help"),
)
commune = None
if text.strip():
    matches = search.search(text, SEARCH_LIMIT)
    if not matches:
        st.warning(t("oms.commune.not_found", text=md(text)))
        close = search.suggest(text)
        if close:
            st.markdown(t("oms.commune.did_you_mean"))
            cols = st.columns(len(close))
            for i, (col, match) in enumerate(zip(cols, close, strict=True)):
                col.button(
                    match.short,
                    key=f"oms_commune_sugg_{i}",
                    on_click=_pin_commune,
                    args=(match.code,),
                )
    elif len(matches) == 1:
        commune = matches[0]
    else:
        by_code = {m.code: m for m in matches}
        picked = search.pick(text, matches)
        if st.session_state.get("oms_pick") not in by_code:
            st.session_state.pop("oms_pick", None)
        chosen = st.selectbox(
            t("oms.commune.pick"),
            list(by_code),
            index=list(by_code).index(picked.code) if picked else None,
            format_func=lambda c: by_code[c].label(t("oms.commune.former")),
            key="oms_pick",
            placeholder=t("oms.commune.pick_placeholder"),
            on_change=lambda: _pin_commune(st.session_state.get("oms_pick")),
        )
        if len(matches) >= SEARCH_LIMIT:
            st.caption(t("oms.commune.more", limit=SEARCH_LIMIT))
        commune = by_code.get(chosen)
    if commune:
        st.markdown(t("oms.commune.chosen", label=md(commune.label(t("oms.commune.former")))))

# ------------------------------------------------------------------ 2. what

st.header(t("oms.step_what"))
mode = st.radio(
    t("oms.mode.label"),
    MODES,
    format_func=lambda m: t(f"oms.mode.{m}"),
    key="oms_mode",
    horizontal=True,
)
query = None
value = ""
what = ""
if mode == "keyword":
    value = st.text_input(
        t("oms.keyword.label"),
        key="oms_kw",
        placeholder=t("oms.keyword.placeholder"),
        help=t("oms.keyword.help"),
    ).strip()
    if value:
        query = query_filieres("keyword", value, keywords=keywords, lang=lang)
        found = query.keyword
        what = f"« {value} »" if lang == "fr" else f"“{value}”"
        if found.found:
            if found.status == PREFIX:
                st.caption(t("oms.keyword.prefix", query=md(value), keyword=md(found.keywords[0])))
            st.markdown(
                t(
                    "oms.keyword.matched",
                    query=md(value),
                    filieres=", ".join(md(f) for f in found.filieres),
                )
            )
            notes = [
                "- " + t("oms.keyword.note", keyword=md(k), filiere=md(f), note=md(n))
                for k, f, n in found.notes
                if n
            ]
            if notes:
                st.markdown("\n".join(notes))
        else:
            st.warning(t("oms.keyword.none", query=md(value)))
            offers = found.suggestions
            st.markdown(t("oms.keyword.suggestions") if offers else t("oms.keyword.examples"))
            if not offers:
                offers = tuple(keyword_summary(keywords, lang)["keyword"].head(6))
            cols = st.columns(len(offers))
            for i, (col, word) in enumerate(zip(cols, offers, strict=True)):
                col.button(word, key=f"oms_kw_sugg_{i}", on_click=_set, args=("oms_kw", word))
    with st.expander(t("oms.keyword.table")):
        summary = keyword_summary(keywords, lang)
        st.table(
            pd.DataFrame(
                {
                    t("oms.keyword.col_keyword"): summary["keyword"].map(md),
                    t("oms.keyword.col_filieres"): summary["filieres"].map(md),
                    t("oms.keyword.col_note"): summary["note"].map(md),
                }
            ),
            hide_index=True,
            alt=t("oms.keyword.table"),
        )
elif mode == "group":
    group = st.selectbox(
        t("oms.group.label"),
        group_ids,
        format_func=lambda g: f"{g}. {t(f'group.{g}')}",
        key="oms_group",
    )
    value = str(group)
    what = f"{group}. {t(f'group.{group}')}"
    query = query_filieres("group", group, groups=groups)
    if query.filieres:
        st.caption(t("oms.group.filieres", filieres=md(", ".join(query.filieres))))
    else:
        st.info(t("oms.group.empty"))
else:
    filiere = st.selectbox(
        t("oms.filiere.label"),
        FILIERES,
        format_func=lambda f: f"{f} — {t(f'filiere.{f}')}",
        key="oms_filiere",
        help=t("oms.filiere.help"),
    )
    value = filiere
    what = f"{filiere} — {t(f'filiere.{filiere}')}"
    query = query_filieres("filiere", filiere)

c1, c2 = st.columns(2)
n = int(
    c1.number_input(
        t("oms.n.label"), min_value=1, max_value=MAX_N, value=DEFAULT_N, step=1, key="oms_n"
    )
)
if st.session_state.get("oms_vintage") not in (ALL_ROUNDS, *rounds):
    st.session_state.pop("oms_vintage", None)
vintage = c2.selectbox(
    t("oms.vintage.label"),
    [ALL_ROUNDS, *rounds],
    format_func=lambda v: t("oms.vintage.all") if v == ALL_ROUNDS else v,
    key="oms_vintage",
)

# ------------------------------------------------------------------ results


def _where(row) -> str:
    return t(f"territory.{row['zone']}") if row["in_zone"] else t("oms.where.mainland")


def _table(frame: pd.DataFrame, full: bool = False) -> pd.DataFrame:
    """The sites as shown (every data cell Markdown-escaped: ``st.table`` renders Markdown)."""
    out = pd.DataFrame(index=frame.index)
    if full:
        out[t("oms.col.level")] = frame["level"].map(lambda v: t(f"oms.level.{v}"))
        out[t("oms.col.where")] = frame.apply(_where, axis=1)
    out[t("oms.col.rank")] = frame["rank"].astype(str)
    out[t("oms.col.establishment")] = frame["establishment"].where(
        frame["establishment"].astype(bool), t("oms.no_establishment")
    )
    out[t("oms.col.service")] = frame["service"]
    out[t("oms.col.label")] = frame["label"].map(lambda v: t(f"label.{v}"))
    out[t("oms.col.network")] = frame["crmr_name"]
    out[t("oms.col.filiere")] = frame["filiere"]
    out[t("oms.col.commune")] = frame["commune"] + " (" + frame["dep"] + ")"
    out[t("oms.col.distance")] = frame["distance_km"].map(lambda k: format_km(k, decimal))
    return out.map(md)


def _section_title(origin: Origin, level: str, in_zone: bool) -> str:
    if not in_zone:
        return t("oms.section.mainland")
    if origin.overseas:
        return t(f"oms.section.{level}_in", in_territory=t(f"territory_in.{origin.zone}"))
    return t(f"oms.section.{level}")


def show_result(result: NearestResult, what: str) -> None:
    """Headline, notes, map (unless printable), one table per group, share and download."""
    origin = result.origin
    sites = result.sites.assign(zone=origin.zone)
    st.header(t("oms.results.title", commune=md(f"{origin.name} ({origin.dep})")))
    st.markdown(t("oms.results.for", what=md(what), filieres=md(", ".join(result.filieres))))
    st.caption(t("oms.results.distance_note"))
    st.warning(t("oms.results.partial"))
    if origin.overseas:
        st.info(t("oms.results.overseas", in_territory=t(f"territory_in.{origin.zone}")))
    printable = st.toggle(t("oms.print.toggle"), key="oms_print", help=t("oms.print.help"))
    st.html(PRINT_CSS)
    if sites.empty:
        st.warning(t("oms.results.none"))
        return
    area = st.container(key="oms_result_area")
    if printable:
        area.markdown(
            "**"
            + t("oms.print.heading", commune=md(f"{origin.name} ({origin.dep})"), what=md(what))
            + "**"
        )
        area.table(_table(sites, full=True), hide_index=True, alt=t("oms.print.toggle"))
    else:
        texts = {k: t(f"oms.map.{k}") for k in ("service", "network", "filiere", "level")}
        texts |= {
            "origin": t("oms.map.origin", name="{name}"),
            "distance": t("oms.map.distance", km="{km}"),
            "sites_here": t("oms.map.sites_here", count="{count}", commune="{commune}"),
            "mainland": t("oms.where.mainland"),
            "no_establishment": t("oms.no_establishment"),
        }
        label_names = {label: t(f"label.{label}") for label in sites["label"].unique()}
        area.subheader(t("oms.map.title"))
        center, zoom = nearest_view(result)
        with area:
            st_folium(
                base_map(),
                key="carte_ou_me_soigner",
                center=center,
                zoom=zoom,
                feature_group_to_add=nearest_layers(result, texts, label_names, decimal),
                returned_objects=[],
                height=460,
                use_container_width=True,
            )
        st.markdown(t("oms.map.legend"))
        for level, in_zone in result.sections:
            title = _section_title(origin, level, in_zone)
            st.subheader(title)
            part = sites[(sites["level"] == level) & (sites["in_zone"] == in_zone)]
            if part.empty:
                where = t(f"territory_in.{origin.zone}") if in_zone else t("territory_in.metropole")
                st.info(t("oms.section.empty", in_territory=where))
            else:
                st.table(_table(part), hide_index=True, alt=title)
        with st.expander(t("oms.levels.title")):
            st.markdown(t("oms.levels.text"))
    download = sites.drop(columns=["zone", "lat", "lon"]).assign(
        distance_km=sites["distance_km"].round(2)
    )
    st.download_button(
        t("oms.download"),
        to_csv_bytes(download),
        file_name=f"centres-proches-{origin.code}.csv",
        mime="text/csv",
    )


result = None
if commune and query and query.filieres:
    try:
        origin = Origin.from_commune(territories.communes, commune.code)
    except NoPosition:
        st.warning(t("oms.commune.no_position", name=md(commune.short)))
    else:
        result = nearest_sites(
            centres, origin, query.filieres, n, () if vintage == ALL_ROUNDS else (vintage,)
        )
elif not commune or not value:
    st.info(t("oms.wait"))

if result is not None:
    show_result(result, what)

# ------------------------------------------------------------------ widgets → URL

desired = {}
if commune or value:
    desired = {
        "commune": commune.code if commune else None,
        "mode": mode,
        "value": value or None,
        "n": str(n),
        "vintage": None if vintage == ALL_ROUNDS else vintage,
    }
    desired = {k: v for k, v in desired.items() if v}
for key in QP_KEYS:
    if key not in desired:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != desired[key]:
        st.query_params[key] = desired[key]

if result is not None:
    st.header(t("oms.share.title"))
    base = st.context.url or ""
    shared = dict(desired)
    if "lang" in st.query_params:  # the sidebar's language switch, when not the default
        shared["lang"] = st.query_params["lang"]
    st.code(f"{base}?{urlencode(shared)}", language=None)
    st.caption(t("oms.share.caption"))
