"""The ``targetkit`` command line: validate a plan, check actuals against it.

Exit codes (DESIGN § Exit codes): 0 no target yellow or red · 1 worst light yellow · 2 worst light
red · 3 the run could not evaluate (bad command line, plan or data) · 4 alerts could not be delivered.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn, TextIO

from targetkit import __version__
from targetkit.exceptions import TargetkitError

__all__ = ["EXIT_BAD_INPUT", "EXIT_DELIVERY", "EXIT_OK", "EXIT_RED", "EXIT_YELLOW", "main"]

EXIT_OK = 0
EXIT_YELLOW = 1
EXIT_RED = 2
EXIT_BAD_INPUT = 3
EXIT_DELIVERY = 4


class _UsageError(Exception):
    """A bad command line; argparse's own exit code (2) would read as 'a red target'."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message}")


def _date_arg(text: str) -> dt.date:
    from targetkit.dates import parse_date  # noqa: PLC0415 - keep start-up light

    try:
        return parse_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{exc}; write the date as YYYY-MM-DD, e.g. 2023-06-30"
        ) from None


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="targetkit",
        description="Monitor plan targets: validate a plan, check actual figures against it.",
        epilog="Exit codes: 0 all green · 1 worst light yellow · 2 worst light red · "
        "3 bad command line, plan or data · 4 alerts not delivered.",
    )
    parser.add_argument("--version", action="version", version=f"targetkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    validate = sub.add_parser("validate", help="check a plan file and list its targets")
    validate.add_argument("plan", metavar="PLAN", help="plan file (.toml or .json)")
    validate.add_argument(
        "--quiet", "-q", action="store_true", help="print nothing when the plan is valid"
    )
    validate.add_argument("--debug", action="store_true", help="show tracebacks")

    check = sub.add_parser("check", help="evaluate actuals against a plan and print the statuses")
    check.add_argument("plan", metavar="PLAN", help="plan file (.toml or .json)")
    check.add_argument(
        "--actuals",
        "-a",
        action="append",
        default=[],
        metavar="FILE",
        help="CSV file or folder of CSV files with indicator,date,value,unit[,reported_at,source,note]; repeatable",
    )
    check.add_argument(
        "--as-of",
        type=_date_arg,
        metavar="DATE",
        help="evaluate as known on this date (default: today in the plan's time zone)",
    )
    check.add_argument(
        "--format", "-f", choices=("table", "json", "csv", "markdown"), default="table"
    )
    check.add_argument(
        "--lang", choices=("zh", "en"), default="zh", help="language of the table and messages"
    )
    check.add_argument(
        "--fail-on",
        choices=("yellow", "red", "never"),
        default="yellow",
        help="lowest light that gives a non-zero exit (default: yellow)",
    )
    check.add_argument("--debug", action="store_true", help="show tracebacks")

    units = sub.add_parser("units", help="list the units targetkit knows (with a plan's own)")
    units.add_argument("plan", metavar="PLAN", nargs="?", help="plan file whose [units] to include")
    units.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser


def _today_in(timezone: str) -> dt.date:
    import zoneinfo  # noqa: PLC0415

    return dt.datetime.now(zoneinfo.ZoneInfo(timezone)).date()


def _cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    from targetkit.config import load  # noqa: PLC0415

    plan = load(args.plan)
    if not args.quiet:
        kinds: dict[str, int] = {}
        for t in plan.targets:
            kinds[t.rule.kind] = kinds.get(t.rule.kind, 0) + 1
        listed = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        out.write(
            f"{args.plan}: ok — plan {plan.id!r}, {plan.start.isoformat()}..{plan.end.isoformat()}, "
            f"{len(plan.indicators)} indicators, {len(plan.targets)} targets ({listed})\n"
        )
    return EXIT_OK


def _cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    from targetkit.actuals import Actuals, read_actuals  # noqa: PLC0415
    from targetkit.config import load  # noqa: PLC0415
    from targetkit.evaluation import evaluate  # noqa: PLC0415
    from targetkit.formats import render  # noqa: PLC0415
    from targetkit.model import Light  # noqa: PLC0415

    plan = load(args.plan)
    actuals = read_actuals(args.actuals, plan) if args.actuals else Actuals.empty()
    as_of = args.as_of or _today_in(plan.timezone)
    evaluation = evaluate(plan, actuals, as_of=as_of)
    out.write(render(evaluation, args.format, lang=args.lang))
    worst = evaluation.worst_light
    if args.fail_on == "never":
        return EXIT_OK
    if worst is Light.RED:
        return EXIT_RED
    if worst is Light.YELLOW and args.fail_on == "yellow":
        return EXIT_YELLOW
    return EXIT_OK


def _cmd_units(args: argparse.Namespace, out: TextIO) -> int:
    if args.plan:
        from targetkit.config import load  # noqa: PLC0415

        units = load(args.plan).units
    else:
        from targetkit.units import default_units  # noqa: PLC0415

        units = default_units()
    groups: dict[str, list[str]] = {}
    for name in units.known_units:
        groups.setdefault(units.dimensionality(name), []).append(name)
    for dim in sorted(groups):
        out.write(f"{dim}: {' '.join(groups[dim])}\n")
    return EXIT_OK


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the command line and return the exit code (the console script exits with it)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = _build_parser()
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        # --help and --version print through argparse: send them where this call's output goes
        with contextlib.redirect_stdout(out):
            args = parser.parse_args(argv)
    except _UsageError as exc:
        err.write(f"{exc}\n")
        err.write("run 'targetkit --help' (or 'targetkit COMMAND --help') for usage\n")
        return EXIT_BAD_INPUT
    except SystemExit as exc:  # --help and --version
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(out)
        return EXIT_BAD_INPUT
    commands = {"validate": _cmd_validate, "check": _cmd_check, "units": _cmd_units}
    try:
        return commands[args.command](args, out)
    except TargetkitError as exc:
        if debug:
            traceback.print_exc(file=err)
        lines = exc.lines() if hasattr(exc, "lines") else [str(exc)]
        for line in lines:
            err.write(f"error: {line}\n")
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - last resort: a bug must not print a raw traceback
        if debug:
            traceback.print_exc(file=err)
        else:
            err.write(
                f"error: internal error ({type(exc).__name__}: {exc}); please report it, "
                "and run with --debug for the traceback\n"
            )
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
