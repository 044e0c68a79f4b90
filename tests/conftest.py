"""Shared fixtures: the embedded territories, the commune index and the centre registry.

Everything here is loaded once per test session from the committed files under ``data/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `pytest` (unlike `python -m pytest`) does not add the cwd
    sys.path.insert(0, str(ROOT))

from geo.centres import CENTRES_FILE, load_centres  # noqa: E402
from geo.geocode import CommuneIndex  # noqa: E402
from geo.territories import (  # noqa: E402
    load_commune_names,
    load_communes,
    load_departements,
    load_regions,
)


@pytest.fixture(scope="session")
def communes():
    """The 34,875 communes (GeoDataFrame, EPSG:4326)."""
    return load_communes()


@pytest.fixture(scope="session")
def departements():
    """The 101 départements, outre-mer included."""
    return load_departements()


@pytest.fixture(scope="session")
def regions():
    """The 18 régions, outre-mer included."""
    return load_regions()


@pytest.fixture(scope="session")
def commune_names():
    """Every name a commune is known by, with its postal codes."""
    return load_commune_names()


@pytest.fixture(scope="session")
def commune_index(commune_names, communes):
    """The offline geocoding index built from the embedded tables."""
    return CommuneIndex(commune_names, communes)


@pytest.fixture(scope="session")
def centres(communes):
    """The embedded registry ``data/centres.csv`` (not ``$CENTRES_FILE``), validated and joined."""
    return load_centres(CENTRES_FILE, communes=communes)
