"""The shared sidebar: filters (kept in session state across pages) and provenance."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from geo.centres import FILIERES, LABELS, filter_centres, summarise
from geo.importer import IMPORTED_REGISTRY_KEY, escape_markdown
from geo.maps import LABEL_STYLES
from geo.sources import OFFICIAL_TOTALS
from ui.data import ActiveRegistry

ALL_NETWORKS = "Tous les réseaux"


@dataclass(frozen=True)
class Filters:
    """The sidebar's current selection (empty tuple = no restriction)."""

    filieres: tuple[str, ...] = ()
    network: str | None = None
    labels: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    vintages: tuple[str, ...] = ()

    def apply(self, centres: pd.DataFrame) -> pd.DataFrame:
        """The sites matching this selection."""
        return filter_centres(
            centres,
            filieres=self.filieres,
            networks=[self.network] if self.network else None,
            labels=self.labels,
            regions=self.regions,
            vintages=self.vintages,
        )

    @property
    def active(self) -> bool:
        return bool(self.filieres or self.network or self.labels or self.regions or self.vintages)


def filters_sidebar(centres: pd.DataFrame, regions: pd.DataFrame) -> Filters:
    """Draw the filter widgets and return the selection."""
    st.sidebar.header("Filtres")
    present = [f for f in FILIERES if f in set(centres["filiere"])]
    filieres = st.sidebar.multiselect(
        "Filière (FSMR)", present, key="f_filieres", placeholder="Toutes les filières"
    )
    pool = centres[centres["filiere"].isin(filieres)] if filieres else centres
    networks = sorted(pool.loc[pool["label"] != "pemr", "crmr_name"].unique())
    if st.session_state.get("f_network") not in (None, ALL_NETWORKS, *networks):
        st.session_state["f_network"] = ALL_NETWORKS
    network = st.sidebar.selectbox("Réseau CRMR", [ALL_NETWORKS, *networks], key="f_network")
    labels = st.sidebar.multiselect(
        "Label",
        [x for x in LABELS if x in set(centres["label"])],
        format_func=lambda x: LABEL_STYLES[x].name,
        key="f_labels",
        placeholder="Tous les labels",
    )
    reg_names = dict(zip(regions["code"], regions["name"], strict=True))
    reg_codes = sorted(reg_names, key=lambda c: reg_names[c])
    chosen_regions = st.sidebar.multiselect(
        "Région",
        reg_codes,
        format_func=lambda c: reg_names[c],
        key="f_regions",
        placeholder="Toutes les régions",
    )
    vintages = st.sidebar.multiselect(
        "Millésime de labellisation",
        sorted(centres["vintage"].unique()),
        key="f_vintages",
        placeholder="Tous les millésimes",
    )
    return Filters(
        tuple(filieres),
        None if network == ALL_NETWORKS else network,
        tuple(labels),
        tuple(chosen_regions),
        tuple(vintages),
    )


def provenance_sidebar(active: ActiveRegistry) -> None:
    """What the loaded registry holds and how complete it is (shown on every page)."""
    s = summarise(active.centres)
    if active.imported:
        origin = f"liste importée « {escape_markdown(active.path.name)} » (cette session)"
    elif active.embedded:
        origin = "compilation publique embarquée"
    else:
        origin = f"fichier {escape_markdown(active.path.name)} (CENTRES_FILE)"
    st.sidebar.divider()
    st.sidebar.subheader("Données chargées")
    st.sidebar.markdown(
        f"**{s['sites']} sites**, {s['networks']} réseaux (nom × millésime), "
        f"{s['filieres']} filières, {s['communes']} communes — {origin}."
    )
    vintages = ", ".join(f"{k} : {v}" for k, v in sorted(s["by_vintage"].items()))
    st.sidebar.caption(f"Millésimes : {vintages}.")
    if active.embedded:
        st.sidebar.warning(
            "Compilation publique **partielle** : de nombreux sites manquent. "
            "Une zone sans site ici n'est pas forcément sans centre.",
            icon="⚠️",
        )
    else:
        st.sidebar.info(
            "Liste fournie par l'utilisateur : sa complétude dépend de sa source.", icon="ℹ️"
        )
    if active.imported and st.sidebar.button("Revenir aux données embarquées"):
        st.session_state.pop(IMPORTED_REGISTRY_KEY, None)
        st.rerun()
    with st.sidebar.expander("Sites par filière et totaux officiels"):
        rows = [
            {"Filière": k, "Sites": v["sites"], "Réseaux": v["networks"]}
            for k, v in s["by_filiere"].items()
        ]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        st.caption(f"Pour comparaison : {OFFICIAL_TOTALS}")
