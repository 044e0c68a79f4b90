"""``python -m geo import FILE``: import a coordinator's CSV/XLSX list (see :mod:`geo.importer`).

Usage::

    python -m geo import liste.xlsx --sheet "CRMR 2023" --map "Ville du site=city" \\
        --out centres.csv --report rapport.json --rejected rejets.csv

- ``--out``: the imported registry (schema of ``data/centres.csv`` plus ``source_row``),
  UTF-8 CSV with formula-safe cells, loadable with ``CENTRES_FILE``.
- ``--report``: the JSON report (``rows_read``, ``accepted``, ``warned``, ``rejected``,
  ``warnings``, ``rejections``…); printed on standard output when omitted.
- ``--rejected``: the rejected rows with their original columns and the reason.

A one-line French summary goes to standard error. Exit code 0 when the file was
imported, even with rejected rows; 2 with a one-line ``erreur : …`` message when the
file itself cannot be read (or an option is wrong).

Wire into :func:`geo.cli.build_parser` with ``add_commands(sub)``; also runnable
alone as ``python -m geo.cli_import import FILE …``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geo.errors import DataFileError, GeoError


def _mapping_item(text: str) -> tuple[str, str]:
    column, sep, field = text.rpartition("=")
    if not sep or not column.strip() or not field.strip():
        raise argparse.ArgumentTypeError(
            f"--map attend « Colonne=champ » (par exemple « Ville du site=city ») ; reçu « {text} »"
        )
    return column.strip(), field.strip()


def _write(path: Path, data: bytes | str) -> None:
    try:
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
    except OSError as exc:
        raise DataFileError(
            f"Impossible d'écrire {path} ({exc.strerror or exc}) ; vérifiez le dossier."
        ) from exc


def run_import(args: argparse.Namespace) -> int:
    """Run ``import``: read, import, write the outputs, print the summary."""
    from geo.importer import import_file

    mapping = dict(args.map or [])
    result = import_file(Path(args.file), sheet=args.sheet, mapping=mapping)
    report = result.report
    if args.out:
        _write(Path(args.out), result.registry_csv())
    if args.rejected:
        _write(Path(args.rejected), result.rejected_csv())
    if args.report:
        _write(Path(args.report), result.report_json() + "\n")
    else:
        print(result.report_json())
    print(
        f"{report['rows_read']} lignes lues : {report['accepted']} acceptées, "
        f"{report['warned']} acceptées avec avertissement, {report['rejected']} rejetées.",
        file=sys.stderr,
    )
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``import`` command to ``python -m geo``'s sub-parsers."""
    p = subparsers.add_parser(
        "import",
        help="import a CSV/XLSX list of centres (report of every row)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", help="CSV or XLSX file to import")
    p.add_argument("--sheet", help="XLSX sheet name (default: the first sheet)")
    p.add_argument(
        "--map",
        action="append",
        type=_mapping_item,
        metavar="COLONNE=CHAMP",
        help="read column COLONNE as field CHAMP (repeatable; CHAMP 'ignore' drops it)",
    )
    p.add_argument("--out", help="write the imported registry CSV here")
    p.add_argument("--report", help="write the JSON report here (default: standard output)")
    p.add_argument("--rejected", help="write the rejected rows (CSV, with reasons) here")
    p.set_defaults(func=run_import)


def build_parser() -> argparse.ArgumentParser:
    """A parser holding only the ``import`` command (for ``python -m geo.cli_import``)."""
    parser = argparse.ArgumentParser(prog="python -m geo")
    add_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``import`` command alone, with :func:`geo.cli.main`'s error handling."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except GeoError as exc:
        print(f"erreur : {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
