"""Interface strings in French (default) and English: ``t(key, **fmt)``.

The language is ``st.session_state["lang"]`` (``"fr"`` when unset or unknown), set by
the language switch of the shared sidebar. Every key of :data:`STRINGS` has both
languages with the same ``str.format`` placeholders (tested). Values are Markdown
where the element renders Markdown: data inserted into them (commune names, typed
text, establishment names…) must go through :func:`md` first.

Held here: the strings of the "Où me soigner ?" page (``oms.*``), the navigation
titles (``nav.*``), the frame of ``dashboard.py`` (``app.*``, ``lang.*``)
and the shared sidebar's provenance block (``sidebar.*``); plus the names of labels,
filières, disease groups and territories in both languages.
"""

from __future__ import annotations

import re
import string

import streamlit as st

DEFAULT_LANG = "fr"
#: Language code → its name in that language (the switch's options).
LANGS = {"fr": "Français", "en": "English"}
#: The switch's label, bilingual on purpose (readable whatever the current language).
LANG_SWITCH_LABEL = "Langue / Language"

_OFFICIAL_TOTALS_FR = (
    "Labellisation 2017–2022 : 2 169 sites (114 coordonnateurs, 286 constitutifs, "
    "1 769 centres de compétence ; Orphanet, 2 août 2018) ; 2022 : 388 sites CRMR et 85 CRC "
    "financés ; 2023–2028 : nouvelle labellisation (arrêté de fin décembre 2023)."
)

STRINGS: dict[str, dict[str, str]] = {
    # ------------------------------------------------------------------ frame (dashboard.py)
    "app.page_title": {
        "fr": "Carte des maladies rares en France",
        "en": "Rare disease map of France",
    },
    "app.about": {
        "fr": "Carte de référence des centres maladies rares (données publiques).",
        "en": "Reference map of France's rare disease centres (public data).",
    },
    "app.load_error": {
        "fr": "Les données n'ont pas pu être chargées : {error}",
        "en": "The data could not be loaded: {error}",
    },
    "app.problem_details": {"fr": "Détail des problèmes", "en": "Problem details"},
    "lang.help": {
        "fr": "Langue de l'interface. Les noms des centres restent ceux des sources.",
        "en": "Interface language. Centre names stay as the sources write them (French).",
    },
    # ------------------------------------------------------------------ navigation
    "nav.map": {"fr": "Carte nationale", "en": "National map"},
    "nav.gaps": {"fr": "Zones sans couverture", "en": "Areas without coverage"},
    "nav.sources": {"fr": "Sources et méthode", "en": "Sources and method"},
    "nav.import": {"fr": "Importer une liste", "en": "Import a list"},
    "nav.network": {"fr": "Maillage d'un réseau", "en": "A network's coverage"},
    "nav.scenarios": {"fr": "Scénarios", "en": "Scenarios"},
    "nav.compare": {"fr": "Comparer deux listes", "en": "Compare two lists"},
    "nav.nearest": {"fr": "Où me soigner ?", "en": "Where can I get care?"},
    # ------------------------------------------------------------------ sidebar provenance
    "sidebar.loaded": {"fr": "Données chargées", "en": "Loaded data"},
    "sidebar.counts": {
        "fr": "**{sites} sites**, {networks} réseaux (nom × millésime), {filieres} filières, "
        "{communes} communes — {origin}.",
        "en": "**{sites} sites**, {networks} networks (name × round), {filieres} filières, "
        "{communes} communes — {origin}.",
    },
    "sidebar.origin_embedded": {
        "fr": "compilation publique embarquée",
        "en": "embedded public compilation",
    },
    "sidebar.origin_file": {
        "fr": "fichier {name} (CENTRES_FILE)",
        "en": "file {name} (CENTRES_FILE)",
    },
    "sidebar.origin_imported": {
        "fr": "liste importée « {name} » (cette session)",
        "en": "imported list “{name}” (this session)",
    },
    "sidebar.vintages": {
        "fr": "Millésimes : {vintages}.",
        "en": "Labellisation rounds: {vintages}.",
    },
    "sidebar.partial": {
        "fr": "Compilation publique **partielle** : de nombreux sites manquent. "
        "Une zone sans site ici n'est pas forcément sans centre.",
        "en": "**Partial** public compilation: many sites are missing. "
        "An area without a site here may still have a centre.",
    },
    "sidebar.user_list": {
        "fr": "Liste fournie par l'utilisateur : sa complétude dépend de sa source.",
        "en": "List supplied by the user: its completeness depends on its source.",
    },
    "sidebar.back_to_embedded": {
        "fr": "Revenir aux données embarquées",
        "en": "Back to the embedded data",
    },
    "sidebar.by_filiere": {
        "fr": "Sites par filière et totaux officiels",
        "en": "Sites by filière and official totals",
    },
    "sidebar.col_filiere": {"fr": "Filière", "en": "Filière"},
    "sidebar.col_sites": {"fr": "Sites", "en": "Sites"},
    "sidebar.col_networks": {"fr": "Réseaux", "en": "Networks"},
    "sidebar.compare": {"fr": "Pour comparaison : {totals}", "en": "For comparison: {totals}"},
    "sidebar.official_totals": {
        "fr": _OFFICIAL_TOTALS_FR,
        "en": "2017–2022 labellisation: 2,169 sites (114 coordinating, 286 constituent, "
        "1,769 competence centres; Orphanet, 2 August 2018); 2022: 388 CRMR sites and 85 CRC "
        "funded; 2023–2028: new labellisation (order of late December 2023).",
    },
    # ------------------------------------------------------------------ page: intro
    "oms.title": {"fr": "Où me soigner ?", "en": "Where can I get care?"},
    "oms.intro": {
        "fr": "Trouvez les centres maladies rares les plus proches de chez vous. Indiquez votre "
        "commune, puis ce que vous cherchez : une maladie ou un organe, un groupe de maladies, "
        "ou une filière de santé maladies rares si vous la connaissez.",
        "en": "Find the rare disease centres nearest to where you live. Enter your commune, "
        "then what you are looking for: a disease or an organ, a disease group, or a rare "
        "disease network (filière) if you know it.",
    },
    "oms.step_commune": {"fr": "1. Votre commune", "en": "1. Your commune"},
    "oms.step_what": {"fr": "2. Ce que vous cherchez", "en": "2. What you are looking for"},
    # ------------------------------------------------------------------ page: commune
    "oms.commune.label": {"fr": "Commune ou code postal", "en": "Commune or postal code"},
    "oms.commune.placeholder": {
        "fr": "ex. Saint-Denis, 97400, Evry",
        "en": "e.g. Saint-Denis, 97400, Evry",
    },
    "oms.commune.help": {
        "fr": "Les accents et majuscules sont facultatifs. Appuyez sur Entrée pour chercher.",
        "en": "Accents and capitals are optional. Press Enter to search.",
    },
    "oms.commune.pick": {
        "fr": "Plusieurs communes correspondent : choisissez la vôtre",
        "en": "Several communes match: choose yours",
    },
    "oms.commune.pick_placeholder": {"fr": "Choisissez une commune", "en": "Choose a commune"},
    "oms.commune.more": {
        "fr": "Seules les {limit} premières communes sont listées : précisez le nom ou le code "
        "postal.",
        "en": "Only the first {limit} communes are listed: type more of the name or the postal "
        "code.",
    },
    "oms.commune.chosen": {"fr": "Commune : **{label}**", "en": "Commune: **{label}**"},
    "oms.commune.not_found": {
        "fr": "Aucune commune ne correspond à « {text} ».",
        "en": "No commune matches “{text}”.",
    },
    "oms.commune.did_you_mean": {"fr": "Vouliez-vous dire :", "en": "Did you mean:"},
    "oms.commune.no_position": {
        "fr": "La commune {name} n'a pas de position dans les données (commune fusionnée ou "
        "scindée récemment) : choisissez une commune voisine.",
        "en": "The commune {name} has no position in the data (recently merged or split): "
        "choose a neighbouring commune.",
    },
    "oms.commune.bad_link": {
        "fr": "Le lien contient un code commune inconnu ({code}) : cherchez la commune ci-dessous.",
        "en": "The link holds an unknown commune code ({code}): search for the commune below.",
    },
    "oms.commune.former": {"fr": "anciennement", "en": "formerly"},
    # ------------------------------------------------------------------ page: what
    "oms.mode.label": {"fr": "Chercher par", "en": "Search by"},
    "oms.mode.keyword": {"fr": "Maladie ou organe", "en": "Disease or organ"},
    "oms.mode.group": {"fr": "Groupe de maladies", "en": "Disease group"},
    "oms.mode.filiere": {"fr": "Filière de santé", "en": "Rare disease network (filière)"},
    "oms.keyword.label": {"fr": "Maladie ou organe", "en": "Disease or organ"},
    "oms.keyword.placeholder": {
        "fr": "ex. mucoviscidose, rein, peau, épilepsie",
        "en": "e.g. cystic fibrosis, kidney, skin, epilepsy",
    },
    "oms.keyword.help": {
        "fr": "Un nom de maladie courant ou un organe. Accents, majuscules et pluriels "
        "facultatifs. Appuyez sur Entrée pour chercher.",
        "en": "A common disease name or an organ, in English or French. Accents, capitals and "
        "plurals are optional. Press Enter to search.",
    },
    "oms.keyword.matched": {
        "fr": "« {query} » : filière(s) {filieres}.",
        "en": "“{query}”: filière(s) {filieres}.",
    },
    "oms.keyword.prefix": {
        "fr": "« {query} » compris comme « {keyword} ».",
        "en": "“{query}” read as “{keyword}”.",
    },
    "oms.keyword.note": {
        "fr": "{keyword} → {filiere} : {note}",
        "en": "{keyword} → {filiere}: {note}",
    },
    "oms.keyword.none": {
        "fr": "Aucun mot-clé ne correspond à « {query} ». Essayez un mot proche, un groupe de "
        "maladies ou une filière.",
        "en": "No keyword matches “{query}”. Try a close word, a disease group or a filière.",
    },
    "oms.keyword.suggestions": {"fr": "Mots-clés proches :", "en": "Close keywords:"},
    "oms.keyword.examples": {"fr": "Exemples :", "en": "Examples:"},
    "oms.keyword.table": {
        "fr": "Tous les mots-clés reconnus",
        "en": "All recognised keywords",
    },
    "oms.keyword.col_keyword": {"fr": "Mot-clé", "en": "Keyword"},
    "oms.keyword.col_filieres": {"fr": "Filière(s)", "en": "Filière(s)"},
    "oms.keyword.col_note": {"fr": "Précision", "en": "Note"},
    "oms.group.label": {"fr": "Groupe de maladies", "en": "Disease group"},
    "oms.group.empty": {
        "fr": "Ce groupe n'a pas de filière propre : choisissez un autre groupe ou un mot-clé.",
        "en": "This group has no filière of its own: choose another group or a keyword.",
    },
    "oms.group.filieres": {"fr": "Filières du groupe : {filieres}", "en": "Filières: {filieres}"},
    "oms.filiere.label": {"fr": "Filière de santé maladies rares", "en": "Rare disease filière"},
    "oms.filiere.help": {
        "fr": "Les 23 filières de santé maladies rares (FSMR) regroupent les centres par famille "
        "de maladies.",
        "en": "The 23 rare disease networks (FSMR, filières) group the centres by family of "
        "diseases.",
    },
    "oms.n.label": {"fr": "Nombre de centres par niveau", "en": "Centres per level"},
    "oms.vintage.label": {"fr": "Millésime de labellisation", "en": "Labellisation round"},
    "oms.vintage.all": {"fr": "Tous les millésimes chargés", "en": "All loaded rounds"},
    "oms.loading": {
        "fr": "Préparation de la recherche des communes…",
        "en": "Preparing the commune search…",
    },
    "oms.wait": {
        "fr": "Indiquez votre commune et ce que vous cherchez pour voir les centres les plus "
        "proches.",
        "en": "Enter your commune and what you are looking for to see the nearest centres.",
    },
    # ------------------------------------------------------------------ page: results
    "oms.results.title": {
        "fr": "Centres les plus proches de {commune}",
        "en": "Centres nearest to {commune}",
    },
    "oms.results.for": {
        "fr": "Recherche : {what} ({filieres}).",
        "en": "Search: {what} ({filieres}).",
    },
    "oms.results.distance_note": {
        "fr": "Distances à vol d'oiseau (grand cercle, coordonnées WGS84), de la mairie de votre "
        "commune au centre de la commune du site : le trajet réel est plus long.",
        "en": "Straight-line distances (great circle, WGS84 coordinates) from your commune's "
        "town hall to the centre of the site's commune: the real journey is longer.",
    },
    "oms.results.partial": {
        "fr": "Ces données publiques sont **partielles** : un centre plus proche peut exister. "
        "Appelez le service avant de vous déplacer ; votre médecin traitant peut vous orienter.",
        "en": "This public data is **partial**: a nearer centre may exist. Call the department "
        "before travelling; your family doctor can refer you.",
    },
    "oms.results.overseas": {
        "fr": "Vous habitez {in_territory} : les centres situés {in_territory} sont listés "
        "d'abord, puis les centres de référence les plus proches en métropole.",
        "en": "You live {in_territory}: centres {in_territory} come first, then the nearest "
        "reference centres in mainland France.",
    },
    "oms.results.none": {
        "fr": "Aucun centre de ces filières n'est chargé dans les données.",
        "en": "No centre of these filières is in the loaded data.",
    },
    "oms.section.reference": {
        "fr": "Centres de référence les plus proches",
        "en": "Nearest reference centres",
    },
    "oms.section.competence": {
        "fr": "Centres de compétence (CCMR, CRC) les plus proches",
        "en": "Nearest competence centres (CCMR, CRC)",
    },
    "oms.section.reference_in": {
        "fr": "Centres de référence {in_territory}",
        "en": "Reference centres {in_territory}",
    },
    "oms.section.competence_in": {
        "fr": "Centres de compétence (CCMR, CRC) {in_territory}",
        "en": "Competence centres (CCMR, CRC) {in_territory}",
    },
    "oms.section.mainland": {
        "fr": "Centres de référence en métropole",
        "en": "Reference centres in mainland France",
    },
    "oms.section.empty": {
        "fr": "Aucun site de ce niveau n'est connu {in_territory} dans les données chargées.",
        "en": "No site of this level is known {in_territory} in the loaded data.",
    },
    "oms.levels.title": {
        "fr": "Centre de référence, centre de compétence : quelle différence ?",
        "en": "Reference centre, competence centre: what is the difference?",
    },
    "oms.levels.text": {
        "fr": "Un **centre de référence** (CRMR), le plus souvent dans un CHU, a l'expertise la "
        "plus pointue : diagnostic difficile, cas complexes, recherche. Un **centre de "
        "compétence** (CCMR), ou un **centre de ressources et de compétences** (CRC) pour "
        "l'hémophilie, la mucoviscidose et la SLA, assure le diagnostic et le suivi plus près "
        "de chez vous, en lien avec un centre de référence.",
        "en": "A **reference centre** (CRMR), usually in a university hospital, has the most "
        "specialised expertise: difficult diagnosis, complex cases, research. A **competence "
        "centre** (CCMR), or a **resource and competence centre** (CRC) for haemophilia, cystic "
        "fibrosis and ALS, provides diagnosis and follow-up closer to home, together with a "
        "reference centre.",
    },
    "oms.col.rank": {"fr": "N°", "en": "No."},
    "oms.col.establishment": {"fr": "Établissement", "en": "Establishment"},
    "oms.col.service": {"fr": "Service", "en": "Department"},
    "oms.col.network": {"fr": "Réseau (CRMR)", "en": "Network (CRMR)"},
    "oms.col.filiere": {"fr": "Filière", "en": "Filière"},
    "oms.col.label": {"fr": "Label", "en": "Label"},
    "oms.col.commune": {"fr": "Commune", "en": "Commune"},
    "oms.col.distance": {"fr": "Distance (km)", "en": "Distance (km)"},
    "oms.col.where": {"fr": "Où", "en": "Where"},
    "oms.col.level": {"fr": "Niveau", "en": "Level"},
    "oms.level.reference": {"fr": "référence", "en": "reference"},
    "oms.level.competence": {"fr": "compétence", "en": "competence"},
    "oms.where.mainland": {"fr": "en métropole", "en": "in mainland France"},
    "oms.no_establishment": {
        "fr": "(établissement non précisé)",
        "en": "(establishment not stated)",
    },
    # ------------------------------------------------------------------ page: map
    "oms.map.title": {"fr": "Carte", "en": "Map"},
    "oms.map.legend": {
        "fr": "Lecture de la carte : le **cercle blanc à bord noir épais** est votre commune ; "
        "chaque **disque** est une commune où se trouvent des sites (grand disque orange : "
        "site de référence ; petit disque bleu ou vert : centre de compétence ou CRC) ; un "
        "**trait plein** relie votre commune à chaque site de votre territoire, un **trait en "
        "pointillés** à chaque site en métropole. Cliquez ou touchez un disque pour le détail. "
        "Le tableau ci-dessous donne les mêmes informations.",
        "en": "Reading the map: the **white circle with a thick black edge** is your commune; "
        "each **disc** is a commune holding sites (large orange disc: reference site; small "
        "blue or green disc: competence centre or CRC); a **solid line** joins your commune to "
        "each site of your territory, a **dashed line** to each site in mainland France. Click "
        "or tap a disc for details. The table below gives the same information.",
    },
    "oms.map.origin": {"fr": "Votre commune : {name}", "en": "Your commune: {name}"},
    "oms.map.service": {"fr": "Service", "en": "Department"},
    "oms.map.network": {"fr": "Réseau", "en": "Network"},
    "oms.map.filiere": {"fr": "Filière", "en": "Filière"},
    "oms.map.level": {"fr": "Niveau", "en": "Level"},
    "oms.map.distance": {"fr": "{km} km à vol d'oiseau", "en": "{km} km in a straight line"},
    "oms.map.sites_here": {
        "fr": "{count} site(s) à {commune}",
        "en": "{count} site(s) in {commune}",
    },
    # ------------------------------------------------------------------ page: print, share
    "oms.print.toggle": {"fr": "Version imprimable", "en": "Printable version"},
    "oms.print.help": {
        "fr": "Masque la carte et présente un tableau simple, prêt à imprimer (Ctrl+P).",
        "en": "Hides the map and shows a plain table, ready to print (Ctrl+P).",
    },
    "oms.print.heading": {
        "fr": "Centres maladies rares les plus proches de {commune} — {what}",
        "en": "Rare disease centres nearest to {commune} — {what}",
    },
    "oms.share.title": {"fr": "Partager cette recherche", "en": "Share this search"},
    "oms.share.caption": {
        "fr": "Ce lien rouvre la même recherche (commune, recherche, nombre de centres).",
        "en": "This link reopens the same search (commune, search, number of centres).",
    },
    "oms.download": {"fr": "Télécharger le tableau (CSV)", "en": "Download the table (CSV)"},
    # ------------------------------------------------------------------ labels
    "label.crmr_coordonnateur": {
        "fr": "CRMR – site coordonnateur",
        "en": "CRMR – coordinating site",
    },
    "label.crmr_constitutif": {"fr": "CRMR – site constitutif", "en": "CRMR – constituent site"},
    "label.crmr_site": {
        "fr": "CRMR – site (rôle non précisé)",
        "en": "CRMR – site (role not stated)",
    },
    "label.ccmr": {"fr": "Centre de compétence (CCMR)", "en": "Competence centre (CCMR)"},
    "label.crc": {
        "fr": "Centre de ressources et de compétences (CRC)",
        "en": "Resource and competence centre (CRC)",
    },
    "label.collaborateur": {"fr": "Centre collaborateur", "en": "Collaborating centre"},
    "label.pemr": {"fr": "Plateforme d'expertise (PEMR)", "en": "Expertise platform (PEMR)"},
    # ------------------------------------------------------------------ territories
    "territory.metropole": {"fr": "métropole", "en": "mainland France"},
    "territory.971": {"fr": "Guadeloupe", "en": "Guadeloupe"},
    "territory.972": {"fr": "Martinique", "en": "Martinique"},
    "territory.973": {"fr": "Guyane", "en": "French Guiana"},
    "territory.974": {"fr": "La Réunion", "en": "Réunion"},
    "territory.976": {"fr": "Mayotte", "en": "Mayotte"},
    "territory_in.metropole": {"fr": "en métropole", "en": "in mainland France"},
    "territory_in.971": {"fr": "en Guadeloupe", "en": "in Guadeloupe"},
    "territory_in.972": {"fr": "en Martinique", "en": "in Martinique"},
    "territory_in.973": {"fr": "en Guyane", "en": "in French Guiana"},
    "territory_in.974": {"fr": "à La Réunion", "en": "in Réunion"},
    "territory_in.976": {"fr": "à Mayotte", "en": "in Mayotte"},
    # ------------------------------------------------------------------ filières (scope)
    "filiere.AnDDI-Rares": {
        "fr": "anomalies du développement et syndromes malformatifs",
        "en": "developmental anomalies and malformation syndromes",
    },
    "filiere.BRAIN-TEAM": {
        "fr": "maladies rares du système nerveux central",
        "en": "rare diseases of the central nervous system",
    },
    "filiere.CARDIOGEN": {
        "fr": "maladies cardiaques héréditaires ou rares",
        "en": "inherited or rare heart diseases",
    },
    "filiere.DéfiScience": {
        "fr": "développement cérébral, déficience intellectuelle, épilepsies rares",
        "en": "brain development, intellectual disability, rare epilepsies",
    },
    "filiere.FAI2R": {
        "fr": "maladies auto-immunes et auto-inflammatoires rares",
        "en": "rare autoimmune and autoinflammatory diseases",
    },
    "filiere.FAVA-Multi": {
        "fr": "maladies vasculaires rares (dont Marfan, Rendu-Osler)",
        "en": "rare vascular diseases (including Marfan, HHT)",
    },
    "filiere.FILFOIE": {"fr": "maladies rares du foie", "en": "rare liver diseases"},
    "filiere.FILNEMUS": {"fr": "maladies neuromusculaires", "en": "neuromuscular diseases"},
    "filiere.FILSLAN": {
        "fr": "sclérose latérale amyotrophique (SLA) et maladies du neurone moteur",
        "en": "amyotrophic lateral sclerosis (ALS) and motor neuron diseases",
    },
    "filiere.FIMARAD": {
        "fr": "maladies rares de la peau et des muqueuses",
        "en": "rare skin and mucosal diseases",
    },
    "filiere.FIMATHO": {
        "fr": "malformations abdomino-thoraciques, maladies digestives rares",
        "en": "abdominal and thoracic malformations, rare digestive diseases",
    },
    "filiere.FIRENDO": {"fr": "maladies endocriniennes rares", "en": "rare endocrine diseases"},
    "filiere.G2M": {
        "fr": "maladies héréditaires du métabolisme",
        "en": "inherited metabolic diseases",
    },
    "filiere.MaRIH": {
        "fr": "maladies rares immuno-hématologiques (aplasies, cytopénies, déficits immunitaires)",
        "en": "rare immuno-haematological diseases (aplastic anaemia, cytopenias, immune "
        "deficiencies)",
    },
    "filiere.MCGRE": {
        "fr": "maladies du globule rouge (drépanocytose, thalassémies)",
        "en": "red blood cell diseases (sickle cell disease, thalassaemias)",
    },
    "filiere.MHEMO": {
        "fr": "maladies hémorragiques constitutionnelles (hémophilie, Willebrand)",
        "en": "inherited bleeding disorders (haemophilia, von Willebrand disease)",
    },
    "filiere.MUCO-CFTR": {
        "fr": "mucoviscidose et affections liées à CFTR",
        "en": "cystic fibrosis and CFTR-related disorders",
    },
    "filiere.NeuroSphinx": {
        "fr": "malformations pelviennes et médullaires (spina bifida…)",
        "en": "pelvic and spinal cord malformations (spina bifida…)",
    },
    "filiere.ORKiD": {"fr": "maladies rénales rares", "en": "rare kidney diseases"},
    "filiere.OSCAR": {
        "fr": "maladies rares de l'os, du calcium et du cartilage",
        "en": "rare bone, calcium and cartilage diseases",
    },
    "filiere.RespiFIL": {"fr": "maladies respiratoires rares", "en": "rare respiratory diseases"},
    "filiere.SENSGENE": {
        "fr": "maladies rares sensorielles (yeux, oreilles)",
        "en": "rare sensory diseases (eyes, ears)",
    },
    "filiere.TETECOU": {
        "fr": "malformations rares de la tête, du cou et des dents",
        "en": "rare head, neck and dental malformations",
    },
    # ------------------------------------------------------------------ disease groups (2007)
    "group.1": {
        "fr": "Maladies auto-immunes et systémiques",
        "en": "Autoimmune and systemic diseases",
    },
    "group.2": {"fr": "Maladies cardio-vasculaires", "en": "Cardiovascular diseases"},
    "group.3": {
        "fr": "Anomalies du développement embryonnaire d'origine génétique",
        "en": "Genetic anomalies of embryonic development",
    },
    "group.4": {"fr": "Maladies dermatologiques", "en": "Skin diseases"},
    "group.5": {"fr": "Maladies endocriniennes", "en": "Endocrine diseases"},
    "group.6": {
        "fr": "Maladies hépato-gastro-entérologiques",
        "en": "Liver and digestive diseases",
    },
    "group.7": {
        "fr": "Maladies hématologiques non malignes",
        "en": "Non-malignant blood diseases",
    },
    "group.8": {"fr": "Maladies héréditaires du métabolisme", "en": "Inherited metabolic diseases"},
    "group.9": {"fr": "Maladies neurologiques", "en": "Neurological diseases"},
    "group.10": {"fr": "Maladies neuromusculaires", "en": "Neuromuscular diseases"},
    "group.11": {"fr": "Maladies pulmonaires", "en": "Lung diseases"},
    "group.12": {
        "fr": "Maladies sensorielles (ophtalmologie, surdités)",
        "en": "Sensory diseases (eyes, deafness)",
    },
    "group.13": {"fr": "Maladies rénales", "en": "Kidney diseases"},
    "group.14": {"fr": "Maladies osseuses", "en": "Bone diseases"},
    "group.15": {"fr": "Déficits immunitaires", "en": "Immune deficiencies"},
    "group.16": {"fr": "Maladies de la trame conjonctive", "en": "Connective tissue diseases"},
    "group.17": {"fr": "Autres", "en": "Other"},
}


def current_lang() -> str:
    """The interface language: ``st.session_state["lang"]`` if known, else ``"fr"``."""
    lang = st.session_state.get("lang", DEFAULT_LANG)
    return lang if lang in LANGS else DEFAULT_LANG


def translate(key: str, lang: str, **fmt) -> str:
    """The string ``key`` in ``lang`` (French when unknown), formatted with ``fmt``.

    ``KeyError`` for an unknown key (a bug, not a user problem).

    >>> translate("oms.commune.chosen", "en", label="Paris (75)")
    'Commune: **Paris (75)**'
    """
    entry = STRINGS[key]
    text = entry.get(lang) or entry[DEFAULT_LANG]
    return text.format(**fmt) if fmt else text


def t(key: str, **fmt) -> str:
    """The string ``key`` in the current interface language, formatted with ``fmt``."""
    return translate(key, current_lang(), **fmt)


def placeholders(text: str) -> set[str]:
    """The ``str.format`` field names of a string."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


def md(text: object) -> str:
    """Escape data text for a Markdown element: no link, emphasis, HTML or LaTeX survives.

    Every ASCII punctuation character that Markdown, GFM autolinks or Streamlit's
    directives (``:red[…]``, ``$…$``) use is backslash-escaped.
    """
    return _MD_SPECIAL.sub(r"\\\1", str(text))
