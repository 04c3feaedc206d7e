"""The ``targetkit`` command line: validate a plan, check actuals against it.

Exit codes (DESIGN § Exit codes): 0 no target yellow or red · 1 worst light yellow · 2 worst light
red · 3 the run could not evaluate (bad command line, plan or data) · 4 alerts could not be delivered.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import sys
import traceback
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn, TextIO

from targetkit._version import __version__
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


def _silence_id(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) < 2**63:  # sqlite's INTEGER range
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a silence number; see 'targetkit alerts silences PLAN --all'"
        )
    return int(text)


def _retention_arg(text: str) -> dt.timedelta:
    from targetkit.notify.settings import parse_duration  # noqa: PLC0415

    try:
        delta = parse_duration(text)
    except (ValueError, TypeError) as exc:
        raise argparse.ArgumentTypeError(f"{text!r} {exc}; write e.g. 400d or 52w") from None
    if delta < dt.timedelta(days=1):
        raise argparse.ArgumentTypeError(f"{text!r} is shorter than a day; write e.g. 400d")
    return delta


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
        help="CSV, workbook (.xlsx/.xls/.ods) or Parquet file, folder of them, database URL "
        "(sqlite:///…, postgresql://…, duckdb:///…) or sources file (.toml); repeatable",
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
        "--by",
        choices=("scope",),
        default=None,
        help="scope: a scorecard per scope and a ranking of each split target's parts",
    )
    check.add_argument(
        "--fail-on",
        choices=("yellow", "red", "never"),
        default="yellow",
        help="lowest light that gives a non-zero exit (default: yellow)",
    )
    check.add_argument(
        "--notify",
        nargs="?",
        const="",
        default=None,
        metavar="CONFIG",
        help="send the alerts: with the plan's [notify] table, or a separate notify file",
    )
    check.add_argument(
        "--dry-run",
        action="store_true",
        help="with --notify: print what would be sent, send nothing",
    )
    check.add_argument("--debug", action="store_true", help="show tracebacks")

    report = sub.add_parser(
        "report", help="write a status report (通报): one HTML file, or Markdown"
    )
    report.add_argument("plan", metavar="PLAN", help="plan file (.toml or .json)")
    report.add_argument(
        "--actuals",
        "-a",
        action="append",
        default=[],
        metavar="FILE",
        help="CSV, workbook or Parquet file, folder, database URL or sources file; repeatable",
    )
    report.add_argument(
        "--as-of",
        type=_date_arg,
        metavar="DATE",
        help="evaluate as known on this date (default: today in the plan's time zone)",
    )
    report.add_argument("--format", "-f", choices=("html", "markdown"), default="html")
    report.add_argument("--lang", choices=("zh", "en"), default="zh")
    report.add_argument(
        "--output", "-o", metavar="FILE", help="write the report here (default: standard output)"
    )
    report.add_argument(
        "--notify",
        metavar="CONFIG",
        help="a separate notify file, whose alert state says which targets are silenced "
        "(default: the plan's [notify])",
    )
    report.add_argument("--debug", action="store_true", help="show tracebacks")

    draft = sub.add_parser(
        "draft",
        help="draft a plan file from a plan document (工作要点, 方案): .txt, .docx, .html, .pdf",
    )
    draft.add_argument(
        "input",
        metavar="INPUT",
        help="the plan: text (UTF-8 or GB18030/GBK), .docx, a saved web page (.html) or a .pdf",
    )
    draft.add_argument(
        "--output", "-o", metavar="FILE", help="write the draft here (default: standard output)"
    )
    draft.add_argument(
        "--year",
        type=int,
        help="the plan's year when the text does not say; for a multi-year plan, draft this year only",
    )
    draft.add_argument(
        "--id", dest="id_prefix", metavar="PREFIX", help="plan id, and a prefix for every id"
    )
    draft.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    draft.add_argument("--debug", action="store_true", help="show tracebacks")

    alerts = sub.add_parser("alerts", help="alert state: what was sent when")
    alerts_sub = alerts.add_subparsers(
        dest="alerts_command", metavar="ACTION", parser_class=_Parser
    )
    history = alerts_sub.add_parser("history", help="show open problems and the notices sent")
    history.add_argument("plan", metavar="PLAN", help="plan file (.toml or .json)")
    history.add_argument(
        "--notify", metavar="CONFIG", help="a separate notify file (default: the plan's [notify])"
    )
    history.add_argument("--lang", choices=("zh", "en"), default="zh")
    history.add_argument("--limit", type=int, metavar="N", help="show at most N notices")
    history.add_argument("--debug", action="store_true", help="show tracebacks")

    notify_help = "a separate notify file (default: the plan's [notify])"
    silence = alerts_sub.add_parser(
        "silence", help="quiet some targets' notices until a date (they still show in check)"
    )
    silence.add_argument("plan", metavar="PLAN", help="plan file (.toml or .json)")
    silence.add_argument(
        "--target", action="append", default=[], metavar="ID", help="target id; repeatable"
    )
    silence.add_argument(
        "--owner", action="append", default=[], metavar="UNIT", help="every target of this owner"
    )
    silence.add_argument(
        "--tag", action="append", default=[], metavar="TAG", help="every target with this tag"
    )
    silence.add_argument(
        "--until",
        type=_date_arg,
        required=True,
        metavar="DATE",
        help="last as-of date silenced (inclusive)",
    )
    silence.add_argument("--reason", required=True, metavar="TEXT", help="why (kept and shown)")
    silence.add_argument(
        "--as-of",
        type=_date_arg,
        metavar="DATE",
        help="the date --until must not be before (default: today in the plan's time zone)",
    )
    silence.add_argument("--notify", metavar="CONFIG", help=notify_help)
    silence.add_argument("--debug", action="store_true", help="show tracebacks")

    listing = alerts_sub.add_parser("silences", help="list the active silences")
    listing.add_argument("plan", metavar="PLAN", help="plan file (.toml or .json)")
    listing.add_argument("--all", action="store_true", help="also the ended and expired ones")
    listing.add_argument(
        "--as-of",
        type=_date_arg,
        metavar="DATE",
        help="active on this as-of date (default: today in the plan's time zone)",
    )
    listing.add_argument("--notify", metavar="CONFIG", help=notify_help)
    listing.add_argument("--lang", choices=("zh", "en"), default="zh")
    listing.add_argument("--debug", action="store_true", help="show tracebacks")

    unsilence = alerts_sub.add_parser("unsilence", help="end a silence early")
    unsilence.add_argument("plan", metavar="PLAN", help="plan file (.toml or .json)")
    unsilence.add_argument("id", metavar="ID", type=_silence_id, help="the silence's number")
    unsilence.add_argument("--notify", metavar="CONFIG", help=notify_help)
    unsilence.add_argument("--debug", action="store_true", help="show tracebacks")

    prune = alerts_sub.add_parser(
        "prune", help="delete resolved problems and delivered notices older than the retention"
    )
    prune.add_argument("plan", metavar="PLAN", help="plan file (.toml or .json)")
    prune.add_argument("--dry-run", action="store_true", help="count only, delete nothing")
    prune.add_argument(
        "--older-than",
        type=_retention_arg,
        metavar="DURATION",
        help="e.g. 400d (default: notify.history_retention)",
    )
    prune.add_argument("--notify", metavar="CONFIG", help=notify_help)
    prune.add_argument("--debug", action="store_true", help="show tracebacks")

    sources = sub.add_parser("sources", help="show how a workbook or database would be read")
    sources_sub = sources.add_subparsers(
        dest="sources_command", metavar="ACTION", parser_class=_Parser
    )
    show = sources_sub.add_parser(
        "show", help="print which cell became which observation, and what was skipped and why"
    )
    show.add_argument(
        "source", metavar="SOURCE", help="workbook, Parquet file, database URL or sources file"
    )
    show.add_argument("--plan", metavar="PLAN", help="match row names with this plan's indicators")
    show.add_argument("--as-of", type=_date_arg, metavar="DATE", help="the date bound to :as_of")
    show.add_argument("--debug", action="store_true", help="show tracebacks")

    units = sub.add_parser("units", help="list the units targetkit knows (with a plan's own)")
    units.add_argument("plan", metavar="PLAN", nargs="?", help="plan file whose [units] to include")
    units.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser


def _today_in(timezone: str) -> dt.date:
    import zoneinfo  # noqa: PLC0415

    return dt.datetime.now(zoneinfo.ZoneInfo(timezone)).date()


def _cmd_validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from targetkit.config import parse_document, read_document  # noqa: PLC0415

    warnings: list[Any] = []
    document = read_document(args.plan)
    _settle()  # a large mapping, let go once parsed: no collector pass need trace it
    plan = parse_document(document, args.plan, warnings=warnings)
    from targetkit.notify import load_settings  # noqa: PLC0415

    # a [notify] table is part of the file: check it too
    load_settings(args.plan, plan_document=document)
    for warning in warnings:
        err.write(f"warning: {warning}\n")
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


def _load_inputs(
    args: argparse.Namespace, document: list[tuple[dict[str, Any], str]]
) -> tuple[Any, Any, dt.date]:
    """Parse the plan of ``document`` (a one-item list, emptied: the mapping is let go before
    the actuals are read) and read the actuals."""
    from targetkit.actuals import Actuals, read_actuals  # noqa: PLC0415
    from targetkit.config import parse_document  # noqa: PLC0415

    plan = parse_document(document.pop(), args.plan)
    as_of = args.as_of or _today_in(plan.timezone)
    actuals = read_actuals(args.actuals, plan, as_of=as_of) if args.actuals else Actuals.empty()
    # the plan and the actuals live until the command ends: the collector need not trace
    # through them again each time the results being built trigger a pass
    _settle(collect=True)
    return plan, actuals, as_of


_settling: list[bool] = []


def _settle(*, collect: bool = False) -> None:
    """Move what is alive now out of the collector's passes, inside `_collector_settles`.

    Frozen objects are still freed when their last reference goes (a plan file's mapping, once
    parsed); ``collect`` first frees the cycles already garbage, which freezing would keep.
    """
    if _settling:
        if collect:
            gc.collect()
        gc.freeze()


@contextlib.contextmanager
def _collector_settles() -> Iterator[None]:
    """Let a command move its loaded inputs out of the garbage collector's passes (`gc.freeze`).

    Undone when the command returns, and left alone when the caller froze objects of its own.
    """
    if gc.get_freeze_count():
        yield
        return
    _settling.append(True)
    try:
        yield
    finally:
        _settling.pop()
        gc.unfreeze()


def _write_notes(actuals: Any, err: TextIO) -> None:
    for note in actuals.notes:
        err.write(f"note: {note}\n")


def _cmd_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from targetkit.evaluation import evaluate  # noqa: PLC0415
    from targetkit.model import Light  # noqa: PLC0415

    if args.dry_run and args.notify is None:
        raise _UsageError("targetkit check: --dry-run only makes sense with --notify")
    if args.by == "scope" and args.format not in ("table", "json"):
        raise _UsageError(
            f"targetkit check: --by scope prints a table or JSON (got --format {args.format}); "
            "use --format table or --format json"
        )
    from targetkit.config import read_document  # noqa: PLC0415

    document = read_document(args.plan)  # read once: the plan and its [notify] table
    _settle()  # a large mapping, let go once parsed: no collector pass need trace it
    settings = None
    if args.notify is not None:
        from targetkit.notify import load_settings  # noqa: PLC0415

        # read before evaluating: a bad notify file stops the run before anything is sent
        settings = load_settings(args.plan, args.notify or None, plan_document=document)
    found_settings = _silence_settings(args.plan, settings, document)
    held = [document]
    del document  # _load_inputs lets the plan's mapping go once it is parsed
    plan, actuals, as_of = _load_inputs(args, held)
    _write_notes(actuals, err)
    evaluation = evaluate(plan, actuals, as_of=as_of)
    quiet = _active_silences(found_settings, settings is not None, plan.id, as_of, err)
    if args.by == "scope":
        from targetkit.render.formats import render_by_scope  # noqa: PLC0415

        out.write(render_by_scope(evaluation, lang=args.lang, format=args.format))
    else:
        _write_check(evaluation, out, quiet, args)
    worst = evaluation.worst_light
    code = EXIT_OK
    if args.fail_on != "never":
        if worst is Light.RED:
            code = EXIT_RED
        elif worst is Light.YELLOW and args.fail_on == "yellow":
            code = EXIT_YELLOW
    if settings is not None:
        from targetkit.notify import deliver  # noqa: PLC0415

        # machine-readable output stays clean: notify's own lines go to stderr then
        talk = err if args.format in ("json", "csv") else out
        report = deliver(
            evaluation, settings, now=dt.datetime.now(dt.UTC), dry_run=args.dry_run, out=talk
        )
        for line in report.lines():
            talk.write(line + "\n")
        for line in report.error_lines():
            err.write(line + "\n")
        if report.failed:
            return EXIT_DELIVERY
    return code


def _silence_settings(plan_path: str, settings: Any, document: tuple[dict[str, Any], str]) -> Any:
    """Return the notify settings that find the silences, or the error that stops reading them.

    Worked out while the plan's document is at hand, so it can be let go before the actuals
    are read.
    """
    from targetkit.notify import load_settings  # noqa: PLC0415

    if settings is not None:
        return settings
    try:
        return load_settings(plan_path, plan_document=document)
    except TargetkitError as exc:
        return exc


def _active_silences(
    found_settings: Any, notify: bool, plan_id: str, as_of: dt.date, err: TextIO
) -> dict[str, Any]:
    """Return the silences active at ``as_of``, by target (a problem still shows, marked).

    ``found_settings`` is what `_silence_settings` returned; with ``notify`` (--notify given)
    a state file that cannot be read stops the run, otherwise it is a warning.
    """
    from targetkit.notify import silences  # noqa: PLC0415
    from targetkit.state import active_silences  # noqa: PLC0415

    try:
        if isinstance(found_settings, TargetkitError):
            raise found_settings
        found = silences(found_settings, plan_id)
    except TargetkitError as exc:
        if notify:  # with --notify, the state file is this run's business
            raise
        first = exc.lines()[0] if hasattr(exc, "lines") else str(exc)
        err.write(f"warning: silences not shown: {_one_line(first)}\n")
        return {}
    return active_silences(found, as_of=as_of, now=dt.datetime.now(dt.UTC))


def _write_check(
    evaluation: Any, out: TextIO, quiet: dict[str, Any], args: argparse.Namespace
) -> None:
    """Write check's output; silenced targets are marked: a key in JSON, a 静默 section."""
    from targetkit.render.formats import render, write  # noqa: PLC0415

    marks = {
        target: {
            "id": held.id,
            "until": held.until.isoformat(),
            "reason": held.reason,
            "by": held.created_by,
        }
        for target, held in quiet.items()
    }
    if args.format in ("json", "csv") or not quiet:
        # CSV has a fixed set of columns; `targetkit alerts silences` lists the silences
        write(evaluation, out, args.format, lang=args.lang, silenced=marks)
        return
    text = render(evaluation, args.format, lang=args.lang)
    zh = args.lang == "zh"
    lines = ["", "静默：" if zh else "Silenced:"]
    for target, held in sorted(quiet.items()):
        label = (
            f"已静默至 {held.until.isoformat()}（{held.reason}）"
            if zh
            else f"silenced until {held.until.isoformat()} ({held.reason})"
        )
        lines.append(f"{'- ' if args.format == 'markdown' else '  '}{target} {_one_line(label)}")
    out.write(text.rstrip("\n") + "\n" + "\n".join(lines) + "\n")


def _write_output(path: str, text: str, protected: Sequence[str]) -> None:
    """Write ``text`` to ``path`` atomically; refuse to write over one of the run's inputs."""
    import os  # noqa: PLC0415
    import secrets  # noqa: PLC0415
    import stat  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    from targetkit.exceptions import ConfigError  # noqa: PLC0415

    target = Path(path)
    for given in protected:
        source = Path(given)
        if target.exists() and source.exists() and target.resolve() == source.resolve():
            raise ConfigError.single(
                path, "", "is one of this run's input files", "choose another --output file"
            )
    if target.is_dir():
        raise ConfigError.single(path, "", "is a folder", "give a file name, e.g. report.html")
    folder = target.parent if str(target.parent) else Path()
    if not folder.is_dir():
        raise ConfigError.single(
            path, "", f"the folder {str(folder)!r} does not exist", "create it first"
        )
    # a temporary file beside the target, created like any new file (so the umask applies),
    # flushed to disk, then renamed over it: a reader, a crash or a power cut never leaves half
    # a report; the file it replaces keeps its permissions (a report kept private stays so)
    tmp = folder / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        with tmp.open("x", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if target.is_file() and not target.is_symlink():
            tmp.chmod(stat.S_IMODE(target.stat().st_mode))
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError.single(
            path,
            "",
            f"cannot be written ({exc.strerror or exc})",
            "check the folder and permissions",
        ) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _cmd_sources(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from targetkit.sources.show import show  # noqa: PLC0415

    if args.sources_command != "show":
        raise _UsageError("targetkit sources: choose an action: show")
    plan = None
    if args.plan:
        from targetkit.config import load  # noqa: PLC0415

        plan = load(args.plan)
    for line in show(args.source, plan, as_of=args.as_of):
        out.write(line + "\n")
    return EXIT_OK


def _cmd_report(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from targetkit.config import read_document  # noqa: PLC0415
    from targetkit.evaluation import evaluate  # noqa: PLC0415
    from targetkit.render.report import render_html, render_markdown  # noqa: PLC0415

    document = read_document(args.plan)
    _settle()  # a large mapping, let go once parsed: no collector pass need trace it
    settings = None
    if args.notify:
        from targetkit.notify import load_settings  # noqa: PLC0415

        settings = load_settings(args.plan, args.notify, plan_document=document)
    found_settings = _silence_settings(args.plan, settings, document)
    held = [document]
    del document  # _load_inputs lets the plan's mapping go once it is parsed
    plan, actuals, as_of = _load_inputs(args, held)
    _write_notes(actuals, err)
    evaluation = evaluate(plan, actuals, as_of=as_of)
    quiet = _active_silences(found_settings, settings is not None, plan.id, as_of, err)
    silenced = {target: (s.until, s.reason) for target, s in quiet.items()}
    if args.format == "html":
        text = render_html(evaluation, lang=args.lang, history=actuals, silenced=silenced)
    else:
        text = render_markdown(evaluation, lang=args.lang, silenced=silenced)
    if args.output:
        _write_output(args.output, text, [args.plan, *args.actuals])
        err.write(f"{args.output}: {len(evaluation)} targets as of {as_of.isoformat()}\n")
    else:
        out.write(text)
    return EXIT_OK


def _cmd_draft(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from targetkit.draft import draft_plan, read_document, save_draft  # noqa: PLC0415

    text = read_document(args.input)
    draft = draft_plan(text, year=args.year, id_prefix=args.id_prefix, source=str(args.input))
    if args.output:
        from pathlib import Path  # noqa: PLC0415

        if Path(args.output).resolve() == Path(args.input).resolve():
            raise _UsageError("targetkit draft: --output must not be the input file")
        save_draft(draft, args.output, force=args.force)
    else:
        out.write(draft.to_toml())
    err.write(
        f"{args.input}: drafted {len(draft.plan.targets)} targets; "
        f"{len(draft.uncertain)} to review, {len(draft.untracked)} sentences with numbers not tracked "
        "(listed as comments in the draft)\n"
    )
    return EXIT_OK


def _cmd_alerts(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from targetkit.config import parse_document, read_document  # noqa: PLC0415
    from targetkit.notify import history_text, load_settings  # noqa: PLC0415

    actions = ("history", "silence", "silences", "unsilence", "prune")
    if args.alerts_command not in actions:
        raise _UsageError(f"targetkit alerts: choose an action: {', '.join(actions)}")
    document = read_document(args.plan)
    _settle()  # a large mapping, let go once parsed: no collector pass need trace it
    plan = parse_document(document, args.plan)
    settings = load_settings(args.plan, args.notify, plan_document=document)
    now = dt.datetime.now(dt.UTC)
    if args.alerts_command == "silence":
        return _silence(args, plan, settings, now, out, err)
    if args.alerts_command == "silences":
        return _list_silences(args, plan, settings, now, out)
    if args.alerts_command == "unsilence":
        from targetkit.notify import unsilence  # noqa: PLC0415

        ended = unsilence(settings, plan.id, args.id, now=now)
        out.write(
            f"silence {ended.id} ended; the next run notifies its targets' open problems "
            f"({', '.join(ended.targets)})\n"
        )
        return EXIT_OK
    if args.alerts_command == "prune":
        return _prune(args, plan, settings, now, out)
    out.write(
        history_text(
            settings.state, plan.id, lang=args.lang, timezone=plan.timezone, limit=args.limit
        )
    )
    return EXIT_OK


def _silence(
    args: argparse.Namespace, plan: Any, settings: Any, now: dt.datetime, out: TextIO, err: TextIO
) -> int:
    from targetkit.notify import silence  # noqa: PLC0415

    made = silence(
        plan,
        settings,
        targets=args.target,
        owners=args.owner,
        tags=args.tag,
        until=args.until,
        reason=args.reason,
        as_of=args.as_of or _today_in(plan.timezone),
        now=now,
    )
    # the id alone on standard output, for scripts: ID=$(targetkit alerts silence …)
    out.write(f"{made.id}\n")
    err.write(
        f"silence {made.id}: {', '.join(made.targets)} silenced until {made.until.isoformat()} "
        f"({made.reason}); end it early with 'targetkit alerts unsilence PLAN {made.id}'\n"
    )
    return EXIT_OK


def _list_silences(
    args: argparse.Namespace, plan: Any, settings: Any, now: dt.datetime, out: TextIO
) -> int:
    import zoneinfo  # noqa: PLC0415

    from targetkit.notify import silences  # noqa: PLC0415

    as_of = args.as_of or _today_in(plan.timezone)
    found = (
        silences(settings, plan.id)
        if args.all
        else silences(settings, plan.id, as_of=as_of, now=now)
    )
    zone = zoneinfo.ZoneInfo(plan.timezone)
    zh = args.lang == "zh"
    if not found:
        out.write(
            ("没有生效中的静默" if zh else "no active silences")
            + (f"（截至 {as_of.isoformat()}）\n" if zh else f" (as of {as_of.isoformat()})\n")
        )
        return EXIT_OK
    for s in found:
        if s.ended_at is not None:
            state = ("已提前结束 " if zh else "ended ") + s.ended_at.astimezone(zone).strftime(
                "%Y-%m-%d %H:%M"
            )
        elif s.until < as_of:
            state = "已到期" if zh else "expired"
        else:
            state = "生效中" if zh else "active"
        set_at = s.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        label = (
            f"已静默至 {s.until.isoformat()}（{s.reason}）"
            if zh
            else (f"silenced until {s.until.isoformat()} ({s.reason})")
        )
        by = (
            (f"设置人 {s.created_by or '?'}，{set_at}")
            if zh
            else (f"set by {s.created_by or '?'} at {set_at}")
        )
        out.write(f"{s.id}\t{', '.join(s.targets)}\t{label}\t{state}\t{by}\n")
    return EXIT_OK


def _prune(
    args: argparse.Namespace, plan: Any, settings: Any, now: dt.datetime, out: TextIO
) -> int:
    from targetkit.exceptions import ConfigError  # noqa: PLC0415
    from targetkit.notify import prune, prune_line  # noqa: PLC0415

    if args.older_than is None and settings.history_retention is None:
        raise ConfigError.single(
            settings.source,
            "notify.history_retention",
            "is not set, so there is no age to prune by",
            'add history_retention = "400d" to [notify], or pass --older-than 400d',
        )
    report = prune(settings, plan.id, now=now, older_than=args.older_than, dry_run=args.dry_run)
    out.write(f"{prune_line(report)}; queued notices are kept\n")
    return EXIT_OK


def _cmd_units(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
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


# control characters (a line break in a file name or an argument) shown escaped, as repr does
_ESCAPES = {c: repr(chr(c))[1:-1] for c in (*range(0x20), 0x7F) if c != 0x09}


def _one_line(text: str) -> str:
    """Return ``text`` on one line: each problem is one line of standard error."""
    return text.translate(_ESCAPES)


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the command line and return the exit code (the console script exits with it)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = _build_parser()
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    given = list(argv if argv is not None else sys.argv[1:])
    if any("\x00" in arg for arg in given):
        err.write("targetkit: an argument holds a NUL byte, which no file name or value can hold\n")
        return EXIT_BAD_INPUT
    try:
        # --help and --version print through argparse: send them where this call's output goes
        with contextlib.redirect_stdout(out):
            args = parser.parse_args(argv)
    except _UsageError as exc:
        err.write(f"{_one_line(str(exc))}\n")
        err.write("run 'targetkit --help' (or 'targetkit COMMAND --help') for usage\n")
        return EXIT_BAD_INPUT
    except SystemExit as exc:  # --help and --version
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(out)
        return EXIT_BAD_INPUT
    commands = {
        "validate": _cmd_validate,
        "check": _cmd_check,
        "report": _cmd_report,
        "draft": _cmd_draft,
        "alerts": _cmd_alerts,
        "units": _cmd_units,
        "sources": _cmd_sources,
    }
    try:
        with _collector_settles():
            return commands[args.command](args, out, err)
    except _UsageError as exc:
        err.write(f"{_one_line(str(exc))}\n")
        return EXIT_BAD_INPUT
    except TargetkitError as exc:
        if debug:
            traceback.print_exc(file=err)
        lines = exc.lines() if hasattr(exc, "lines") else [str(exc)]
        for line in lines:
            err.write(f"error: {_one_line(line)}\n")
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
