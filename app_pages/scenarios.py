"""Scénarios: add hypothetical sites or remove sites, and see the coverage change at once.

Thin page over :mod:`geo.scenarios` (arithmetic, JSON), :mod:`geo.suggest` (greedy
proposals) and :mod:`geo.exports` (downloads). Scenarios live in this browser session
only (``st.session_state["scn_store"]``: name → :class:`geo.scenarios.Scenario`); nothing
is written to ``data/``. Text coming from users or files is shown through
:func:`geo.importer.escape_markdown` wherever Streamlit reads Markdown.
"""

import hashlib

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.centres import LABELS
from geo.coverage import DEFAULT_THRESHOLDS_KM
from geo.export import to_csv_bytes
from geo.exports import (
    file_stem,
    map_image,
    render_map_png,
    standalone_html,
    summary_pdf,
    to_xlsx_bytes,
)
from geo.geocode import AMBIGUOUS, MATCHED, CommuneIndex
from geo.importer import escape_markdown
from geo.maps import (
    LABEL_STYLES,
    VIEWS,
    base_map,
    distance_classes,
    distance_legend,
    distance_palette,
    image_layer,
    view_center,
)
from geo.network import legend_control, points_layer, site_points
from geo.scenarios import (
    MAX_SCENARIO_BYTES,
    Scenario,
    ScenarioError,
    departements_fr,
    evaluate_scenario,
    scenario_from_json,
    site_at_commune,
    site_from_registry,
)
from geo.suggest import coverage_matrix, host_candidates, population_candidates, suggest_sites
from geo.territories import load_commune_names
from ui.data import (
    active_registry,
    commune_grid,
    display_departements,
    distance_table,
    load_territories,
    registry_key,
)
from ui.selection import selection_widgets

STORE = "scn_store"
CURRENT = "scn_current"
MESSAGE = "scn_message"
THRESHOLDS = DEFAULT_THRESHOLDS_KM
HYPOTHETICAL_STYLE = {"fill": "#FFFFFF", "stroke": "#000000", "radius": 9, "dash": "4 3"}
REMOVED_STYLE = {"fill": "#9E9E9E", "stroke": "#222222", "radius": 7, "dash": "2 2"}
SOURCES_FR = {"commune": "commune", "registry": "établissement", "suggestion": "suggestion"}
ADD_LABELS = [x for x in LABELS if x != "pemr"]
CANDIDATE_MODES = (
    "Communes qui accueillent déjà un site (toutes filières)",
    "Toutes les communes d'au moins N habitants",
)


# ------------------------------------------------------------------ cached resources


@st.cache_resource(show_spinner="Préparation de la recherche de communes…")
def commune_index() -> CommuneIndex:
    """The offline commune index (shared, read-only)."""
    return CommuneIndex(load_commune_names(), load_territories().communes)


@st.cache_resource(show_spinner="Calcul des couvertures des communes candidates…", max_entries=8)
def candidate_matrix(
    key: str, mode: int, min_population: int, radius: float, corsica: bool, _centres: pd.DataFrame
):
    """Candidates and their coverage matrix (shared, read-only); ``key`` names the registry."""
    del key
    communes = load_territories().communes
    if mode == 0:
        candidates = host_candidates(communes, _centres)
    else:
        candidates = population_candidates(communes, min_population)
    return candidates, coverage_matrix(communes, candidates, radius, corsica)


# ------------------------------------------------------------------ helpers (pure + state)


def number(n) -> str:
    """An integer in French style (narrow no-break spaces between thousands)."""
    return f"{round(float(n)):,}".replace(",", "\u202f")


def signed(n) -> str:
    """``+1 234`` / ``-1 234`` (ASCII signs: Streamlit reads them for the delta arrow)."""
    return ("+" if n > 0 else "-" if n < 0 else "") + number(abs(n))


def scenario_stem(name: str) -> str:
    """Download file stem: "Scénario 1" → "scenario-1", "Brest" → "scenario-brest"."""
    stem = file_stem(name)
    return stem if stem.startswith("scenario") else file_stem("scenario", name)


def unique_name(name: str, taken) -> str:
    """``name``, or ``name (2)``, ``name (3)``… when taken."""
    out, n = name, 2
    while out in taken:
        out = f"{name} ({n})"
        n += 1
    return out


def store() -> dict[str, Scenario]:
    scenarios = st.session_state.setdefault(STORE, {})
    if not scenarios:
        scenarios["Scénario 1"] = Scenario("Scénario 1")
    if st.session_state.get(CURRENT) not in scenarios:
        st.session_state[CURRENT] = next(iter(scenarios))
    return scenarios


def current() -> Scenario:
    return store()[st.session_state[CURRENT]]


def put(scenario: Scenario) -> None:
    store()[st.session_state[CURRENT]] = scenario


def say(kind: str, text: str) -> None:
    """A message for the next run (callbacks cannot draw)."""
    st.session_state[MESSAGE] = (kind, text)


def on_new() -> None:
    wanted = (st.session_state.get("scn_new_name") or "").strip()
    scenarios = store()
    name = unique_name(wanted or f"Scénario {len(scenarios) + 1}", scenarios)
    try:
        scenarios[name] = Scenario("x").renamed(name)
    except ScenarioError as exc:
        say("error", str(exc))
        return
    st.session_state[CURRENT] = name
    st.session_state["scn_new_name"] = ""


def on_delete() -> None:
    scenarios = store()
    name = st.session_state[CURRENT]
    scenarios.pop(name, None)
    st.session_state.pop(f"scn_rm::{name}", None)
    st.session_state[CURRENT] = next(iter(scenarios), None)
    store()


def resolve_commune(text: str) -> tuple[str | None, list[tuple[str, str]], str]:
    """(commune code, candidates [(code, label)], message) for a name or INSEE code."""
    text = (text or "").strip()
    if not text:
        return None, [], ""
    communes = load_territories().communes
    if text.upper() in set(communes["code"]):
        code = text.upper()
        return code, [], ""
    result = commune_index().lookup(text)
    if result.status == MATCHED:
        return result.code, [], result.warning
    if result.status == AMBIGUOUS:
        return None, [(c.code, f"{c.name} ({c.dep}, {c.code})") for c in result.candidates], ""
    close = commune_index().suggest(text)
    hint = f" Vouliez-vous dire : {', '.join(close)} ?" if close else ""
    return None, [], f"Commune « {text} » introuvable.{hint}"


def on_add_site() -> None:
    """Build the hypothetical site from the add form's widgets and add it."""
    state = st.session_state
    label = state.get("scn_label", "ccmr")
    name = state.get("scn_name", "")
    try:
        if state.get("scn_src") == "Un établissement du registre":
            site = site_from_registry(active_registry().centres, state["scn_estab"], label, name)
        else:
            code, candidates, message = resolve_commune(state.get("scn_commune_text", ""))
            code = code or (state.get("scn_commune_pick") if candidates else None)
            if code is None:
                say("warning", message or "Indiquez d'abord une commune.")
                return
            site = site_at_commune(load_territories().communes, code, label, name)
        put(current().with_addition(site))
    except ScenarioError as exc:
        say("error", str(exc))
        return
    state["scn_name"] = ""
    say("success", f"Site hypothétique ajouté : {site.display_name}.")


def on_add_suggestion(code: str, name: str, rank: int) -> None:
    label = st.session_state.get("scn_label", "ccmr")
    try:
        site = site_at_commune(
            load_territories().communes, code, label, f"Proposition {rank} – {name}", "suggestion"
        )
        put(current().with_addition(site))
    except ScenarioError as exc:
        say("error", str(exc))
        return
    say("success", f"Site hypothétique ajouté : {site.display_name}.")


def on_drop_addition(position: int) -> None:
    put(current().without_addition(position))


def on_removals(key: str, options: list[str]) -> None:
    chosen = list(st.session_state.get(key, []))
    scenario = current()
    outside = [r for r in scenario.removals if r not in set(options)]
    put(Scenario(scenario.name, scenario.additions, tuple(dict.fromkeys(outside + chosen))))


def on_open(scenario: Scenario) -> None:
    scenarios = store()
    name = unique_name(scenario.name, scenarios)
    scenarios[name] = Scenario(name, scenario.additions, scenario.removals)
    st.session_state[CURRENT] = name
    say("success", f"Scénario « {name} » ouvert.")


# ------------------------------------------------------------------ page

territories = load_territories()
communes = territories.communes
centres = active_registry().centres
key = registry_key(centres)

st.title("Scénarios")
st.caption(
    "Et si l'on labellisait un site ici, ou si celui-là fermait ? Ajoutez des sites "
    "hypothétiques ou retirez des sites existants : la couverture de la sélection est "
    "recalculée aussitôt, avant / après. Les scénarios restent dans votre session ; rien "
    "n'est écrit dans les données. Distances à vol d'oiseau ; un résident d'outre-mer n'est "
    "couvert que par un site de son territoire."
)

selection = selection_widgets(centres, key="scn")
if selection is None:
    st.info("Choisissez au moins une filière (ou un groupe qui en contient une).")
    st.stop()
corsica = bool(st.session_state.get("scn_corsica", False))

scenarios = store()
s1, s2, s3, s4 = st.columns([2, 2, 1, 1])
s1.selectbox("Scénario en cours", list(scenarios), key=CURRENT)
s2.text_input(
    "Nom d'un nouveau scénario",
    key="scn_new_name",
    max_chars=80,
    placeholder=f"Scénario {len(scenarios) + 1}",
)
s3.button("Nouveau scénario", on_click=on_new, key="scn_new", width="stretch")
s4.button("Supprimer ce scénario", on_click=on_delete, key="scn_delete", width="stretch")
scenario = current()

if MESSAGE in st.session_state:
    kind, text = st.session_state.pop(MESSAGE)
    getattr(st, kind)(escape_markdown(text))

tab_add, tab_remove, tab_suggest, tab_file = st.tabs(
    ["Ajouter un site", "Retirer des sites", "Suggestions", "Enregistrer / charger"]
)

with tab_add:
    a1, a2 = st.columns(2)
    with a1:
        source = st.radio(
            "Emplacement",
            ["Une commune", "Un établissement du registre"],
            key="scn_src",
            horizontal=True,
        )
        ready = False
        if source == "Une commune":
            text = st.text_input(
                "Commune (nom ou code INSEE)", key="scn_commune_text", placeholder="ex. Brest"
            )
            code, candidates, message = resolve_commune(text)
            if code:
                row = communes.loc[communes["code"] == code].iloc[0]
                st.caption(
                    f"→ {escape_markdown(row['name'])} ({row['dep']}, code {code}), "
                    f"{number(row['population'])} habitants. Le site est placé au point "
                    "représentatif de la commune."
                )
                if message:
                    st.caption(escape_markdown(message))
                ready = True
            elif candidates:
                st.selectbox(
                    "Plusieurs communes portent ce nom : précisez",
                    [c for c, _ in candidates],
                    format_func=dict(candidates).get,
                    key="scn_commune_pick",
                )
                ready = True
            elif message:
                st.warning(escape_markdown(message))
        else:
            pool = centres[centres["establishment"].astype(str).str.strip() != ""]
            pool = pool.drop_duplicates(["establishment", "commune_code"]).sort_values(
                "establishment"
            )
            names = {
                r.id: f"{r.establishment} — {r.commune} ({r.dep})"
                for r in pool.itertuples(index=False)
            }
            st.selectbox(
                "Établissement (son point dans le registre)",
                list(names),
                format_func=names.get,
                key="scn_estab",
            )
            ready = bool(names)
    with a2:
        counted = selection.labels or tuple(LABELS)
        default_label = next((x for x in ("ccmr", "crmr_constitutif") if x in counted), counted[0])
        st.selectbox(
            "Label du site hypothétique",
            ADD_LABELS,
            index=ADD_LABELS.index(default_label) if default_label in ADD_LABELS else 0,
            format_func=lambda x: LABEL_STYLES[x].name,
            key="scn_label",
            help="Un site hypothétique compte pour la sélection quel que soit son label.",
        )
        st.text_input(
            "Nom affiché (facultatif)",
            key="scn_name",
            max_chars=160,
            help="Suivi de « (hypothétique) » partout où le site apparaît.",
        )
    st.button(
        "Ajouter le site hypothétique",
        on_click=on_add_site,
        disabled=not ready,
        type="primary",
        key="scn_add",
    )
    if scenario.additions:
        st.markdown(f"**Sites hypothétiques de « {escape_markdown(scenario.name)} »**")
        for i, site in enumerate(scenario.additions):
            row = communes.loc[communes["code"] == site.commune_code]
            where = row["name"].iloc[0] if len(row) else site.commune_code
            b1, b2 = st.columns([5, 1])
            b1.markdown(
                f"{i + 1}. {escape_markdown(site.display_name)} — {escape_markdown(where)} — "
                f"{escape_markdown(LABEL_STYLES[site.label].name)} "
                f"({SOURCES_FR.get(site.source, site.source)})"
            )
            b2.button("Retirer", key=f"scn_drop_{i}", on_click=on_drop_addition, args=(i,))

with tab_remove:
    in_selection = selection.sites(centres)
    options = list(in_selection["id"])
    extra = [r for r in scenario.removals if r not in set(options) and r in set(centres["id"])]
    options += extra
    by_id = centres.set_index("id")
    labels_by_id = {
        i: f"{by_id.at[i, 'establishment'] or '(établissement non précisé)'} — "
        f"{by_id.at[i, 'commune']} — {LABEL_STYLES[by_id.at[i, 'label']].name}"
        for i in options
    }
    rm_key = f"scn_rm::{st.session_state[CURRENT]}"
    if rm_key not in st.session_state:
        st.session_state[rm_key] = [r for r in scenario.removals if r in set(options)]
    st.multiselect(
        "Sites à retirer (scénario de fermeture ou de non-renouvellement)",
        options,
        format_func=labels_by_id.get,
        key=rm_key,
        on_change=on_removals,
        args=(rm_key, options),
        placeholder="Choisissez des sites de la sélection",
    )
    if extra:
        st.caption(
            f"{len(extra)} site(s) retiré(s) hors de la sélection actuelle : sans effet ici."
        )

result = evaluate_scenario(
    communes,
    territories.departements,
    centres,
    selection,
    scenario,
    THRESHOLDS,
    table=distance_table(key, corsica, centres),
    corsica_separate=corsica,
)

with tab_suggest:
    st.caption(
        "Où un nouveau site couvrirait-il le plus d'habitants aujourd'hui à plus de R km d'un "
        "site de la sélection (scénario compris) ? Choix glouton : chaque proposition est la "
        "commune candidate qui ajoute le plus d'habitants couverts, compte tenu des précédentes "
        "(au moins 63 % de l'optimum, garantie 1 − 1/e). Un candidat ne couvre que son propre "
        "territoire (outre-mer, Corse à part si demandé)."
    )
    g1, g2, g3 = st.columns([2, 1, 2])
    radius = g1.select_slider(
        "Rayon R (km)", [25, 50, 75, 100, 150, 200], value=100, key="scn_sg_radius"
    )
    k = int(g2.number_input("Propositions", 1, 10, 3, key="scn_sg_k"))
    mode = g3.radio("Candidats", CANDIDATE_MODES, key="scn_sg_mode")
    min_pop = 0
    if mode == CANDIDATE_MODES[1]:
        min_pop = int(
            g3.number_input(
                "N (habitants)", min_value=2000, value=20000, step=1000, key="scn_sg_minpop"
            )
        )
    candidates, matrix = candidate_matrix(
        key, CANDIDATE_MODES.index(mode), min_pop, float(radius), corsica, centres
    )
    suggestions = suggest_sites(
        communes,
        result.sites_after,
        candidates,
        float(radius),
        k,
        corsica_separate=corsica,
        current_km=result.after.commune_km,
        matrix=matrix,
    )
    st.markdown(
        f"{number(suggestions.uncovered_population)} habitants à plus de {radius} km d'un site "
        f"(sur {number(suggestions.population)}), {len(candidates)} communes candidates."
    )
    props = suggestions.proposals
    if props.empty:
        st.info("Aucune commune candidate n'ajoute d'habitants couverts avec ce rayon.")
    else:
        table = pd.DataFrame(
            {
                "Rang": props["rank"],
                "Commune": props["name"],
                "Département": props["dep"],
                "Code commune": props["commune_code"],
                "Habitants gagnés": props["gain_population"],
                "Cumul (habitants)": props["cumulative_population"],
                "Cumul (% des non couverts)": (100 * props["cumulative_share_of_uncovered"]).round(
                    1
                ),
            }
        )
        st.dataframe(table, hide_index=True, width="stretch")
        chart = pd.DataFrame(
            {
                "Habitants gagnés": props["gain_population"].to_numpy(),
                "Cumul": props["cumulative_population"].to_numpy(),
            },
            index=[f"{r}. {n}" for r, n in zip(props["rank"], props["name"], strict=True)],
        )
        h1, h2 = st.columns(2)
        h1.caption("Gain de chaque proposition (habitants)")
        h1.bar_chart(chart["Habitants gagnés"], height=220)
        h2.caption("Cumul des habitants couverts")
        h2.line_chart(chart["Cumul"], height=220)
        for r in props.itertuples(index=False):
            st.button(
                f"Ajouter la proposition {r.rank} ({escape_markdown(r.name)}) au scénario",
                key=f"scn_sg_add_{r.commune_code}",
                on_click=on_add_suggestion,
                args=(r.commune_code, r.name, int(r.rank)),
            )

with tab_file:
    stem = scenario_stem(scenario.name)
    st.download_button(
        "Télécharger ce scénario (JSON)",
        scenario.to_json_bytes(),
        f"{stem}.json",
        "application/json",
        key="scn_dl_json",
        on_click="ignore",
    )
    upload = st.file_uploader(
        "Charger un scénario (fichier JSON exporté par cette page)",
        type=["json"],
        key="scn_upload",
        max_upload_size=1,
    )
    if upload is not None:
        data = upload.getvalue()
        try:
            loaded = scenario_from_json(data[: MAX_SCENARIO_BYTES + 1], communes, centres)
        except ScenarioError as exc:
            st.error(escape_markdown(str(exc)), icon="⚠️")
        else:
            st.success(
                f"Scénario « {escape_markdown(loaded.name)} » valide : "
                f"{len(loaded.additions)} site(s) hypothétique(s), {len(loaded.removals)} "
                "site(s) retiré(s)."
            )
            digest = hashlib.sha1(data).hexdigest()[:12]
            st.button(
                "Ouvrir ce scénario", key=f"scn_open_{digest}", on_click=on_open, args=(loaded,)
            )

# ------------------------------------------------------------------ results
st.divider()
st.subheader(
    f"Effet du scénario « {escape_markdown(scenario.name)} » — "
    f"{escape_markdown(selection.describe())}"
)
if scenario.is_empty:
    st.caption("Scénario vide : ajoutez ou retirez un site pour voir l'effet.")
b, a = result.before.national, result.after.national
cols = st.columns(len(THRESHOLDS) + 1)
for col, t in zip(cols, THRESHOLDS, strict=False):
    tk = f"{t:g}"
    before, after = b["population_beyond_km"][tk], a["population_beyond_km"][tk]
    col.metric(
        f"Habitants à plus de {tk} km",
        number(after),
        delta=None if after == before else f"{signed(after - before)} hab.",
        delta_color="inverse",
        help=f"Avant le scénario : {number(before)}.",
    )
cols[-1].metric(
    "Accessibilité E2SFCA (sites / M hab.)",
    f"{a['accessibility']:.3f}".replace(".", ","),
    delta=None
    if a["accessibility"] == b["accessibility"]
    else f"{a['accessibility'] - b['accessibility']:+.3f}".replace(".", ","),
    help=f"Avant le scénario : {b['accessibility']:.3f}.",
)
newly, lost = result.newly_covered(), result.newly_uncovered()
if len(newly):
    st.success(
        "Départements nouvellement couverts (au moins un site) : "
        + ", ".join(f"{r.name} ({r.code})" for r in newly.itertuples(index=False))
    )
if len(lost):
    st.warning(
        "Départements qui n'ont plus aucun site : "
        + ", ".join(f"{r.name} ({r.code})" for r in lost.itertuples(index=False))
    )
if not len(newly) and not len(lost) and not scenario.is_empty:
    st.caption("Aucun département ne gagne ni ne perd son premier site.")
if result.ignored_removals:
    st.caption(
        f"{len(result.ignored_removals)} site(s) retiré(s) n'appartiennent pas à la sélection : "
        "sans effet ici."
    )

national = result.national().rename(
    columns={"indicator": "Indicateur", "before": "Avant", "after": "Après", "change": "Écart"}
)
departements = result.departements()
dep_fr = departements_fr(departements, THRESHOLDS)

left, right = st.columns([3, 1])
with right:
    state = st.radio("Carte", ["Après le scénario", "Avant le scénario"], key="scn_map_state")
    view = st.radio("Territoire", list(VIEWS), key="scn_view")
after_view = state.startswith("Après")
deps_display = display_departements(0.01)
center, zoom = view_center(view, deps_display)
grid, rows = commune_grid(view)
commune_km = (result.after if after_view else result.before).commune_km
classes = distance_classes(commune_km)[communes.index.get_indexer(rows)]
existing = result.sites_after[~result.sites_after["hypothetical"].astype(bool)]
shown_sites = existing if after_view else result.before.sites
hypothetical = result.sites_after[result.sites_after["hypothetical"].astype(bool)]


def marker_rows() -> pd.DataFrame:
    """Sites to draw (existing, then removed and hypothetical ones on the "after" map)."""
    frames = [site_points(shown_sites)]
    if after_view and len(result.removed):
        frames.append(
            site_points(result.removed).assign(
                **REMOVED_STYLE,
                tip=["Site retiré (scénario) : " + t for t in site_points(result.removed)["tip"]],
            )
        )
    if after_view and len(hypothetical):
        frames.append(site_points(hypothetical).assign(**HYPOTHETICAL_STYLE))
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else site_points(shown_sites)


MARKER_LEGEND = [
    ("#FFFFFF", "Site hypothétique (cercle blanc pointillé)"),
    ("#9E9E9E", "Site retiré par le scénario"),
]


def layers() -> list:
    """The map layers of the current state (new objects at each call)."""
    png = grid.render_png(classes, distance_palette())
    return [
        image_layer(png, grid.leaflet_bounds, "Distance"),
        points_layer(marker_rows(), "Sites"),
    ]


def full_map():
    fmap = base_map(deps_display, center=center, zoom=zoom)
    for layer in layers():
        layer.add_to(fmap)
    legend_control(MARKER_LEGEND, "Scénario").add_to(fmap)
    return fmap


with left:
    base = base_map(deps_display)
    legend_control(MARKER_LEGEND, "Scénario").add_to(base)
    st_folium(
        base,
        key="carte_scenarios",
        center=center,
        zoom=zoom,
        feature_group_to_add=layers(),
        returned_objects=[],
        height=540,
        use_container_width=True,
    )
with right:
    st.markdown("**Distance au site le plus proche**")
    for colour, text in distance_legend():
        st.markdown(
            f'<span style="display:inline-block;width:14px;height:14px;background:{colour};'
            f'border:1px solid #444;vertical-align:middle"></span> {text}',
            unsafe_allow_html=True,
        )

st.markdown("**Chiffres nationaux, avant / après**")
st.dataframe(national, hide_index=True, width="stretch")
st.markdown("**Par département**")
all_deps = st.toggle("Afficher tous les départements", key="scn_all_deps")
changed = (
    (departements["change"] != "")
    | (departements[[f"beyond_{t:g}_change" for t in THRESHOLDS]] != 0).any(axis=1)
    | (departements["accessibility_change"].fillna(0) != 0)
)
st.dataframe(dep_fr if all_deps else dep_fr[changed.to_numpy()], hide_index=True, width="stretch")
if not all_deps and not changed.any():
    st.caption("Aucun département ne change.")

# ------------------------------------------------------------------ downloads
additions = pd.DataFrame(
    [
        {
            "Nom": s.display_name,
            "Label": LABEL_STYLES[s.label].name,
            "Code commune": s.commune_code,
            "Longitude": s.lon,
            "Latitude": s.lat,
            "Origine": SOURCES_FR.get(s.source, s.source),
        }
        for s in scenario.additions
    ],
    columns=["Nom", "Label", "Code commune", "Longitude", "Latitude", "Origine"],
)
removed = result.removed[["id", "establishment", "commune", "label", "crmr_name"]].rename(
    columns={
        "id": "Identifiant",
        "establishment": "Établissement",
        "commune": "Commune",
        "label": "Label",
        "crmr_name": "Réseau",
    }
)
title = f"Scénario « {scenario.name} » — {selection.describe()}"
legend = [*distance_legend(), *MARKER_LEGEND]
figures = [(r["Indicateur"], f"{r['Avant']} → {r['Après']}") for _, r in national.iterrows()]
notes = [
    f"{len(scenario.additions)} site(s) hypothétique(s) : "
    + (", ".join(s.display_name for s in scenario.additions) or "aucun")
    + f". {len(result.removed)} site(s) retiré(s).",
]
if len(newly):
    notes.append("Nouvellement couverts : " + ", ".join(newly["name"]) + ".")
if len(lost):
    notes.append("N'ont plus de site : " + ", ".join(lost["name"]) + ".")
points = marker_rows()
stem = scenario_stem(scenario.name)


def export_png() -> bytes:
    image = map_image(grid, classes, distance_palette(), points, outlines=deps_display.geometry)
    subtitle = f"{'Après' if after_view else 'Avant'} le scénario — territoire : {view}"
    return render_map_png(image, title, legend, subtitle=subtitle)


def export_pdf() -> bytes:
    image = map_image(grid, classes, distance_palette(), points, outlines=deps_display.geometry)
    return summary_pdf(title, image, figures, notes, legend)


st.markdown("**Télécharger**")
d1, d2, d3, d4, d5 = st.columns(5)
d1.download_button(
    "Tableaux (CSV)",
    to_csv_bytes(dep_fr),
    f"{stem}-departements.csv",
    "text/csv",
    key="scn_dl_csv",
    on_click="ignore",
)
d2.download_button(
    "Tableaux (XLSX)",
    lambda: to_xlsx_bytes(
        {
            "Chiffres nationaux": national,
            "Départements": dep_fr,
            "Sites hypothétiques": additions,
            "Sites retirés": removed,
        }
    ),
    f"{stem}.xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    key="scn_dl_xlsx",
    on_click="ignore",
)
d3.download_button(
    "Carte (HTML hors ligne)",
    lambda: standalone_html(full_map(), title, title),
    f"{stem}.html",
    "text/html",
    key="scn_dl_html",
    on_click="ignore",
)
d4.download_button(
    "Carte (PNG)", export_png, f"{stem}.png", "image/png", key="scn_dl_png", on_click="ignore"
)
d5.download_button(
    "Synthèse (PDF)",
    export_pdf,
    f"{stem}.pdf",
    "application/pdf",
    key="scn_dl_pdf",
    on_click="ignore",
)
st.caption(
    "Les sites hypothétiques portent la mention « (hypothétique) » dans chaque tableau et "
    "export ; ils ne sont jamais ajoutés aux données."
)
