"""Specification of the offline commune lookup (geo/geocode.py)."""

from __future__ import annotations

import pytest

from geo.geocode import AMBIGUOUS, MATCHED, NOT_FOUND, normalise_name, postal_departement

# --------------------------------------------------------------------------- normalise_name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Évreux", "evreux"),
        ("ÉVREUX", "evreux"),
        ("Villers-Cotterêts", "villers cotterets"),
        ("Vandœuvre-lès-Nancy", "vandoeuvre les nancy"),
        ("Cœuvres-et-Valsery", "coeuvres et valsery"),
        ("Lætitia", "laetitia"),
        ("St-Étienne", "saint etienne"),
        ("Ste-Foy-lès-Lyon", "sainte foy les lyon"),
        ("St Malo", "saint malo"),
        ("St-Étienne CEDEX 2", "saint etienne"),
        ("Aix-en-Provence Cedex 1", "aix en provence"),
        ("Rennes cedex", "rennes"),
        ("Paris 15e arrondissement", "paris"),
        ("Lyon 3ème", "lyon"),
        ("Marseille 1er", "marseille"),
        ("Marseille 13e arr.", "marseille"),
        ("Lyon 3e Arrondissement", "lyon"),
        ("L'Haÿ-les-Roses", "l hay les roses"),
        ("Saint-Jean-d’Angély", "saint jean d angely"),
        ("Saint-Denis", "saint denis"),
        ("  Paris  ", "paris"),
    ],
)
def test_normalise_name(text, expected):
    """Case, accents, ligatures, St/Ste, CEDEX, arrondissements and punctuation normalise."""
    assert normalise_name(text) == expected


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Saint-Étienne", "St Etienne"),
        ("Vandœuvre-lès-Nancy", "Vandoeuvre-les-Nancy"),
        ("L'Haÿ-les-Roses", "L’Haÿ les Roses"),
    ],
)
def test_normalise_name_equates_spellings(left, right):
    """Two spellings of one commune normalise to the same key."""
    assert normalise_name(left) == normalise_name(right)


# --------------------------------------------------------------------------- postal_departement


@pytest.mark.parametrize(
    ("postal_code", "expected"),
    [
        ("97411", {"974"}),
        ("97120", {"971"}),
        ("20000", {"2A", "2B"}),
        ("75015", {"75"}),
        ("01400", {"01"}),
        ("75 015", {"75"}),
        ("garbage", set()),
        ("1234", set()),
        ("", set()),
        (None, set()),
    ],
)
def test_postal_departement(postal_code, expected):
    """A postal code's prefix gives its département(s); anything else gives none."""
    assert postal_departement(postal_code) == expected


# --------------------------------------------------------------------------- lookups


@pytest.mark.parametrize(
    ("city", "postal_code", "departement", "code"),
    [
        ("Paris", None, None, "75056"),
        ("PARIS", None, None, "75056"),
        ("Lyon 3e", None, None, "69123"),
        ("Marseille", "13385", None, "13055"),
        ("Saint-Denis (La Réunion)", None, None, "97411"),
        ("La Tronche (Grenoble)", None, None, "38516"),
        ("Pointe-à-Pitre / Abymes", None, None, "97120"),
        ("Evreux", None, None, "27229"),
        ("Vandoeuvre-lès-Nancy", None, "54", "54547"),
        ("St-Étienne", "42055", None, "42218"),
        ("Saint-Denis", None, "93", "93066"),
        ("Saint-Denis", "93200", None, "93066"),
        ("Saint-Denis", "97400", None, "97411"),
    ],
)
def test_lookup_matches_commune(commune_index, city, postal_code, departement, code):
    """City names, with or without hints, resolve to the expected INSEE commune code."""
    result = commune_index.lookup(city, postal_code, departement)
    assert (result.status, result.code) == (MATCHED, code)
    assert result.warning == ""


def test_lookup_returns_name_and_departement(commune_index):
    """A match carries the commune's official name and département."""
    result = commune_index.lookup("Evreux")
    assert (result.name, result.dep) == ("Évreux", "27")


@pytest.mark.parametrize(
    ("city", "postal_code", "commune", "arrondissement"),
    [
        ("Paris", "75015", "75056", "75115"),
        ("Lyon", "69003", "69123", "69383"),
        ("Marseille", "13005", "13055", "13205"),
    ],
)
def test_postal_code_picks_the_arrondissement(
    commune_index, city, postal_code, commune, arrondissement
):
    """In Paris, Lyon and Marseille the postal code gives the arrondissement, not the code."""
    result = commune_index.lookup(city, postal_code)
    assert (result.code, result.arrondissement) == (commune, arrondissement)


def test_cedex_postal_code_gives_no_arrondissement(commune_index):
    """A CEDEX code of Marseille still matches the city, without an arrondissement."""
    result = commune_index.lookup("Marseille", "13385")
    assert (result.code, result.arrondissement) == ("13055", None)


def test_former_commune_resolves_to_its_current_commune(commune_index):
    """A commune déléguée's name (Cherbourg-Octeville) resolves to the merged commune."""
    result = commune_index.lookup("Cherbourg-Octeville")
    assert (result.status, result.code) == (MATCHED, "50129")


def test_homonyms_are_ambiguous_with_candidates(commune_index):
    """« Saint-Martin » names several communes: ambiguous, every candidate listed."""
    result = commune_index.lookup("Saint-Martin")
    assert result.status == AMBIGUOUS
    assert result.code is None
    assert {c.code for c in result.candidates} == {"32389", "54480", "65392", "67426"}


def test_ambiguous_reason_says_how_to_disambiguate(commune_index):
    """The ambiguity reason names the city and asks for the postal code or département."""
    result = commune_index.lookup("Saint-Martin")
    assert "Saint-Martin" in result.reason
    assert "code postal" in result.reason
    assert "département" in result.reason


def test_two_large_homonyms_stay_ambiguous(commune_index):
    """« Saint-Denis » alone is ambiguous: neither 93 nor 974 dominates the other."""
    result = commune_index.lookup("Saint-Denis")
    assert result.status == AMBIGUOUS
    assert {"93066", "97411"} <= {c.code for c in result.candidates}


def test_dominant_homonym_is_matched_with_warning(commune_index):
    """« La Rochelle » goes to the Charente-Maritime city, with a warning naming the other."""
    result = commune_index.lookup("La Rochelle")
    assert (result.status, result.code) == (MATCHED, "17300")
    assert "homonyme" in result.warning
    assert "(70)" in result.warning


@pytest.mark.parametrize(
    ("departement", "expected"), [(None, "introuvable"), ("75", "dans le département 75")]
)
def test_unknown_city_is_not_found(commune_index, departement, expected):
    """An unknown city gives not_found and a reason naming it (and the département searched)."""
    result = commune_index.lookup("Trifouilly-les-Oies", departement=departement)
    assert result.status == NOT_FOUND
    assert "Trifouilly-les-Oies" in result.reason
    assert expected in result.reason


def test_known_city_in_wrong_departement_is_not_found(commune_index):
    """A département hint that excludes every candidate gives not_found."""
    assert commune_index.lookup("Evreux", departement="75").status == NOT_FOUND


@pytest.mark.parametrize(("city", "postal_code"), [(None, None), ("", ""), ("  ", None)])
def test_empty_query_is_not_found(commune_index, city, postal_code):
    """Neither city nor postal code: not_found, saying so."""
    result = commune_index.lookup(city, postal_code)
    assert result.status == NOT_FOUND
    assert "ni ville ni code postal" in result.reason


@pytest.mark.parametrize(
    ("postal_code", "code"), [("29200", "29019"), ("75015", "75056"), ("27000", "27229")]
)
def test_postal_code_alone_resolves_single_commune(commune_index, postal_code, code):
    """A postal code serving one commune resolves without a city."""
    result = commune_index.lookup(None, postal_code)
    assert (result.status, result.code) == (MATCHED, code)


def test_postal_code_shared_by_several_communes_is_not_found(commune_index):
    """A postal code shared by several communes does not pick one."""
    result = commune_index.lookup(None, "01400")
    assert result.status == NOT_FOUND
    assert "01400" in result.reason


@pytest.mark.parametrize(("postal_code", "expected"), [("29200", {"29"}), ("98000", {"98"})])
def test_departements_of_postal_code(commune_index, postal_code, expected):
    """A known postal code gives its communes' départements, an unknown one its prefix."""
    assert commune_index.departements_of_postal_code(postal_code) == expected
