"""Import accuracy: the public compilation re-imported from its raw files.

Each raw file of ``data/raw/centres`` goes through the importer as a coordinator's
file would (:func:`geo.importer.accuracy_on_compilation`); a row with a known city
is checked against its département (given by the page, its postal code, or a short
hand-checked list of well-known cities). The aim is ≥ 98 % in the right département.
"""

from __future__ import annotations

from bench.common import Context, md_table, measure, ms
from geo.importer import accuracy_on_compilation

TITLE = "Import accuracy (offline geocoding)"
AIM = 0.98


def run(ctx: Context) -> str:
    timing, acc = measure(accuracy_on_compilation, reps=1, warmup=0)
    share = acc["share"]
    verdict = ctx.check(share >= AIM, f"import accuracy ≥ {AIM:.0%}")
    ctx.key("Import accuracy (right département, checked rows)", f"{share:.1%}")
    rows = [
        ["rows read", f"{acc['rows']}"],
        ["rows with a city", f"{acc['rows_with_city']}"],
        ["rows whose département is known (checked)", f"{acc['checked']}"],
        ["checked rows placed in the right département", f"{acc['correct']}"],
        ["share", f"{share:.1%} (aim ≥ {AIM:.0%}: {verdict})"],
        ["rows imported", f"{acc['imported']}"],
        ["time to re-import every file", ms(timing.median)],
    ]
    misses = acc["misses"]
    miss_text = (
        "No miss."
        if not misses
        else md_table(
            ["file", "row", "city", "expected", "got", "reason"],
            [
                [m.get(k, "") for k in ("file", "row", "city", "expected", "got", "reason")]
                for m in misses
            ],
        )
    )
    return "\n\n".join(
        [
            "`geo.importer.accuracy_on_compilation()` on `data/raw/centres/*.csv`. Rows "
            "without a city (the page named none) cannot be checked; they are rejected with "
            "that reason, as in `data/SOURCES.md`.",
            md_table(["", ""], rows, "lr"),
            "**Misses**: " + miss_text,
        ]
    )
