"""Committee commands of ``python -m geo``: ``suggest`` (where a new site helps most) and
``maillage`` (per-site figures of a network).

Usage::

    python -m geo suggest (--filiere NAME | --group N) --k K --radius-km R \\
        [--labels all|LIST] [--vintage all|ROUND] [--min-population N] \\
        [--corsica-separate] [--centres FILE] --format json|csv
    python -m geo maillage (--network NAME | --filiere NAME) [--vintage all|ROUND] \\
        [--corsica-separate] [--centres FILE] --format json|csv

``suggest`` runs the greedy maximal covering location of :mod:`geo.suggest`: up to K
communes that would bring the most currently uncovered inhabitants within R km of a site
of the selection (overseas zone rule). Candidates are the communes hosting a site of any
filière, or with ``--min-population N`` every commune of at least N inhabitants. JSON:
``selection``, ``radius_km``, ``k``, ``candidates`` (``kind``, ``min_population``,
``count``), ``population``, ``uncovered_population``, ``guarantee`` and ``proposals``
(``rank``, ``commune_code``, ``name``, ``dep``, ``gain_population``,
``cumulative_population``, ``cumulative_share_of_uncovered``). CSV: one row per proposal.

``maillage`` prints the per-site table of :func:`geo.network.build_maillage`.

Wire into :func:`geo.cli.build_parser` with ``add_commands(sub)``; also runnable alone as
``python -m geo.cli_committee suggest …``. Errors: exit code 2 and ``erreur : …``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from geo.errors import GeoError

MAX_K = 50
MAX_RADIUS_KM = 1000.0


def _dump(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2)


def _load_all(args: argparse.Namespace):
    from geo.centres import load_centres
    from geo.territories import load_communes

    communes = load_communes()
    return communes, load_centres(Path(args.centres) if args.centres else None, communes)


def _check_vintages(centres, vintages) -> None:
    unknown = sorted(set(vintages) - set(centres["vintage"]))
    if unknown:
        raise GeoError(
            f"millésime absent des données : {', '.join(unknown)} ; millésimes chargés : "
            f"{', '.join(sorted(centres['vintage'].unique()))}."
        )


def run_suggest(args: argparse.Namespace) -> int:
    """Run ``suggest`` and print the proposals."""
    from geo.cli import selection_from_args
    from geo.suggest import host_candidates, population_candidates, suggest_sites

    if not 1 <= args.k <= MAX_K:
        raise GeoError(f"--k doit être compris entre 1 et {MAX_K} ; reçu {args.k}.")
    if not 0 < args.radius_km <= MAX_RADIUS_KM:
        raise GeoError(
            f"--radius-km doit être un nombre de km positif, au plus {MAX_RADIUS_KM:g} ; "
            f"reçu {args.radius_km:g}."
        )
    if args.min_population is not None and args.min_population < 0:
        raise GeoError(f"--min-population doit être positif ou nul ; reçu {args.min_population}.")
    communes, centres = _load_all(args)
    selection = selection_from_args(args)
    _check_vintages(centres, selection.vintages)
    if args.min_population is None:
        candidates, kind = host_candidates(communes, centres), "hosts"
    else:
        candidates, kind = population_candidates(communes, args.min_population), "min_population"
    if candidates.empty:
        raise GeoError("aucune commune candidate : baissez --min-population.")
    result = suggest_sites(
        communes,
        selection.sites(centres),
        candidates,
        args.radius_km,
        args.k,
        corsica_separate=args.corsica_separate,
    )
    if args.format == "json":
        out = result.to_json()
        out["selection"] = {
            "filieres": list(selection.filieres),
            "labels": list(selection.labels) or "all",
            "vintages": list(selection.vintages) or "all",
            "sites": len(selection.sites(centres)),
        }
        out["candidates"] = {
            "kind": kind,
            "min_population": args.min_population,
            "count": len(candidates),
        }
        print(_dump(out))
    else:
        from geo.export import neutralise_frame

        table = result.proposals.drop(columns=["lon", "lat"])
        neutralise_frame(table).to_csv(sys.stdout, index=False, lineterminator="\n")
    return 0


def run_maillage(args: argparse.Namespace) -> int:
    """Run ``maillage`` and print the per-site table."""
    from geo.network import build_maillage

    communes, centres = _load_all(args)
    vintages = [] if args.vintage in (None, "all") else [args.vintage]
    _check_vintages(centres, vintages)
    if args.network and args.network not in set(centres["crmr_name"]):
        raise GeoError(f"réseau inconnu : « {args.network} » (voir `python -m geo sites`).")
    try:
        m = build_maillage(
            communes,
            centres,
            network=args.network,
            filiere=args.filiere,
            vintages=vintages,
            corsica_separate=args.corsica_separate,
        )
    except ValueError as exc:
        raise GeoError(f"aucun site pour cette sélection ({exc}).") from exc
    table = m.table.drop(columns=["colour"])
    if args.format == "json":
        records = json.loads(table.to_json(orient="records", force_ascii=False))
        print(
            _dump(
                {
                    "name": m.name,
                    "kind": m.kind,
                    "sites": len(m.sites),
                    "links": len(m.links),
                    "networks_without_coordinator": m.without_coordinator,
                    "population_without_site": m.population_without_site,
                    "table": records,
                }
            )
        )
    else:
        from geo.export import neutralise_frame

        neutralise_frame(table).to_csv(sys.stdout, index=False, lineterminator="\n")
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``suggest`` and ``maillage`` to ``python -m geo``'s sub-parsers."""
    p = subparsers.add_parser(
        "suggest",
        help="where k new sites would cover the most uncovered inhabitants (greedy)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--centres", help="registry CSV (default: $CENTRES_FILE or data/centres.csv)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--filiere", action="append", help="filière (repeat or comma-separate)")
    who.add_argument("--group", type=int, help="disease group 1-17 of the 2007 typology")
    p.add_argument("--k", type=int, required=True, help=f"number of proposals (1-{MAX_K})")
    p.add_argument("--radius-km", type=float, required=True, help="coverage radius, km")
    p.add_argument("--labels", action="append", help="'all' (default) or comma list of labels")
    p.add_argument("--vintage", action="append", help="'all' (default) or one round, 2023-2028")
    p.add_argument(
        "--min-population",
        type=int,
        help="candidates: every commune of at least N inhabitants (default: communes "
        "hosting a site of any filière)",
    )
    p.add_argument(
        "--corsica-separate",
        action="store_true",
        help="Corsica covered only by Corsican sites, like each DROM",
    )
    p.add_argument("--format", choices=("json", "csv"), default="json")
    p.set_defaults(func=run_suggest, network=None)

    p = subparsers.add_parser(
        "maillage",
        help="per-site figures of a CRMR network or a filière (catchments, coordinator)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--centres", help="registry CSV (default: $CENTRES_FILE or data/centres.csv)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--network", help="one CRMR network name")
    who.add_argument("--filiere", help="one filière")
    p.add_argument("--vintage", help="'all' (default) or one round, 2023-2028")
    p.add_argument(
        "--corsica-separate",
        action="store_true",
        help="Corsica covered only by Corsican sites, like each DROM",
    )
    p.add_argument("--format", choices=("json", "csv"), default="json")
    p.set_defaults(func=run_maillage)


def build_parser() -> argparse.ArgumentParser:
    """A parser holding only these commands (for ``python -m geo.cli_committee``)."""
    parser = argparse.ArgumentParser(prog="python -m geo")
    add_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a committee command alone, with :func:`geo.cli.main`'s error handling."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except GeoError as exc:
        print(f"erreur : {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
