"""Widgets choosing a coverage selection: filières, a disease group or a network; labels; round."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.centres import FILIERES, REFERENCE_LABELS
from geo.coverage import Selection
from geo.groups import filieres_of_group, group_names, load_groups

#: Label sets that count as coverage, in the order offered.
LABEL_PRESETS = {
    "Sites de référence (CRMR)": REFERENCE_LABELS,
    "Référence + compétence (CCMR, CRC)": (*REFERENCE_LABELS, "ccmr", "crc"),
    "Tous les sites, collaborateurs compris": (*REFERENCE_LABELS, "ccmr", "crc", "collaborateur"),
}
ALL_VINTAGES = "Tous les millésimes chargés"
MODES = ("Filières", "Groupe de maladies (typologie 2007)", "Réseau CRMR")


@st.cache_data(show_spinner=False)
def _groups() -> pd.DataFrame:
    return load_groups()


def selection_widgets(centres: pd.DataFrame, key: str = "sel") -> Selection | None:
    """Draw the selection controls (in the main area) and return the selection.

    ``None`` when nothing is chosen (no filière, or a group without filière): an empty
    filière list would otherwise mean "every filière".
    """
    c1, c2, c3 = st.columns([2, 2, 1])
    with c1:
        mode = st.radio("Choisir par", MODES, key=f"{key}_mode", horizontal=True)
        if mode == MODES[0]:
            present = [f for f in FILIERES if f in set(centres["filiere"])]
            filieres = st.multiselect(
                "Filières",
                present,
                default=present[:1],
                key=f"{key}_filieres",
                placeholder="Choisissez au moins une filière",
            )
            network = None
        elif mode == MODES[1]:
            names = group_names(_groups())
            group = st.selectbox(
                "Groupe de maladies",
                list(names),
                format_func=lambda g: f"{g}. {names[g]}",
                key=f"{key}_group",
            )
            filieres = list(filieres_of_group(group, _groups()))
            st.caption("Filières du groupe : " + (", ".join(filieres) or "aucune"))
            network = None
        else:
            networks = sorted(centres.loc[centres["label"] != "pemr", "crmr_name"].unique())
            network = st.selectbox("Réseau CRMR", networks, key=f"{key}_network")
            filieres = []
    with c2:
        preset = st.selectbox("Sites qui comptent", list(LABEL_PRESETS), key=f"{key}_labels")
        vintages = [ALL_VINTAGES, *sorted(centres["vintage"].unique(), reverse=True)]
        vintage = st.selectbox("Millésime", vintages, key=f"{key}_vintage")
    with c3:
        st.session_state.setdefault(f"{key}_corsica", False)
        st.checkbox(
            "Corse à part",
            key=f"{key}_corsica",
            help="La Corse n'est couverte que par des sites corses, comme chaque DROM.",
        )
    if network is None and not filieres:
        return None
    return Selection(
        filieres=tuple(filieres),
        network=network,
        labels=LABEL_PRESETS[preset],
        vintages=() if vintage == ALL_VINTAGES else (vintage,),
    )
