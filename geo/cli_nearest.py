"""``python -m geo nearest``: the nearest centres from a commune (see :mod:`geo.nearest`).

Usage::

    python -m geo nearest --commune "NAME or POSTAL CODE" \\
        (--filiere NAME | --group N | --keyword WORD) [--n 3] [--vintage all|ROUND] \\
        [--centres FILE] --format json|csv

- ``--commune``: a commune name (accents optional; ``"Saint-Denis (974)"`` names the
  département) or a 5-digit postal code. A name or code that designates several
  communes is an error (exit 2) listing the candidates, in French.
- ``--filiere`` (one of the 23, any case or accents), ``--group`` (1–17, the 2007
  typology via ``data/groups.csv``) or ``--keyword`` (``data/keywords.csv``: a disease
  or an organ, e.g. "mucoviscidose", "rein") chooses the filières.
- ``--n``: sites per group (1–10, default 3); ``--vintage``: ``all`` (default: every
  loaded row) or one labellisation round such as ``2023-2028``.
- JSON: a list of sites, in display order: ``rank``, ``level`` (``reference`` or
  ``competence``), ``in_zone`` (false for the reference sites in metropolitan France
  listed for an overseas commune), ``id``, ``establishment``, ``service``, ``label``,
  ``crmr_name``, ``filiere``, ``commune_code``, ``commune``, ``dep``, ``distance_km``
  (great-circle km from the commune's town hall, WGS84), ``vintage``, ``vintages``.
  CSV: the same columns, formula-safe cells.

The commune and the filières found go to standard error, one line each. Exit code 0
(an empty list when no site of those filières is loaded); 2 with ``erreur : …``
when the commune or what is looked for cannot be resolved.

Wire into :func:`geo.cli.build_parser` with ``add_commands(sub)``; also runnable
alone as ``python -m geo.cli_nearest nearest …``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from geo.errors import GeoError


def run_nearest(args: argparse.Namespace) -> int:
    """Run ``nearest``: resolve the commune and the filières, print the nearest sites."""
    from geo.centres import load_centres
    from geo.nearest import (
        MAX_N,
        CommuneSearch,
        EmptySelection,
        Origin,
        nearest_sites,
        query_filieres,
    )
    from geo.territories import load_commune_names, load_communes

    if not 1 <= args.n <= MAX_N:
        raise GeoError(f"--n doit être entre 1 et {MAX_N} ; reçu {args.n}.")
    communes = load_communes()
    match = CommuneSearch(load_commune_names(), communes).resolve(args.commune)
    origin = Origin.from_commune(communes, match.code)

    if args.filiere is not None:
        mode, value = "filiere", args.filiere
    elif args.group is not None:
        mode, value = "group", str(args.group)
    else:
        mode, value = "keyword", args.keyword
    query = query_filieres(mode, value)
    if not query.filieres:
        raise EmptySelection(_why_empty(mode, value, query))

    centres = load_centres(Path(args.centres) if args.centres else None, communes)
    vintages = [] if args.vintage in (None, "all") else [args.vintage]
    unknown = sorted(set(vintages) - set(centres["vintage"]))
    if unknown:
        raise GeoError(
            f"millésime absent des données : {', '.join(unknown)} ; millésimes chargés : "
            f"{', '.join(sorted(centres['vintage'].unique()))}."
        )
    result = nearest_sites(centres, origin, query.filieres, args.n, vintages)
    print(
        f"commune : {origin.name} ({origin.dep}, code commune {origin.code})"
        + (f", ancienne commune {match.former}" if match.former else ""),
        file=sys.stderr,
    )
    print(f"filières : {', '.join(query.filieres)}", file=sys.stderr)
    if result.sites.empty:
        print("aucun site de ces filières dans les données chargées.", file=sys.stderr)
    records = result.records()
    if args.format == "json":
        print(json.dumps(records, ensure_ascii=False, indent=2))
    else:
        import pandas as pd

        from geo.export import neutralise_frame
        from geo.nearest import SITE_COLUMNS

        columns = [c for c in SITE_COLUMNS if c not in ("lat", "lon", "source_url")]
        frame = pd.DataFrame(records, columns=columns)
        neutralise_frame(frame).to_csv(sys.stdout, index=False, lineterminator="\n")
    return 0


def _why_empty(mode: str, value: str, query) -> str:
    """French message for a search that designates no filière."""
    from geo.centres import FILIERES

    if mode == "filiere":
        return f"filière inconnue : « {value} » ; choisissez parmi {', '.join(FILIERES)}."
    if mode == "group":
        if query.group_name:
            return f"le groupe {value} ({query.group_name}) ne contient aucune filière."
        return f"groupe inconnu : {value} ; les groupes vont de 1 à 17 (data/groups.csv)."
    hint = query.keyword.suggestions if query.keyword else ()
    close = f" Mots-clés proches : {', '.join(hint)}." if hint else ""
    return (
        f"aucun mot-clé ne correspond à « {value} ».{close} "
        "Liste complète : data/keywords.csv ; ou utilisez --filiere ou --group."
    )


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``nearest`` command to ``python -m geo``'s sub-parsers."""
    p = subparsers.add_parser(
        "nearest",
        help="nearest centres from a commune, by level of care",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--commune", required=True, help="commune name or postal code")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--filiere", help="one of the 23 filières")
    what.add_argument("--group", type=int, help="disease group 1-17 of the 2007 typology")
    what.add_argument("--keyword", help="a disease or organ of data/keywords.csv")
    p.add_argument("--n", type=int, default=3, help="sites per group, 1-10 (default 3)")
    p.add_argument("--vintage", default="all", help="'all' (default) or one round, 2023-2028")
    p.add_argument("--centres", help="registry CSV (default: $CENTRES_FILE or data/centres.csv)")
    p.add_argument("--format", choices=("json", "csv"), default="json")
    p.set_defaults(func=run_nearest)


def build_parser() -> argparse.ArgumentParser:
    """A parser holding only the ``nearest`` command (for ``python -m geo.cli_nearest``)."""
    parser = argparse.ArgumentParser(prog="python -m geo")
    add_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``nearest`` command alone, with :func:`geo.cli.main`'s error handling."""
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
