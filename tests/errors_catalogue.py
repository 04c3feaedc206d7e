"""Read error messages out of the source code and out of docs/reference/errors.md.

The source side walks the syntax tree of every module in ``src/targetkit`` and collects the message
of every call that produces an error a user can meet:

- ``errs.add(path, message, hint)`` (plan and notify files), ``problem(i, column, message, hint)``
  and ``Problem(message=…)`` (actuals), ``XError.single(source, path, message, hint)``;
- ``UnitError(message)``, ``StateError(message)``, ``DeliveryError(message)`` and the helpers that
  build them (``_fail``, ``_UnusableError``), ``_UsageError(message)`` (command line), and the
  lines the command line writes to stderr itself (``err.write("targetkit: …")`` and its
  ``error: internal error …``);
- ``raise ValueError(…)`` / ``TypeError(…)`` / ``KeyError(…)`` / ``ArgumentTypeError(…)``: the
  readers turn these into problems with ``str(exc)``;
- the ``(field, message, hint)`` triples of a rule's ``check`` (any function annotated to return
  ``…tuple[str, str, str]]``) and the ``(message, hint)`` pairs of ``actuals._unit_verdict``.

A message becomes a *form*: its literal text with every ``{…!r}`` written as ``'…'`` and every
other ``{…}`` as ``…``. Forms survive reformatting (implicitly joined literals are one node) and
renamed variables. A message that is only a placeholder (``str(exc)``) passes another message
through and has no form of its own.

The catalogue side reads the first column of every table headed ``| message | cause | fix |`` in
errors.md; each cell holds one form in backticks.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "targetkit"
CATALOGUE = ROOT / "docs" / "reference" / "errors.md"

PLACEHOLDER = "…"

# callee name → (index of the message among positional arguments, keyword name of the message)
_SINKS: dict[str, tuple[int | None, str | None]] = {
    "add": (1, "message"),  # only on a receiver named ``errs``
    "problem": (2, "message"),
    "Problem": (None, "message"),
    "single": (2, "message"),
    "UnitError": (0, "message"),
    "StateError": (0, "message"),
    "DeliveryError": (0, "message"),
    "_UnusableError": (0, None),
    "_fail": (0, "message"),
    "_UsageError": (0, None),
    "ValueError": (0, None),
    "TypeError": (0, None),
    "KeyError": (0, None),
    "ArgumentTypeError": (0, None),
    "PlotsUnavailableError": (0, None),
    "NotebookUnavailableError": (0, None),
}
# functions returning (message, hint) pairs rather than raising
_PAIR_FUNCTIONS = {("actuals.py", "_unit_verdict")}


@attrs.frozen
class Site:
    """One place in the source that produces a message form."""

    form: str
    file: str
    line: int

    def __str__(self) -> str:
        return f"src/targetkit/{self.file}:{self.line}: {self.form}"


def forms(node: ast.expr) -> Iterator[str]:
    """Yield the message forms an expression can produce."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.JoinedStr):
        text = ""
        for part in node.values:
            if isinstance(part, ast.Constant):
                text += str(part.value)
            elif isinstance(part, ast.FormattedValue):
                text += f"'{PLACEHOLDER}'" if part.conversion == ord("r") else PLACEHOLDER
        yield text
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        for left in forms(node.left):
            for right in forms(node.right):
                yield left + right
    elif isinstance(node, ast.IfExp):
        yield from forms(node.body)
        yield from forms(node.orelse)
    else:
        yield PLACEHOLDER


def has_words(form: str) -> bool:
    """Return True when a form says something of its own (it is not just ``str(exc)``)."""
    bare = form.replace(f"'{PLACEHOLDER}'", "").replace(PLACEHOLDER, "")
    return re.search(r"[A-Za-z\u4e00-\u9fff]", bare) is not None


def _callee(call: ast.Call) -> tuple[str | None, str | None]:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id, None
    if isinstance(func, ast.Attribute):
        base = func.value
        if isinstance(base, ast.Name):
            return func.attr, base.id
        if isinstance(base, ast.Attribute):
            return func.attr, base.attr
        return func.attr, None
    return None, None


def _stderr_forms(call: ast.Call) -> list[str]:
    """Return the forms of a message the command line writes to stderr itself, if any."""
    name, base = _callee(call)
    if name != "write" or base != "err" or len(call.args) != 1:
        return []
    found = [f.removesuffix("\n") for f in forms(call.args[0])]
    return [f for f in found if f.startswith(("targetkit:", "error: internal error"))]


def _message_arg(call: ast.Call) -> ast.expr | None:
    name, base = _callee(call)
    if name not in _SINKS or (name == "add" and base != "errs"):
        return None
    index, keyword = _SINKS[name]
    for kw in call.keywords:
        if keyword is not None and kw.arg == keyword:
            return kw.value
    if index is not None and len(call.args) > index:
        return call.args[index]
    return None


def _tuple_messages(func: ast.FunctionDef, file: str) -> Iterator[ast.expr]:
    """Yield the message element of the problem tuples a function returns."""
    returns = ast.unparse(func.returns) if func.returns else ""
    if returns.endswith("tuple[str, str, str]]"):
        size, index = 3, 1
    elif (file, func.name) in _PAIR_FUNCTIONS:
        size, index = 2, 0
    else:
        return
    compared = {id(t) for c in ast.walk(func) if isinstance(c, ast.Compare) for t in ast.walk(c)}
    for node in ast.walk(func):
        if isinstance(node, ast.Tuple) and len(node.elts) == size and id(node) not in compared:
            yield node.elts[index]


def source_sites() -> list[Site]:
    """Return every message form produced in ``src/targetkit``, with its place."""
    sites: list[Site] = []
    for path in sorted(SRC.rglob("*.py")):
        file = path.relative_to(SRC).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        messages: list[ast.expr] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and (arg := _message_arg(node)) is not None:
                messages.append(arg)
            elif isinstance(node, ast.Call) and file == "cli.py":
                sites.extend(Site(f, file, node.lineno) for f in _stderr_forms(node))
            elif isinstance(node, ast.FunctionDef):
                messages.extend(_tuple_messages(node, file))
        for message in messages:
            sites.extend(Site(f, file, message.lineno) for f in forms(message) if has_words(f))
    return sites


# a row's first cell: the form in backticks, after an optional note in italics (*second pass:*)
_ROW = re.compile(r"^\|\s*(?:\*[^*]+\*\s*)?`(?P<form>[^`]+)`\s*\|")


def catalogue_rows(path: Path = CATALOGUE) -> list[tuple[int, str, list[str]]]:
    """Return (line, form, cells) for every row of the message tables in errors.md."""
    rows: list[tuple[int, str, list[str]]] = []
    in_table = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if re.match(r"^\|\s*message\s*\|\s*cause\s*\|\s*fix\s*\|\s*$", line):
            in_table = True
            continue
        if not line.startswith("|"):
            in_table = False
            continue
        if in_table and not re.match(r"^\|[-| ]+\|$", line):
            m = _ROW.match(line)
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            rows.append((number, m["form"] if m else "", cells))
    return rows


def catalogue_forms(path: Path = CATALOGUE) -> dict[str, int]:
    """Return {form: line} for every row of the message tables in errors.md."""
    out: dict[str, int] = {}
    for number, form, _cells in catalogue_rows(path):
        if form:
            out.setdefault(form, number)
    return out


def form_pattern(form: str) -> re.Pattern[str]:
    """Return a regex that a message of this form matches in full."""
    parts = re.split(rf"('{PLACEHOLDER}'|{PLACEHOLDER})", form)
    regex = "".join(".*" if p in (PLACEHOLDER, f"'{PLACEHOLDER}'") else re.escape(p) for p in parts)
    return re.compile(regex, re.DOTALL)


_PATTERNS: list[tuple[str, re.Pattern[str]]] = []


def matching_forms(message: str) -> list[str]:
    """Return the catalogued forms a concrete message matches (best first: most literal text)."""
    if not _PATTERNS:
        _PATTERNS.extend((f, form_pattern(f)) for f in catalogue_forms())
    found = [f for f, p in _PATTERNS if p.fullmatch(message)]
    return sorted(found, key=lambda f: -len(f.replace(PLACEHOLDER, "")))
