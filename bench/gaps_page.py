"""The gaps page ("Zones sans couverture"): server time per interaction and map payload.

Server time is measured with Streamlit's AppTest, which runs the page script
in-process exactly as the server does for one rerun (no network, no browser): one
interaction = changing the filière and rerunning. The payload is what
streamlit-folium sends to the browser for the map: the base map's script plus the
filter-dependent layers (commune raster as an inline PNG, sites).
"""

from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest
from streamlit_folium import _get_feature_group_string, _get_map_string

from bench.common import ROOT, Context, kb, md_table, ms
from geo.coverage import Selection, compute_gaps
from geo.grid import CommuneGrid
from geo.maps import (
    base_map,
    distance_classes,
    distance_palette,
    image_layer,
    sites_layer,
)
from geo.territories import display_geometries

TITLE = "Gaps page: server time per interaction and map payload"
FILIERES = ("FILNEMUS", "MaRIH", "RespiFIL", "TETECOU", "OSCAR", "MHEMO")
PAYLOAD_TARGET = 1_000_000


def _interactions(reps: int) -> list[float]:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120).run()
    at.switch_page("app_pages/lacunes.py").run()  # first run builds the cached tables
    samples = []
    for i in range(reps + 1):
        at.multiselect(key="sel_filieres").set_value([FILIERES[i % len(FILIERES)]])
        start = time.perf_counter()
        at.run()
        elapsed = (time.perf_counter() - start) * 1e3
        if at.exception:
            raise RuntimeError(f"gaps page failed: {at.exception}")
        if i:
            samples.append(elapsed)
    return samples


def run(ctx: Context) -> str:
    samples = sorted(_interactions(ctx.reps))
    median = samples[len(samples) // 2]
    ctx.key("Gaps page server time per interaction (AppTest rerun)", f"{ms(median)} ms")

    deps = display_geometries(ctx.departements, 0.01)
    grid = CommuneGrid.build(ctx.communes, (-5.2, 41.3, 9.6, 51.15), cell_deg=0.02)
    gaps = compute_gaps(
        ctx.communes,
        ctx.departements,
        ctx.centres,
        Selection(
            filieres=("FILNEMUS",), labels=("crmr_coordonnateur", "crmr_constitutif", "crmr_site")
        ),
        table=ctx.table,
    )
    png = grid.render_png(distance_classes(gaps.commune_km), distance_palette())
    m = base_map(deps)
    base = len(_get_map_string(m).encode())
    raster = len(
        _get_feature_group_string(image_layer(png, grid.leaflet_bounds, "d"), m, 0).encode()
    )
    sites = len(_get_feature_group_string(sites_layer(gaps.sites), m, 1).encode())
    total = base + raster + sites
    ok = ctx.check(total < PAYLOAD_TARGET, "gaps page map payload < 1 MB")
    ctx.key("Gaps page map payload (base + commune raster + sites)", f"{kb(total)} kB")
    return "\n\n".join(
        [
            f"Median of {len(samples)} reruns of `app_pages/lacunes.py` after a filière "
            f"change (cycling {', '.join(FILIERES)}; caches warm, as on a live server).",
            md_table(
                ["measure", "value"],
                [
                    ["server time per interaction, median (ms)", ms(median)],
                    ["fastest / slowest (ms)", f"{ms(samples[0])} / {ms(samples[-1])}"],
                ],
                "lr",
            ),
            "Map payload for FILNEMUS reference sites, commune-level distance view:",
            md_table(
                ["part", "size (kB)"],
                [
                    ["base map (101 départements, legend)", kb(base)],
                    [
                        f"commune raster ({grid.commune_index.shape[1]}×"
                        f"{grid.commune_index.shape[0]} px PNG, inline)",
                        kb(raster),
                    ],
                    [f"sites ({len(gaps.sites)})", kb(sites)],
                    ["total", f"{kb(total)} (< 1 MB: {ok})"],
                ],
                "lr",
            ),
        ]
    )
