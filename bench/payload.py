"""Map payload: bytes of the national map's HTML as app_pages/carte.py builds it, and build times.

The map is built as the page builds it: :func:`geo.maps.base_map` on the départements
simplified at 0.01°, the sites layer of the shown sites, and the density layer on
the départements simplified at 0.02°. A layer's payload is the size of
``m.get_root().render()`` with the layer minus without it (each map built afresh:
rendering twice appends to the page).
"""

from __future__ import annotations

import gzip
import html
from collections.abc import Callable

import folium

from bench.common import (
    Context,
    Timing,
    kb,
    md_table,
    measure,
    measure_interleaved,
    ms,
    ratio,
    timing_cell,
)
from geo.coverage import sites_per_departement
from geo.maps import LABEL_STYLES, base_map, density_layer, site_popup_html, sites_layer
from geo.territories import display_geometries

TITLE = "Map payload"
FILIERE = "FILNEMUS"
TARGET_BYTES = 1_000_000  # the "< 1 MB", decimal megabyte


def naive_sites_layer(centres, name: str = "Sites") -> folium.FeatureGroup:
    """Baseline: one folium CircleMarker with its own Popup and tooltip per site."""
    group = folium.FeatureGroup(name=name)
    for _, row in centres.iterrows():
        style = LABEL_STYLES[row["label"]]
        folium.CircleMarker(
            location=[float(row["lat"]), float(row["lon"])],
            radius=style.radius,
            color="#222222",
            weight=1,
            fill=True,
            fill_color=style.colour,
            fill_opacity=0.9,
            popup=folium.Popup(site_popup_html(row), max_width=340),
            tooltip=html.escape(str(row["establishment"] or row["crmr_name"])),
        ).add_to(group)
    return group


def _render(m: folium.Map) -> bytes:
    return m.get_root().render().encode("utf-8")


def _map(base_frame, layers: list[Callable[[], folium.FeatureGroup]]) -> folium.Map:
    m = base_map(base_frame)
    for make in layers:
        make().add_to(m)
    return m


def run(ctx: Context) -> str:
    reps = ctx.reps
    deps, centres = ctx.departements, ctx.centres
    t_disp01, display01 = measure(lambda: display_geometries(deps, 0.01), reps)
    t_disp02, display02 = measure(lambda: display_geometries(deps, 0.02), reps)

    def size(base_frame, layers) -> int:
        return len(_render(_map(base_frame, layers)))

    def build_render(layers) -> Timing:
        timing, _ = measure(lambda: _render(_map(display01, layers)), reps)
        return timing

    t_base_build, _ = measure(lambda: base_map(display01), reps)
    base_html = _render(_map(display01, []))
    base_bytes = len(base_html)
    stored_bytes = size(deps, [])
    t_base_total = build_render([])

    sizes_rows = [
        [
            "base map: 101 départements at 0.01° + legend",
            kb(base_bytes),
            kb(len(gzip.compress(base_html))),
            timing_cell(t_base_build),
            "1×",
        ],
        [
            "**baseline** base map on the stored geometries (0.004°, not display-simplified)",
            kb(stored_bytes),
            "",
            "",
            ratio(stored_bytes, base_bytes),
        ],
    ]
    time_rows = [["base map only", "", timing_cell(t_base_total), ""]]
    summary = {}
    for label, shown in (
        ("national", centres),
        (f"one filière ({FILIERE})", centres[centres["filiere"] == FILIERE]),
    ):
        density = sites_per_departement(shown, deps)

        def make_sites(shown=shown):
            return sites_layer(shown)

        def make_density(density=density):
            return density_layer(display02, density, name="Densité")

        def make_naive(shown=shown):
            return naive_sites_layer(shown)

        t_sites_build, _ = measure(make_sites, reps)
        t_density_build, _ = measure(
            lambda shown=shown: density_layer(
                display02, sites_per_departement(shown, deps), name="Densité"
            ),
            reps,
        )
        sites_bytes = size(display01, [make_sites]) - base_bytes
        density_bytes = size(display01, [make_density]) - base_bytes
        naive_bytes = size(display01, [make_naive]) - base_bytes
        default_html = _render(_map(display01, [make_sites]))
        full_html = _render(_map(display01, [make_density, make_sites]))
        summary[label] = (len(full_html), len(default_html))
        n = f"{len(shown)} sites"
        sizes_rows += [
            [
                f"{label}: sites layer ({n}, clustered, one GeoJSON per label)",
                kb(sites_bytes),
                "",
                timing_cell(t_sites_build),
                "1×",
            ],
            [
                f"{label}: **baseline** sites layer, one CircleMarker + Popup per site",
                kb(naive_bytes),
                "",
                "(timed below)",
                ratio(naive_bytes, sites_bytes),
            ],
            [
                f"{label}: density layer (101 départements at 0.02°)",
                kb(density_bytes),
                "",
                timing_cell(t_density_build),
                "",
            ],
            [
                f"{label}: **map as shown** (base + sites; density toggle off)",
                f"**{kb(len(default_html))}**",
                kb(len(gzip.compress(default_html))),
                "",
                "",
            ],
            [
                f"{label}: **map, everything on** (base + density + sites)",
                f"**{kb(len(full_html))}**",
                kb(len(gzip.compress(full_html))),
                "",
                "",
            ],
        ]
        renders = measure_interleaved(
            {
                name: (lambda layers=layers: _render(_map(display01, layers)))
                for name, layers in (
                    ("default", [make_sites]),
                    ("full", [make_density, make_sites]),
                    ("naive", [make_naive]),
                )
            },
            reps,
        )
        t_default, t_full, t_naive = (t for t, _ in renders.values())
        time_rows += [
            [f"{label}: base + sites (page default)", n, timing_cell(t_default), "1×"],
            [f"{label}: base + density + sites", n, timing_cell(t_full), ""],
            [
                f"{label}: **baseline** base + one CircleMarker + Popup per site",
                n,
                timing_cell(t_naive),
                ratio(t_naive.median, t_default.median),
            ],
        ]

    nat_full, nat_default = summary["national"]
    one_full, one_default = summary[f"one filière ({FILIERE})"]
    ctx.key(
        "national map payload (base + sites + density)",
        f"{kb(nat_full)} kB ({'<' if nat_full < TARGET_BYTES else '≥'} 1 MB target)",
    )
    verdict = ctx.check(nat_full < TARGET_BYTES, "national map payload < 1 MB")
    sizes = md_table(
        ["map or layer", "payload, kB", "gzip, kB", "build ms (min–max)", "bytes vs ours"],
        sizes_rows,
        "lrrrr",
    )
    times = md_table(
        ["map", "sites", "build + render ms (min–max)", "time vs ours"], time_rows, "lrrr"
    )
    return f"""Sizes in kB (1,000 bytes) of the UTF-8 HTML of `m.get_root().render()`, the map
built as `app_pages/carte.py` builds it; a layer's payload is the map with it minus the map
without it (each map built afresh). Build = constructing the folium objects (for the
density layer including `sites_per_departement`). Medians of {reps} repetitions after one
warm-up; ours and the baseline in alternating rounds. The simplified départements come
from `display_geometries`, computed once per process by the app (`st.cache_resource`):
{ms(t_disp01.median)} ms at 0.01°, {ms(t_disp02.median)} ms at 0.02°, not included below.

{sizes}

Target < 1 MB for the national map: everything on, **{kb(nat_full)} kB**: {verdict}
(density toggle off, the page's default: {kb(nat_default)} kB). One filière
({FILIERE}): {kb(one_full)} kB with density, {kb(one_default)} kB without. These are
render sizes: streamlit-folium starts from the same render, sends the base map's
script and each layer's script separately, so the bytes on the wire are of the same
order, not identical. gzip is for reference only: Streamlit's websocket compression
(`server.enableWebsocketCompression`) is off by default and `.streamlit/config.toml`
does not turn it on.

Time for the server to build the folium objects and render the HTML, per rerun that
changes the filters:

{times}
"""
