"""Specification of "Bring your own list": importing a coordinator's CSV/XLSX (geo/importer.py)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from geo import importer
from geo.centres import REQUIRED_COLUMNS, load_centres, prepare_centres
from geo.cli_import import main as cli_main
from geo.errors import DataFileError
from geo.importer import (
    ImportContext,
    ImportFileError,
    escape_markdown,
    field_of_header,
    import_bytes,
    import_file,
    normalise_age_group,
    normalise_filiere,
    normalise_label,
    normalise_vintage,
)

FIXTURES = Path(__file__).parent / "fixtures" / "import"
HEADER = "Filière,Label,Établissement,Ville,Code postal,Millésime,Source"
URL = "https://example.org/centres"


@pytest.fixture(scope="module")
def ctx(commune_index, communes, departements, regions):
    """The import context built from the embedded territories (shared, read-only)."""
    return ImportContext(commune_index, communes, departements, regions)


def run(text: str, ctx, encoding: str = "utf-8", name: str = "liste.csv", **kwargs):
    """Import CSV text encoded as given."""
    return import_bytes(text.encode(encoding), name, context=ctx, **kwargs)


def row(*cells: str) -> str:
    return ",".join(cells)


def site(
    city: str = "Lyon",
    postal: str = "",
    label: str = "CCMR",
    filiere: str = "FILNEMUS",
    establishment: str = "CHU",
    vintage: str = "2023-2028",
    url: str = URL,
) -> str:
    return row(filiere, label, establishment, city, postal, vintage, url)


def table(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def outcome(result, source_row: int) -> dict:
    """The per-row outcome (status, placement, commune_code, reason) of one file row."""
    detail = result.rows.set_index("source_row")
    return detail.loc[source_row].to_dict()


def xlsx_bytes(sheets: dict[str, list[list]]) -> bytes:
    """An XLSX workbook with the given sheets (name → rows of values), first sheet first."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for values in rows:
            ws.append(values)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def assert_balanced(report: dict) -> None:
    assert report["accepted"] + report["warned"] + report["rejected"] == report["rows_read"]
    assert len(report["warnings"]) == report["warned"]
    assert len(report["rejections"]) == report["rejected"]


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize("delimiter", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_separator_is_detected(ctx, delimiter):
    """Comma, semicolon and tab separated files give the same import."""
    text = table(site("Lyon"), site("Bordeaux")).replace(",", delimiter)
    result = run(text, ctx)
    assert result.report["file"]["delimiter"] == delimiter
    assert list(result.registry["commune_code"]) == ["69123", "33063"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_encoding_is_detected(ctx, encoding):
    """UTF-8, UTF-8 with BOM and Windows-1252 files keep their accents."""
    text = table(site("Besançon", establishment="Hôpital Jean-Minjoz – CHU"))
    result = run(text, ctx, encoding=encoding)
    assert result.registry.loc[0, "establishment"] == "Hôpital Jean-Minjoz – CHU"
    assert result.registry.loc[0, "commune_code"] == "25056"
    assert result.report["columns"]["Établissement"] == "establishment"


def test_latin1_bytes_undefined_in_cp1252_still_read(ctx):
    """Bytes that Windows-1252 leaves undefined fall back to Latin-1 instead of failing."""
    data = table(site("Lyon", establishment="CHU\x81")).encode("latin-1")
    result = import_bytes(data, "l.csv", context=ctx)
    assert result.report["file"]["encoding"] == "latin-1"
    assert len(result.registry) == 1


def test_utf16_unicode_text_export_is_read(ctx):
    """Excel's "texte Unicode" export (UTF-16 with BOM, tab-separated) is read."""
    text = table(site("Nantes")).replace(",", "\t")
    result = import_bytes(text.encode("utf-16"), "export.txt", context=ctx)
    assert result.registry.loc[0, "commune_code"] == "44109"


def test_xlsx_first_sheet_is_read_by_default(ctx):
    """Without a sheet name the first sheet is imported, whatever the active sheet."""
    data = xlsx_bytes(
        {
            "Centres": [HEADER.split(","), site("Lille").split(",")],
            "Notes": [["Rien à importer ici"]],
        }
    )
    result = import_bytes(data, "liste.xlsx", context=ctx)
    assert result.report["file"]["format"] == "xlsx"
    assert result.report["file"]["sheet"] == "Centres"
    assert list(result.registry["commune_code"]) == ["59350"]


def test_xlsx_named_sheet_is_read(ctx):
    """A named sheet is read (name compared without case or accents)."""
    data = xlsx_bytes(
        {
            "Lisez-moi": [["Ce classeur liste les centres"]],
            "Sites 2023": [HEADER.split(","), site("Rennes").split(",")],
        }
    )
    result = import_bytes(data, "liste.xlsx", sheet="SITES 2023", context=ctx)
    assert result.report["file"]["sheet"] == "Sites 2023"
    assert list(result.registry["commune_code"]) == ["35238"]


def test_xlsx_wrong_sheet_names_the_available_sheets(ctx):
    """An unknown sheet is a clear error listing the sheets of the workbook."""
    data = xlsx_bytes({"Centres": [HEADER.split(",")], "Annexe": [["x"]]})
    with pytest.raises(
        ImportFileError,
        match=r"Feuille « Sites » introuvable.*« Centres », "
        r"« Annexe »",
    ):
        import_bytes(data, "liste.xlsx", sheet="Sites", context=ctx)


def test_xlsx_numbers_are_read_as_text(ctx):
    """Numeric cells: a postal code that lost its leading zero, a year, coordinates."""
    rows = [
        ["Filière", "Label", "Ville", "CP", "Millésime", "Latitude", "Longitude", "Source"],
        ["FILNEMUS", "CCMR", "Bourg-en-Bresse", 1000, 2020, None, None, URL],
        ["FILNEMUS", "CCMR", "Lyon", None, 2020, 45.7578, 4.832, URL],
    ]
    result = import_bytes(xlsx_bytes({"S": rows}), "n.xlsx", context=ctx)
    assert list(result.registry["commune_code"]) == ["01053", "69123"]
    assert list(result.registry["vintage"]) == ["2020", "2020"]
    assert result.registry.loc[1, "lat"] == pytest.approx(45.7578)


def test_xlsx_title_rows_count_in_source_row(ctx):
    """In a workbook, source_row is the sheet's row number (title and blank rows counted)."""
    rows = [["Liste des centres (DGOS)"], [], HEADER.split(","), site("Caen").split(",")]
    result = import_bytes(xlsx_bytes({"S": rows}), "t.xlsx", context=ctx)
    assert result.report["file"]["header_row"] == 3
    assert list(result.registry["source_row"]) == [4]


def test_fixture_dgos_table_with_title_lines(ctx):
    """A DGOS-style table (title lines, semicolons, Windows-1252) is read from its header."""
    result = import_file(FIXTURES / "dgos_titles_semicolon_cp1252.csv", context=ctx)
    report = result.report
    assert report["file"] == {
        "name": "dgos_titles_semicolon_cp1252.csv",
        "format": "csv",
        "encoding": "cp1252",
        "delimiter": ";",
        "sheet": None,
        "header_row": 4,
    }
    assert report["rows_read"] == 9
    assert {r["row"] for r in report["rejections"]} == {11, 12, 13}
    assert list(result.registry["source_row"]) == [5, 6, 7, 8, 9, 10]
    assert set(result.registry["filiere"]) == {"FILNEMUS", "FAI2R"}
    assert result.registry.loc[3, "vintage"] == "2023-2028"  # written "2023 – 2028"


def test_title_lines_above_the_header_are_skipped(ctx):
    """Title lines are not rows: the header is found below them and noted in the report."""
    text = "Liste officielle des centres\nMise à jour : mars 2024\n" + table(site("Lyon"))
    result = run(text, ctx)
    assert result.report["file"]["header_row"] == 3
    assert result.report["rows_read"] == 1
    assert "2 ligne(s) de titre" in result.report["notes"][0]


# --------------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("  NOM DE L’ÉTABLISSEMENT ", "establishment"),
        ("nom_de_l'etablissement", "establishment"),
        ("Hôpital", "establishment"),
        ("COMMUNE", "city"),
        ("C.P.", "postal_code"),
        ("code-postal", "postal_code"),
        ("Dép.", "department"),
        ("Type de centre", "label"),
        ("Statut", "label"),
        ("FSMR", "filiere"),
        ("Intitulé", "crmr_name"),
        ("CRMR", "crmr_name"),
        ("Ville (commune)", "city"),
        ("LATITUDE", "lat"),
        ("Long", "lon"),
        ("Tranche d'âge", "age_group"),
        ("Millésime", "vintage"),
        ("source_url", "source_url"),
        ("Code INSEE", "commune_code"),
        ("Responsable médical", None),
    ],
)
def test_header_aliases(header, field):
    """Headers are recognised whatever their case, accents, punctuation or spacing."""
    assert field_of_header(header) == field


def test_odd_headers_import(ctx):
    """A file whose headers are aliases in odd spellings imports like a clean one."""
    header = " FILIERE ;  type DE centre;NOM DE L’ÉTABLISSEMENT;commune;C.P.;Dép.;millesime;URL"
    text = header + "\nMHEMO;Centre de compétence;CHU;Saint-Martin;;67;2017-2022;" + URL + "\n"
    result = run(text, ctx)
    assert result.registry.loc[0, "commune_code"] == "67426"
    assert result.registry.loc[0, "label"] == "ccmr"
    assert result.report["ignored_columns"] == []


def test_unknown_columns_are_listed_as_ignored(ctx):
    """Columns no alias knows are ignored and listed in the report."""
    text = table(site("Lyon") + ",Dr Dupont", header=HEADER + ",Responsable")
    result = run(text, ctx)
    assert result.report["ignored_columns"] == ["Responsable"]
    assert "Dr Dupont" not in result.registry.to_string()


def test_mapping_reads_an_unknown_column(ctx):
    """--map "Localisation=city" makes an unrecognised column the city."""
    text = "Filière,Label,Localisation,Millésime\nFILNEMUS,CCMR,Brest,2020\n"
    result = run(text, ctx, mapping={"Localisation": "city"})
    assert result.report["columns"]["Localisation"] == "city"
    assert list(result.registry["commune_code"]) == ["29019"]


def test_mapping_accepts_a_french_field_alias(ctx):
    """The mapped field may be written as one of its aliases ("ville")."""
    text = "Filière,Label,Lieu\nFILNEMUS,CCMR,Brest\n"
    result = run(text, ctx, mapping={"lieu": "Ville"})
    assert list(result.registry["commune_code"]) == ["29019"]


def test_mapping_overrides_an_alias(ctx):
    """A mapping wins over an alias: "Site" as the city, not the establishment."""
    text = "Filière,Label,Site,Ville du siège\nFILNEMUS,CCMR,Brest,Paris\n"
    result = run(text, ctx, mapping={"Site": "city", "Ville du siège": "ignore"})
    assert list(result.registry["commune_code"]) == ["29019"]
    assert "Ville du siège" in result.report["ignored_columns"]


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"Lieu": "adresse mail"}, "Champ « adresse mail » inconnu"),
        ({"Absente": "city"}, "« Absente » absente"),
    ],
    ids=["unknown-field", "unknown-column"],
)
def test_bad_mapping_is_a_clear_error(ctx, mapping, message):
    """A mapping to an unknown field or from a missing column says so."""
    with pytest.raises(ImportFileError, match=message):
        run("Filière,Label,Lieu\nFILNEMUS,CCMR,Brest\n", ctx, mapping=mapping)


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("spelling", "label"),
    [
        ("Site coordonnateur", "crmr_coordonnateur"),
        ("CRMR coordonnateur", "crmr_coordonnateur"),
        ("coordonnateur", "crmr_coordonnateur"),
        ("Centre de référence coordonnateur", "crmr_coordonnateur"),
        ("Site constitutif", "crmr_constitutif"),
        ("Centre de référence (constitutif)", "crmr_constitutif"),
        ("CRMR - site constitutif", "crmr_constitutif"),
        ("constitutif", "crmr_constitutif"),
        ("reference", "crmr_site"),
        ("Centre de référence", "crmr_site"),
        ("CRMR", "crmr_site"),
        ("CCMR", "ccmr"),
        ("Centre de compétence", "ccmr"),
        ("centre de competences", "ccmr"),
        ("competence", "ccmr"),
        ("CRC", "crc"),
        ("CRCM", "crc"),
        ("CRCM pédiatrique", "crc"),
        ("Centre de ressources et de compétences", "crc"),
        ("crc", "crc"),
        ("centre collaborateur", "collaborateur"),
        ("collaborateur", "collaborateur"),
        ("PEMR", "pemr"),
        ("Plateforme d'expertise maladies rares", "pemr"),
        ("crmr_site", "crmr_site"),
        ("Responsable", None),
        ("", None),
    ],
)
def test_label_spellings(spelling, label):
    """Usual label spellings map to the registry labels; others are not guessed."""
    assert normalise_label(spelling) == label


@pytest.mark.parametrize(
    ("spelling", "filiere"),
    [
        ("FAI²R", "FAI2R"),
        ("fai2r", "FAI2R"),
        ("Defiscience", "DéfiScience"),
        ("DÉFISCIENCE", "DéfiScience"),
        ("anddi rares", "AnDDI-Rares"),
        ("Filière FILNEMUS", "FILNEMUS"),
        ("muco cftr", "MUCO-CFTR"),
        ("Brain Team", "BRAIN-TEAM"),
        ("marih", "MaRIH"),
        ("FILNEMUSS", None),
    ],
)
def test_filiere_spellings(spelling, filiere):
    """Filière names are normalised to the canonical 23 (case, accents, "²", spaces)."""
    assert normalise_filiere(spelling) == filiere


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Pédiatrique", "pediatric"),
        ("Enfants", "pediatric"),
        ("adultes", "adult"),
        ("Adultes et enfants", "both"),
        ("mixte", "both"),
        ("", "unknown"),
        ("seniors", None),
    ],
)
def test_age_group_spellings(value, expected):
    """Age groups in French or English map to the registry values."""
    assert normalise_age_group(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-2028", "2023-2028"),
        ("2023 – 2028", "2023-2028"),
        ("2017/2022", "2017-2022"),
        ("2023-28", "2023-2028"),
        ("avant 2017", "before-2017"),
        ("before-2017", "before-2017"),
        ("2020", "2020"),
        ("", "unknown"),
        ("inconnu", "unknown"),
        ("bientôt", None),
        ("2028-2023", None),
    ],
)
def test_vintage_spellings(value, expected):
    """Labellisation rounds are normalised; unreadable values give None."""
    assert normalise_vintage(value) == expected


def test_missing_label_is_rejected_with_the_fix(ctx):
    """A row without label is rejected, the reason listing what to write."""
    result = run(table(site("Lyon", label="")), ctx)
    assert outcome(result, 2)["status"] == "rejected"
    assert "label manquant" in outcome(result, 2)["reason"]


def test_unknown_label_is_rejected(ctx):
    """A label that matches no spelling is rejected, never guessed."""
    result = run(table(site("Lyon", label="Labellisé")), ctx)
    assert "label « Labellisé » non reconnu" in outcome(result, 2)["reason"]


def test_missing_filiere_is_rejected(ctx):
    """A non-PEMR row without filière is rejected."""
    result = run(table(site("Lyon", filiere="")), ctx)
    assert "filière manquante" in outcome(result, 2)["reason"]


def test_unknown_filiere_suggests_the_closest(ctx):
    """An unknown filière is rejected with the closest canonical name."""
    result = run(table(site("Lyon", filiere="FILNEMOS")), ctx)
    assert "vouliez-vous dire « FILNEMUS »" in outcome(result, 2)["reason"]


def test_pemr_without_filiere_is_accepted(ctx):
    """A PEMR needs no filière."""
    result = run(table(site("Lille", label="PEMR", filiere="")), ctx)
    assert result.registry.loc[0, "label"] == "pemr"
    assert result.registry.loc[0, "filiere"] == ""


def test_several_reasons_are_given_at_once(ctx):
    """A row with several problems gets every reason, joined by " ; "."""
    result = run(table(site("Atlantide", label="", filiere="")), ctx)
    reason = outcome(result, 2)["reason"]
    assert "label manquant" in reason and "filière manquante" in reason
    assert "introuvable" in reason


def test_missing_vintage_is_unknown_with_a_warning(ctx):
    """An empty vintage becomes unknown, with a warning."""
    result = run(table(site("Lyon", vintage="")), ctx)
    assert result.registry.loc[0, "vintage"] == "unknown"
    assert "millésime absent" in outcome(result, 2)["reason"]


def test_missing_age_group_is_unknown_without_warning(ctx):
    """Without an age column every site is "unknown" and no warning is raised for it."""
    result = run(table(site("Lyon")), ctx)
    assert result.registry.loc[0, "age_group"] == "unknown"
    assert outcome(result, 2)["status"] == "accepted"


def test_missing_source_is_kept_empty_with_a_warning(ctx):
    """A row without source URL is accepted with the warning « sans source »."""
    result = run(table(site("Lyon", url="")), ctx)
    assert result.registry.loc[0, "source_url"] == ""
    assert outcome(result, 2)["status"] == "warned"
    assert "sans source" in outcome(result, 2)["reason"]


def test_non_http_link_scheme_is_dropped(ctx):
    """A javascript: or data: "source" is dropped with a warning."""
    result = run(table(site("Lyon", url="javascript:alert(1)")), ctx)
    assert result.registry.loc[0, "source_url"] == ""
    assert "seuls les liens http(s)" in outcome(result, 2)["reason"]


# --------------------------------------------------------------------------- placement


def test_homonym_without_hint_is_rejected_with_candidates(ctx):
    """Saint-Martin (4 communes) without postal code is rejected, the candidates listed."""
    result = run(table(site("Saint-Martin")), ctx)
    got = outcome(result, 2)
    assert got["status"] == "rejected"
    assert got["placement"] == "ambiguous"
    for candidate in ("32389", "54480", "65392", "67426"):
        assert candidate in got["reason"]


@pytest.mark.parametrize(
    ("postal", "department", "expected"),
    [("67220", "", "67426"), ("", "65", "65392"), ("", "Hautes-Pyrénées", "65392")],
    ids=["postal-code", "departement-code", "departement-name"],
)
def test_homonym_with_postal_code_or_departement_is_accepted(ctx, postal, department, expected):
    """A postal code or a département picks the right Saint-Martin."""
    header = HEADER + ",Département"
    result = run(table(site("Saint-Martin", postal=postal) + "," + department, header=header), ctx)
    assert list(result.registry["commune_code"]) == [expected]


def test_dominant_homonym_is_accepted_with_a_warning(ctx):
    """La Rochelle goes to the town of 75,000, with a warning naming the village."""
    result = run(table(site("La Rochelle")), ctx)
    assert result.registry.loc[0, "commune_code"] == "17300"
    assert "homonyme" in outcome(result, 2)["reason"]


def test_region_column_narrows_homonyms(ctx):
    """A région column picks the homonym inside it (Saint-Martin, Grand Est → 54 or 67)."""
    header = HEADER + ",Région"
    result = run(table(site("Saint-Martin") + ",Occitanie", header=header), ctx)
    assert outcome(result, 2)["status"] == "rejected"  # 32 and 65 are both in Occitanie
    result = run(table(site("Saint-Pierre") + ",La Réunion-Mayotte", header=header), ctx)
    assert list(result.registry["commune_code"]) == ["97416"]


@pytest.mark.parametrize(
    ("city", "postal"), [("Paris", "75015"), ("Paris 15e", ""), ("", "75015"), ("PARIS", "75 015")]
)
def test_paris_arrondissement_postal_code(ctx, city, postal):
    """Paris with an arrondissement postal code (or alone) is the commune 75056."""
    result = run(table(site(city, postal=postal)), ctx)
    assert list(result.registry["commune_code"]) == ["75056"]
    assert outcome(result, 2)["placement"] == "commune"


def test_site_is_placed_at_its_commune_point(ctx, communes):
    """Without coordinates a site takes its commune's representative point."""
    result = run(table(site("Dijon")), ctx)
    point = communes.set_index("code").loc["21231", ["lon", "lat"]]
    assert result.registry.loc[0, ["lon", "lat"]].tolist() == pytest.approx(point.tolist())


def test_unknown_city_is_rejected_with_a_suggestion(ctx):
    """A misspelt city is rejected with close spellings."""
    result = run(table(site("Montpelier")), ctx)
    got = outcome(result, 2)
    assert got["placement"] == "not_found"
    assert "Montpellier (34)" in got["reason"]


def test_city_outside_the_stated_departement_is_rejected(ctx):
    """A département column is a constraint: the reason names the city's real one."""
    header = HEADER + ",Département"
    result = run(table(site("Lyon") + ",13", header=header), ctx)
    assert "n'est pas dans le département 13 mais dans le 69" in outcome(result, 2)["reason"]


def test_postal_code_contradicting_the_city_warns(ctx):
    """A postal code of another département than the city gives a warning."""
    result = run(table(site("Lyon", postal="13005")), ctx)
    assert result.registry.loc[0, "commune_code"] == "69123"
    assert "ne correspond pas à Lyon (69)" in outcome(result, 2)["reason"]


def test_no_location_is_rejected(ctx):
    """A row with neither city, postal code nor coordinates is rejected."""
    result = run(table(site("")), ctx)
    assert "ni ville, ni code postal" in outcome(result, 2)["reason"]


def test_commune_code_column_places_the_site(ctx):
    """An INSEE code column places the site directly (arrondissement codes → the city)."""
    text = "Filière,Label,Code INSEE\nFILNEMUS,CCMR,75113\nFILNEMUS,CCMR,1053\n"
    result = run(text, ctx)
    assert list(result.registry["commune_code"]) == ["75056", "01053"]


COORD_HEADER = HEADER + ",Latitude,Longitude,Département"


def coords(city: str, lat: str, lon: str, dep: str = "") -> str:
    return site(city) + f",{lat},{lon},{dep}"


def test_coordinates_inside_france_are_kept(ctx):
    """Given coordinates in France are kept as given, the commune taken from the city."""
    result = run(table(coords("Lyon", "45.7485", "4.8467"), header=COORD_HEADER), ctx)
    assert result.registry.loc[0, ["lat", "lon"]].tolist() == [45.7485, 4.8467]
    assert result.registry.loc[0, "commune_code"] == "69123"
    assert outcome(result, 2)["placement"] == "coordinates"


def test_coordinates_with_decimal_comma_and_no_city(ctx):
    """Decimal commas are read; without city the commune is the one under the point."""
    text = "Filière;Label;Latitude;Longitude;Source\nFILNEMUS;CCMR;43,6045;1,4440;" + URL + "\n"
    result = run(text, ctx)
    assert result.registry.loc[0, "commune_code"] == "31555"  # Toulouse


def test_coordinates_outside_france_are_rejected(ctx):
    """Coordinates outside France (here in Madrid) are rejected."""
    result = run(table(coords("Lyon", "40.4168", "-3.7038"), header=COORD_HEADER), ctx)
    assert "hors de France" in outcome(result, 2)["reason"]


def test_swapped_coordinates_are_reported_as_swapped(ctx):
    """Latitude and longitude exchanged: the reason says so."""
    result = run(table(coords("Lyon", "4.8467", "45.7485"), header=COORD_HEADER), ctx)
    assert "inversées" in outcome(result, 2)["reason"]


def test_coordinates_in_another_departement_are_rejected(ctx):
    """Coordinates in Lyon (69) for a row stating département 13 are rejected."""
    result = run(table(coords("", "45.7485", "4.8467", dep="13"), header=COORD_HEADER), ctx)
    got = outcome(result, 2)
    assert got["status"] == "rejected"
    assert "du département 13" in got["reason"] and "Lyon (69)" in got["reason"]


def test_coordinates_far_from_the_city_are_rejected(ctx):
    """Coordinates in Marseille for a row saying Lyon are rejected (city's département)."""
    result = run(table(coords("Lyon", "43.2965", "5.3698"), header=COORD_HEADER), ctx)
    assert "commune Lyon" in outcome(result, 2)["reason"]


def test_coordinates_just_outside_a_simplified_border_are_tolerated(ctx, departements):
    """A point less than 2 km outside the stated département's polygon is accepted."""
    lyon_dep = departements.set_index("code").loc["69", "geometry"]
    parts = getattr(lyon_dep, "geoms", [lyon_dep])
    lon, lat = max((xy for p in parts for xy in p.exterior.coords), key=lambda xy: xy[0])
    lon += 0.005  # ~400 m east of the easternmost vertex
    assert 0 < ctx.km_outside("69", lon, lat) < importer.DEPARTEMENT_TOLERANCE_KM
    result = run(table(coords("", f"{lat:.5f}", f"{lon:.5f}", dep="69"), header=COORD_HEADER), ctx)
    assert outcome(result, 2)["status"] != "rejected", outcome(result, 2)


def test_one_coordinate_only_is_rejected(ctx):
    """A latitude without longitude is rejected."""
    result = run(table(coords("Lyon", "45.7", ""), header=COORD_HEADER), ctx)
    assert "latitude ou longitude manquante" in outcome(result, 2)["reason"]


# --------------------------------------------------------------------------- accounting


def test_accounting_balances_on_a_mixed_file(ctx):
    """accepted + warned + rejected = rows read; blank rows are counted apart."""
    text = table(
        site("Lyon"), site("Lyon", url=""), "", site("Atlantide"), ",,,,,,", site("Saint-Martin")
    )
    report = run(text, ctx).report
    assert (report["rows_read"], report["accepted"], report["warned"], report["rejected"]) == (
        4,
        1,
        1,
        2,
    )
    assert report["blank_rows"] == 2
    assert_balanced(report)


def test_source_row_is_the_spreadsheet_row(ctx):
    """source_row counts title lines, the header, blank lines and one row per quoted record."""
    text = (
        "Titre\n"
        + HEADER
        + "\n"
        + site("Lyon")
        + "\n\n"
        + row("FILNEMUS", "CCMR", '"CHU\nsur deux lignes"', "Caen", "", "2020", URL)
        + "\n"
        + site("Brest")
        + "\n"
    )
    result = run(text, ctx)
    assert list(result.registry["source_row"]) == [3, 5, 6]


def test_registry_has_the_schema_and_passes_validation(ctx, communes):
    """The output has the registry columns plus source_row and passes prepare_centres."""
    result = run(table(site("Lyon"), site("Lille", label="PEMR", filiere="")), ctx)
    assert list(result.registry.columns) == [*REQUIRED_COLUMNS, "vintage_note", "source_row"]
    prepared = prepare_centres(result.registry, communes)
    assert list(prepared["dep"]) == ["69", "59"]


def test_ids_are_stable_across_row_order(ctx):
    """Hash ids depend on content, not on position in the file."""
    a = run(table(site("Lyon"), site("Brest")), ctx).registry
    b = run(table(site("Brest"), site("Lyon")), ctx).registry
    assert dict(zip(a["commune_code"], a["id"], strict=True)) == dict(
        zip(b["commune_code"], b["id"], strict=True)
    )


def test_own_unique_ids_are_kept_and_repeats_replaced(ctx):
    """The file's id column is used when unique; a repeated id is replaced with a warning."""
    header = "ID," + HEADER
    text = table("A1," + site("Lyon"), "B2," + site("Brest"), "B2," + site("Caen"), header=header)
    result = run(text, ctx)
    ids = list(result.registry["id"])
    assert ids[0] == "A1" and ids[1] != "B2" and len(set(ids)) == 3
    assert "identifiant « B2 » répété" in outcome(result, 3)["reason"]


def test_duplicate_rows_are_flagged(ctx):
    """Two identical rows are both kept (distinct ids), the second flagged as a duplicate."""
    result = run(table(site("Lyon"), site("Lyon")), ctx)
    assert result.registry["id"].is_unique
    assert "doublon de la ligne 2" in outcome(result, 3)["reason"]


# --------------------------------------------------------------------------- rejected rows


def test_rejected_rows_download_keeps_original_columns_and_reason(ctx):
    """The rejected rows file has the row number, the original cells and the reason."""
    result = run(table(site("Lyon"), site("Saint-Martin", establishment="CH Saint-Martin")), ctx)
    back = pd.read_csv(io.BytesIO(result.rejected_csv()), dtype=str, keep_default_na=False)
    assert list(back.columns) == ["ligne", *HEADER.split(","), "motif du rejet"]
    assert back.loc[0, "ligne"] == "3"
    assert back.loc[0, "Établissement"] == "CH Saint-Martin"
    assert "plusieurs communes" in back.loc[0, "motif du rejet"]


def test_fixed_rejected_rows_reimport(ctx):
    """The rejected file, once fixed, re-imports (its extra columns are ignored)."""
    result = run(table(site("Saint-Martin")), ctx)
    back = pd.read_csv(io.BytesIO(result.rejected_csv()), dtype=str, keep_default_na=False)
    back["Code postal"] = "67220"
    again = import_bytes(back.to_csv(index=False).encode(), "fixed.csv", context=ctx)
    assert list(again.registry["commune_code"]) == ["67426"]
    assert set(again.report["ignored_columns"]) == {"ligne", "motif du rejet"}


def test_exports_neutralise_formulas(ctx):
    """Cells starting with =, +, - or @ cannot run as formulas in any exported CSV."""
    text = table(
        site("Lyon", establishment='=HYPERLINK("http://x")'),
        site("Atlantide", establishment="@SUM(A1)"),
    )
    result = run(text, ctx)
    registry = result.registry_csv().decode("utf-8-sig")
    rejected = result.rejected_csv().decode("utf-8-sig")
    assert "'=HYPERLINK" in registry and ",=HYPERLINK" not in registry
    assert "'@SUM(A1)" in rejected
    assert result.registry.loc[0, "establishment"] == '=HYPERLINK("http://x")'  # data kept


def test_hostile_fixture_text_is_kept_as_data(ctx):
    """Markup and quotes in cells are kept verbatim as data (escaping is the display's job)."""
    result = import_file(FIXTURES / "hostile.csv", context=ctx)
    assert result.registry.loc[0, "establishment"] == "<img src=x onerror=window.__pwned=1>"
    assert result.registry.loc[0, "service"] == "\"quoted\" & 'single'"
    assert_balanced(result.report)


def test_escape_markdown_shows_text_literally():
    """Markdown-special characters are escaped, line breaks flattened."""
    assert escape_markdown("![x](http://a/b.png)") == r"\!\[x\]\(http\:\/\/a\/b\.png\)"
    assert escape_markdown("<img src=x>") == r"\<img src\=x\>"
    assert escape_markdown("a\nb") == "a b"


# --------------------------------------------------------------------------- bad files


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "vide.csv", "Fichier vide"),
        (b"  \r\n\r\n", "blanc.csv", "Fichier vide"),
        (b"\xef\xbb\xbf", "bom.csv", "Fichier vide"),
        (b";;;\n;;;\n", "separateurs.csv", "aucune cellule remplie"),
        (bytes(range(256)) * 40, "junk.csv", "n'est pas un tableau lisible"),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200),
            "image.csv",
            "n'est pas un tableau lisible",
        ),
        (b"%PDF-1.7\n%\xe2\xe3", "liste.pdf", "PDF non pris en charge"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "liste.xls", r"\.xls"),
        (b"PK\x03\x04garbage", "liste.xlsx", "archive ZIP endommagée"),
        (b"not a zip", "liste.xlsx", "n'est pas un classeur Excel valide"),
        (b"Prenom,Telephone\nJean,0102030405\n", "personnes.csv", "Aucune colonne reconnue"),
    ],
    ids=[
        "empty",
        "blank",
        "bom-only",
        "separators-only",
        "binary",
        "png",
        "pdf",
        "xls",
        "bad-zip",
        "fake-xlsx",
        "no-known-column",
    ],
)
def test_bad_files_raise_a_clear_french_error(ctx, data, name, message):
    """Unreadable files raise DataFileError with a French message, never another exception."""
    with pytest.raises(DataFileError, match=message):
        import_bytes(data, name, context=ctx)


def test_zip_that_is_not_a_workbook(ctx):
    """A ZIP archive without a workbook inside is refused as such."""
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ImportFileError, match="pas un classeur XLSX"):
        import_bytes(buffer.getvalue(), "a.xlsx", context=ctx)


def test_file_over_the_size_limit(ctx):
    """A file over MAX_BYTES is refused before being parsed."""
    data = b"a" * (importer.MAX_BYTES + 1)
    with pytest.raises(ImportFileError, match=r"trop volumineux.*20 Mo"):
        import_bytes(data, "gros.csv", context=ctx)


def test_file_over_the_row_limit(ctx, monkeypatch):
    """A file over MAX_ROWS rows is refused with the limit."""
    monkeypatch.setattr(importer, "MAX_ROWS", 5)
    with pytest.raises(ImportFileError, match="Fichier trop long : plus de 5 lignes"):
        run(table(*[site("Lyon")] * 40), ctx)


def test_file_over_the_column_limit(ctx):
    """A row with more than MAX_COLUMNS cells is refused."""
    text = ",".join(["x"] * (importer.MAX_COLUMNS + 1)) + "\n"
    with pytest.raises(ImportFileError, match="Trop de colonnes"):
        run(text, ctx)


def test_unclosed_quote_is_reported(ctx, monkeypatch):
    """A quote never closed (swallowing the rest of the file) is a clear error."""
    import csv

    monkeypatch.setattr(csv, "field_size_limit", csv.field_size_limit)
    limit = csv.field_size_limit()
    text = table(site("Lyon"), '"' + "x" * (limit + 10))
    with pytest.raises(ImportFileError, match="guillemet"):
        run(text, ctx)


def test_missing_file(ctx, tmp_path):
    """A path that does not exist is a DataFileError."""
    with pytest.raises(DataFileError, match="Fichier introuvable"):
        import_file(tmp_path / "absent.csv", context=ctx)


# --------------------------------------------------------------------------- CLI


def test_cli_writes_registry_and_report(tmp_path, capsys, communes):
    """`import` exits 0 with rejected rows, writes a loadable registry and the JSON report."""
    src = tmp_path / "liste.csv"
    src.write_text(
        table(site("Lyon"), site("Saint-Martin"), site("Brest", url="")), encoding="utf-8"
    )
    out, report_path = tmp_path / "centres.csv", tmp_path / "report.json"
    code = cli_main(["import", str(src), "--out", str(out), "--report", str(report_path)])
    assert code == 0
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert {k: report[k] for k in ("rows_read", "accepted", "warned", "rejected")} == {
        "rows_read": 3,
        "accepted": 1,
        "warned": 1,
        "rejected": 1,
    }
    assert report["rejections"][0]["row"] == 3
    assert report["warnings"] == [{"row": 4, "reason": report["warnings"][0]["reason"]}]
    assert len(load_centres(out, communes)) == 2
    assert "3 lignes lues" in capsys.readouterr().err


def test_cli_map_option(tmp_path):
    """--map "Col=field" maps an unknown header (repeatable)."""
    src = tmp_path / "liste.csv"
    src.write_text("Réseau FSMR,Label,Lieu\nFILNEMUS,CCMR,Brest\n", encoding="utf-8")
    report_path = tmp_path / "r.json"
    code = cli_main(
        [
            "import",
            str(src),
            "--map",
            "Réseau FSMR=filiere",
            "--map",
            "Lieu=city",
            "--report",
            str(report_path),
        ]
    )
    assert code == 0
    assert json.loads(report_path.read_text(encoding="utf-8"))["warned"] == 1


def test_cli_report_on_stdout_and_rejected_file(tmp_path, capsys):
    """Without --report the JSON goes to stdout; --rejected writes the rows to fix."""
    src = tmp_path / "liste.csv"
    src.write_text(table(site("Atlantide")), encoding="utf-8")
    rejected = tmp_path / "rejets.csv"
    assert cli_main(["import", str(src), "--rejected", str(rejected)]) == 0
    assert json.loads(capsys.readouterr().out)["rejected"] == 1
    assert "motif du rejet" in rejected.read_text(encoding="utf-8-sig")


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        (b"", [], "Fichier vide"),
        (bytes(range(256)) * 10, [], "pas un tableau lisible"),
        (None, [], "Fichier introuvable"),
        (b"a,b\n1,2\n", [], "Aucune colonne reconnue"),
        (b"Ville\nLyon\n", ["--sheet", "X"], None),
    ],
    ids=["empty", "binary", "missing", "no-column", "sheet-on-csv"],
)
def test_cli_unreadable_file_exits_2_with_one_line(tmp_path, capsys, content, extra, message):
    """An unreadable file exits 2 with one French line on stderr (no traceback)."""
    src = tmp_path / "liste.csv"
    if content is not None:
        src.write_bytes(content)
    code = cli_main(["import", str(src), "--report", str(tmp_path / "r.json"), *extra])
    err = capsys.readouterr().err
    if message is None:  # --sheet on a CSV is noted, not an error
        assert code == 0
        return
    assert code == 2
    first = err.splitlines()[0]
    assert first.startswith("erreur : ") and message in first
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_cli_wrong_sheet_exits_2(tmp_path, capsys):
    """A wrong --sheet exits 2 naming the sheets."""
    src = tmp_path / "liste.xlsx"
    src.write_bytes(xlsx_bytes({"Centres": [HEADER.split(",")]}))
    assert cli_main(["import", str(src), "--sheet", "Autre"]) == 2
    assert "« Centres »" in capsys.readouterr().err


def test_cli_bad_map_syntax_is_a_usage_error(tmp_path, capsys):
    """--map without "=" is refused by the argument parser (exit 2)."""
    with pytest.raises(SystemExit) as exc:
        cli_main(["import", "x.csv", "--map", "Ville"])
    assert exc.value.code == 2
    assert "Colonne=champ" in capsys.readouterr().err


def test_cli_add_commands_plugs_into_a_parser():
    """add_commands() adds `import` to another parser's sub-commands."""
    import argparse

    from geo.cli_import import add_commands

    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["import", "f.csv", "--map", "A=city", "--map", "B=ignore"])
    assert args.map == [("A", "city"), ("B", "ignore")]


# --------------------------------------------------------------------------- accuracy


def test_accuracy_on_the_public_compilation(ctx):
    """Re-imported raw compilation: ≥ 98 % of checkable rows land in the right département."""
    acc = importer.accuracy_on_compilation(context=ctx)
    assert acc["rows"] >= 569
    assert acc["checked"] >= 400
    assert acc["share"] >= 0.98, acc["misses"]


# --------------------------------------------------------------------------- page


def test_import_page_runs_without_upload():
    """The page renders its invitation when nothing is uploaded."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(
        str(Path(__file__).parent.parent / "app_pages" / "import.py"), default_timeout=60
    ).run()
    assert not at.exception
    assert any("Déposez un fichier" in i.value for i in at.info)


def test_import_page_shows_and_reverts_the_active_import(ctx, communes):
    """A confirmed import is announced; the revert button forgets it (session only)."""
    from streamlit.testing.v1 import AppTest

    result = run(table(site("Lyon")), ctx)
    at = AppTest.from_file(
        str(Path(__file__).parent.parent / "app_pages" / "import.py"), default_timeout=60
    )
    at.session_state[importer.IMPORTED_REGISTRY_KEY] = {
        "name": "<b>liste</b>.csv",
        "centres": prepare_centres(result.registry, communes),
        "report": {},
    }
    at.run()
    assert not at.exception
    assert any(r"\<b\>liste\<\/b\>" in i.value for i in at.info)
    at.button(key="import_revert").click().run()
    assert importer.IMPORTED_REGISTRY_KEY not in at.session_state
