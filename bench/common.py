"""Shared benchmark machinery: timing, the data every section uses, Markdown helpers.

Timing rule: one untimed warm-up call, then ``reps`` timed calls with
:func:`time.perf_counter`; the figure reported is the median. A contender and its
baseline are timed in alternating rounds (:func:`measure_interleaved`) so that both see
the same background load. The garbage collector stays enabled (as in the app) but a
collection is forced before each series.
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REPS = 7

#: Packages whose versions are printed with the results.
PACKAGES = (
    "numpy",
    "pandas",
    "scipy",
    "shapely",
    "geopandas",
    "pyproj",
    "pyarrow",
    "folium",
    "branca",
    "streamlit",
    "streamlit-folium",
)


@dataclass(frozen=True)
class Timing:
    """Wall-clock times (ms) of one series."""

    samples_ms: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def low(self) -> float:
        return min(self.samples_ms)

    @property
    def high(self) -> float:
        return max(self.samples_ms)

    @property
    def reps(self) -> int:
        return len(self.samples_ms)


def measure(
    fn: Callable[..., Any],
    reps: int,
    setup: Callable[[], Any] | None = None,
    warmup: int = 1,
) -> tuple[Timing, Any]:
    """Time ``fn`` (median of ``reps`` after ``warmup`` calls); returns the timing and last result.

    With ``setup``, its (untimed) result is passed to ``fn`` on every call, so that
    each timed call works on fresh objects.
    """
    result = None
    gc.collect()
    samples = []
    for i in range(warmup + reps):
        arg = setup() if setup is not None else None
        start = time.perf_counter()
        result = fn(arg) if setup is not None else fn()
        elapsed = (time.perf_counter() - start) * 1e3
        if i >= warmup:
            samples.append(elapsed)
    return Timing(tuple(samples)), result


def measure_interleaved(
    fns: dict[str, Callable[[], Any]], reps: int, warmup: int = 1
) -> dict[str, tuple[Timing, Any]]:
    """Time several functions compared with each other, one call of each per round.

    Rounds alternate the order, so that a contender and its baseline see the same
    background load; returns ``{name: (timing, last result)}``.
    """
    names = list(fns)
    samples: dict[str, list[float]] = {k: [] for k in names}
    results: dict[str, Any] = {}
    gc.collect()
    for i in range(warmup + reps):
        for name in names if i % 2 == 0 else reversed(names):
            start = time.perf_counter()
            results[name] = fns[name]()
            elapsed = (time.perf_counter() - start) * 1e3
            if i >= warmup:
                samples[name].append(elapsed)
    return {k: (Timing(tuple(samples[k])), results[k]) for k in names}


@dataclass
class Context:
    """What the sections share: repetitions, lazily loaded data, key figures, failed checks."""

    reps: int = DEFAULT_REPS
    key_figures: list[tuple[str, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    # Data is loaded on first use, so a section run alone loads only what it needs.
    @cached_property
    def territories(self):
        from geo.territories import load_territories

        return load_territories()

    @property
    def communes(self):
        return self.territories.communes

    @property
    def departements(self):
        return self.territories.departements

    @cached_property
    def centres(self):
        from geo.centres import CENTRES_FILE, load_centres

        # Always the embedded registry, whatever CENTRES_FILE says.
        return load_centres(CENTRES_FILE, communes=self.communes)

    @cached_property
    def table(self):
        from geo.coverage import DistanceTable

        return DistanceTable.from_frames(self.communes, self.centres)

    def key(self, what: str, value: str) -> None:
        """Record a figure for the summary at the top of the report."""
        self.key_figures.append((what, value))

    def check(self, ok: bool, what: str) -> str:
        """Record a correctness check; returns the Markdown verdict."""
        if not ok:
            self.failures.append(what)
        return "yes" if ok else "**NO**"


# --------------------------------------------------------------------------- formatting


def ms(value: float) -> str:
    """Milliseconds with precision suited to the magnitude."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def timing_cell(t: Timing) -> str:
    """``median (min–max)`` in ms."""
    return f"{ms(t.median)} ({ms(t.low)}–{ms(t.high)})"


def ratio(num: float, den: float) -> str:
    if den <= 0:
        return "n/a"
    r = num / den
    return f"{r:,.0f}×" if r >= 100 else f"{r:.1f}×" if r >= 10 else f"{r:.2f}×"


def kb(n_bytes: int) -> str:
    return f"{n_bytes / 1000:,.1f}"


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str = "") -> str:
    """A Markdown table; ``align`` is one letter per column (``l`` or ``r``, default ``l``)."""
    align = align.ljust(len(headers), "l")
    sep = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------- environment


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git(*args: str) -> subprocess.CompletedProcess | None:
    """A read-only git command (``--no-optional-locks``: never rewrites the index)."""
    try:
        return subprocess.run(
            ["git", "--no-optional-locks", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None


def _git_head() -> str:
    head = _git("rev-parse", "--short", "HEAD")
    if head is None or head.returncode != 0:
        return "unknown"
    diff = _git("diff", "--quiet", "HEAD", "--", "geo", "ui", "app_pages", "bench")
    dirty = diff is not None and diff.returncode == 1
    return head.stdout.strip() + (" + uncommitted changes in the measured code" if dirty else "")


_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _blas() -> str:
    try:
        import numpy as np

        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{info.get('name', '?')} {info.get('version', '')}".strip()
    except Exception:  # the layout of show_config is not a stable API
        return "unknown"


def machine_info() -> list[tuple[str, str]]:
    """(field, value) pairs describing where the figures come from."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    cores = f"{os.cpu_count()} logical" + (f" ({usable} usable)" if usable else "")
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} absent")
    threads = [f"{k}={os.environ[k]}" for k in _THREAD_VARS if os.environ.get(k)]
    return [
        ("date (UTC)", datetime.now(UTC).strftime("%Y-%m-%d %H:%M")),
        ("commit (HEAD at run time)", _git_head()),
        ("CPU", _cpu_model()),
        ("cores", cores),
        ("OS", f"{platform.system()} {platform.release()} {platform.machine()}"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("packages", ", ".join(versions)),
        ("BLAS", f"{_blas()}; threads: " + (", ".join(threads) or "library default")),
        ("executable", sys.executable),
        ("load average at start (1, 5, 15 min)", load_average()),
    ]


def load_average() -> str:
    """The OS load average: other processes share the cores and inflate wall times."""
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"
