"""Specification of the 2007 disease-group typology mapped to the filières (geo.groups)."""

from __future__ import annotations

import pytest

from geo.centres import FILIERES
from geo.groups import filieres_of_group, group_names, load_groups


@pytest.fixture(scope="module")
def groups():
    """data/groups.csv as loaded by the module."""
    return load_groups()


def test_seventeen_groups(groups):
    """The typology has 17 groups numbered 1 to 17, each with a name."""
    names = group_names(groups)
    assert list(names) == list(range(1, 18))
    assert all(names.values())


def test_every_filiere_is_in_a_group(groups):
    """Each of the 23 filières belongs to at least one group."""
    mapped = {f for g in range(1, 18) for f in filieres_of_group(g, groups)}
    assert set(FILIERES) <= mapped


def test_groups_name_only_known_filieres(groups):
    """Every filière named in the mapping is one of the 23 (no typo)."""
    named = set(groups["filiere"]) - {""}
    assert named <= set(FILIERES)


def test_group_17_has_no_filiere(groups):
    """Group 17 "Autres" has no filière."""
    assert group_names(groups)[17] == "Autres"
    assert filieres_of_group(17, groups) == ()


@pytest.mark.parametrize(
    ("group_id", "filieres"),
    [(10, ("FILNEMUS",)), (7, ("MaRIH", "MCGRE", "MHEMO")), (15, ("MaRIH",))],
)
def test_filieres_of_group(groups, group_id, filieres):
    """A group's filières, in file order (MaRIH is in groups 7 and 15)."""
    assert filieres_of_group(group_id, groups) == filieres


def test_filieres_of_group_reads_the_embedded_file_by_default():
    """Without a frame, the embedded data/groups.csv is used."""
    assert filieres_of_group(10) == ("FILNEMUS",)


@pytest.mark.parametrize("group_id", [0, 18, -1])
def test_unknown_group_raises(groups, group_id):
    """An id outside 1–17 raises ValueError."""
    with pytest.raises(ValueError, match="between 1 and 17"):
        filieres_of_group(group_id, groups)
