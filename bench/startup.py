"""Startup: loading the territories and the registry, in a fresh process and warm."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pyarrow.parquet as pq

from bench.common import ROOT, Context, Timing, md_table, measure, ms, ratio, timing_cell
from geo import territories as terr
from geo.centres import CENTRES_ENV, CENTRES_FILE, load_centres

TITLE = "Startup"
#: Fresh-process runs (each pays every import): fewer than the other series, for time.
FRESH_REPS = 3

#: Run in a fresh interpreter: imports and first loads as a new app process sees them.
_FRESH = """
import json, time
t0 = time.perf_counter()
from geo import territories
t1 = time.perf_counter()
T = territories.load_territories()
t2 = time.perf_counter()
from geo import centres
t3 = time.perf_counter()
c = centres.load_centres(centres.CENTRES_FILE, communes=T.communes)
t4 = time.perf_counter()
from geo.coverage import DistanceTable
t5 = time.perf_counter()
DistanceTable.from_frames(T.communes, c)
t6 = time.perf_counter()
print(json.dumps({
    "import geo.territories (geopandas, shapely, pandas)": (t1 - t0) * 1e3,
    "load_territories()": (t2 - t1) * 1e3,
    "import geo.centres": (t3 - t2) * 1e3,
    "load_centres(communes=...)": (t4 - t3) * 1e3,
    "import geo.coverage (scipy)": (t5 - t4) * 1e3,
    "DistanceTable.from_frames": (t6 - t5) * 1e3,
    "total": (t6 - t0) * 1e3,
}))
"""


def _fresh_run() -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != CENTRES_ENV}  # the embedded registry
    out = subprocess.run(
        [sys.executable, "-c", _FRESH],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def run(ctx: Context) -> str:
    reps = ctx.reps
    fresh_reps = min(reps, FRESH_REPS)
    # -- fresh processes (one untimed warm-up fills the OS page cache)
    _fresh_run()
    runs = [_fresh_run() for _ in range(fresh_reps)]
    steps = list(runs[0])
    fresh = {k: Timing(tuple(r[k] for r in runs)) for k in steps}
    fresh_table = md_table(
        ["step (fresh `python` process)", "median ms (min–max)"],
        [[k if k != "total" else "**total**", timing_cell(v)] for k, v in fresh.items()],
        "lr",
    )
    ctx.key(
        "startup, fresh process: imports + territories + registry + table",
        f"{ms(fresh['total'].median)} ms",
    )

    # -- warm, in this process: geopandas read vs raw Arrow read of the same files
    rows = []
    for name, loader in (
        (terr.COMMUNES_FILE, terr.load_communes),
        (terr.DEPARTEMENTS_FILE, terr.load_departements),
        (terr.REGIONS_FILE, terr.load_regions),
    ):
        path = terr.DATA_DIR / name
        t_geo, frame = measure(loader, reps)
        t_raw, _ = measure(lambda path=path: pq.read_table(path), reps)
        rows.append(
            [
                f"`{loader.__name__}()` ({len(frame):,} rows, {path.stat().st_size / 1e6:.1f} MB)",
                timing_cell(t_geo),
                timing_cell(t_raw),
                ratio(t_geo.median, t_raw.median),
            ]
        )
    t_all, territories = measure(terr.load_territories, reps)
    t_raw_all, _ = measure(
        lambda: [
            pq.read_table(terr.DATA_DIR / n)
            for n in (terr.COMMUNES_FILE, terr.DEPARTEMENTS_FILE, terr.REGIONS_FILE)
        ],
        reps,
    )
    rows.append(
        [
            "**`load_territories()`**",
            timing_cell(t_all),
            timing_cell(t_raw_all),
            ratio(t_all.median, t_raw_all.median),
        ]
    )
    path = CENTRES_FILE
    t_centres, centres = measure(lambda: load_centres(path, territories.communes), reps)
    t_csv, _ = measure(lambda: _read_csv(path), reps)
    rows.append(
        [
            f"`load_centres(communes=...)` ({len(centres)} rows, validated)",
            timing_cell(t_centres),
            timing_cell(t_csv),
            ratio(t_centres.median, t_csv.median),
        ]
    )
    warm_table = md_table(
        ["load (warm, in process)", "median ms (min–max)", "baseline: raw read, ms", "ratio"],
        rows,
        "lrrr",
    )
    ctx.key("load_territories() warm", f"{ms(t_all.median)} ms")
    return f"""Fresh process: `{sys.executable} -c …` run {fresh_reps} times after one warm-up run
(so files are in the OS page cache); each step timed inside the child with `perf_counter`.
The Streamlit app pays this once per server process (`st.cache_resource`), not per visitor.

{fresh_table}

Warm loads in this process, against a baseline of reading the same file without
building the frame the app uses (`pyarrow.parquet.read_table` for GeoParquet: no WKB
decoding into shapely geometries; `pandas.read_csv` of the registry as strings: no
validation or commune join):

{warm_table}
"""


def _read_csv(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
