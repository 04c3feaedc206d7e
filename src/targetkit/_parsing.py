"""The one kit for reading the files users write: problems with their place, typed getters.

Plan files (`targetkit.config`), notify settings (`targetkit.notify.settings`) and sources files
(`targetkit.sources.reading`) read their TOML or JSON through these pieces, so that a key path is
located, a problem worded and a value checked the same way everywhere: ``plan.toml:12:
targets[3].rule.unit: unknown key 'unti'; did you mean 'unit'?``.
"""

from __future__ import annotations

import difflib
import enum
import functools
import importlib
import json
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import attrs

from targetkit.exceptions import ConfigError, Problem

__all__ = [
    "MISSING",
    "Collector",
    "KeyPath",
    "Lines",
    "TomlSyntaxError",
    "boolean",
    "check_keys",
    "choice",
    "did_you_mean",
    "get",
    "names",
    "nonempty_line",
    "nonempty_text",
    "one_line",
    "path_text",
    "read_document",
    "read_toml",
    "text",
    "text_list",
    "toml_reader",
]

KeyPath = Sequence[str | int]
E = TypeVar("E", bound=enum.Enum)
MISSING: Any = object()
"""What `get` finds for an absent key."""


class Lines:
    """Find the line of a key path in a TOML or JSON text (best effort; None when unsure).

    ``targets[3].rule.unit`` is found by going to the fourth ``[[targets]]`` table (or, in JSON,
    to the line holding that target's ``"id"``), then to each key in turn from there, whether it
    is written inline (``rule = { unit = … }``), in a sub-table (``[targets.rule]``) or nested.
    """

    def __init__(self, text: str | None, data: Any = None) -> None:
        self.lines = text.splitlines() if text else []
        self.data = data

    def _array_headers(self, name: str) -> list[int]:
        pattern = re.compile(rf"^\s*\[\[\s*{re.escape(name)}\s*\]\]")
        return [i for i, line in enumerate(self.lines) if pattern.match(line)]

    def _segment_end(self, name: str, start: int) -> int:
        for i in range(start + 1, len(self.lines)):
            line = self.lines[i].lstrip()
            if not line.startswith("["):
                continue
            inner = line.lstrip("[").lstrip()
            if line.startswith("[[") and inner.startswith(f"{name}]"):
                return i
            if not inner.startswith(f"{name}."):
                return i
        return len(self.lines)

    def _key(self, key: str, start: int, end: int, parent: str) -> int | None:
        quoted = re.escape(key)
        pattern = re.compile(
            rf'(^|[\s{{,])"?{quoted}"?\s*[=:]|^\s*\[\s*{re.escape(parent)}\.{quoted}\s*\]'
        )
        for i in range(start, end):
            if pattern.search(self.lines[i]):
                return i
        return None

    def find(self, path: Sequence[str | int]) -> int | None:
        if not self.lines or not path:
            return None
        head = str(path[0])
        rest = list(path[1:])
        index = rest.pop(0) if rest and isinstance(rest[0], int) else None
        start, end = 0, len(self.lines)
        headers = self._array_headers(head) if index is not None else []
        if headers:
            if int(index or 0) >= len(headers):
                return None
            start = headers[int(index or 0)]
            end = self._segment_end(head, start)
        else:
            found = next(iter(self._array_headers(head)), None)
            if found is None:
                found = self._key(head, 0, end, "")
            if found is None:
                found = next(
                    (
                        i
                        for i, line in enumerate(self.lines)
                        if re.match(rf"^\s*\[\s*{re.escape(head)}\s*\]", line)
                    ),
                    None,
                )
            if found is None:
                return None
            start = found
            if index is not None:
                anchor = self._json_anchor(head, int(index), start)
                if anchor is None:
                    return start + 1
                start = anchor
        line = start
        parent = head
        for k, part in enumerate(rest):
            if isinstance(part, int):
                continue
            name = f"{parent}.{part}"
            nested = self._array_headers(name)
            after = rest[k + 1] if k + 1 < len(rest) else None
            if nested and isinstance(after, int):
                # an array of tables inside a table: [[notify.routes]], the after-th one
                if after >= len(nested):
                    return None
                line, parent = nested[after], name
                end = self._segment_end(name, line)
                continue
            found = self._key(part, line, end, parent)
            if found is None:
                break
            line, parent = found, name
        return line + 1

    def _json_anchor(self, head: str, index: int, start: int) -> int | None:
        """Return the line of the ``index``-th item's id in a JSON array, found by its value."""
        try:
            ident = self.data[head][index]["id"]
        except (KeyError, IndexError, TypeError):
            return None
        if not isinstance(ident, str):
            return None
        pattern = re.compile(rf'"id"\s*:\s*{re.escape(json.dumps(ident, ensure_ascii=False))}')
        ascii_pattern = re.compile(rf'"id"\s*:\s*{re.escape(json.dumps(ident))}')
        for i in range(start, len(self.lines)):
            if pattern.search(self.lines[i]) or ascii_pattern.search(self.lines[i]):
                # step back to the line that opens the item, so keys before "id" are found too
                j = i
                while j > start and "{" not in self.lines[j]:
                    j -= 1
                return j
        return None


@attrs.define
class Collector:
    """Every problem of one file, each with its key path, line, message and fix."""

    source: str
    lines: Lines
    problems: list[Problem] = attrs.field(factory=list)

    def add(self, path: KeyPath, message: str, hint: str = "") -> None:
        """Record a problem at a key path (its line found in the file's text)."""
        self.problems.append(
            Problem(
                source=self.source,
                path=path_text(path),
                message=message,
                hint=hint,
                line=self.lines.find(path),
            )
        )


def path_text(path: KeyPath) -> str:
    """Return a key path as people write it: ``targets[3].rule.unit``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + part
    return out


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """Return "did you mean 'x'?" for the closest choice, or ""."""
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def check_keys(
    table: Mapping[str, Any],
    allowed: Sequence[str],
    path: KeyPath,
    errs: Collector,
    *,
    listing: str = "allowed keys: ",
) -> None:
    """Report every key of ``table`` not in ``allowed``, with the closest allowed key.

    Without a close one, the hint is ``listing`` followed by the allowed keys.
    """
    for key in table:
        if key not in allowed:
            hint = did_you_mean(key, allowed) or listing + ", ".join(allowed)
            errs.add([*path, key], f"unknown key {key!r}", hint)


def get(
    table: Mapping[str, Any],
    key: str,
    path: KeyPath,
    errs: Collector,
    convert: Callable[[Any], Any],
    *,
    required: bool = False,
    default: Any = None,
    expect: str = "",
) -> Any:
    """Return ``convert(table[key])``, or ``default`` after recording why it could not be read.

    ``convert`` raises ValueError or TypeError with a readable message for a bad value; the
    problem then reads ``<message> (got <value>)`` with the hint ``write <expect>``.
    """
    raw = table.get(key, MISSING)
    if raw is MISSING:
        if required:
            errs.add([*path, key], f"the key {key!r} is missing", f"add {key} = {expect or '…'}")
        return default
    try:
        return convert(raw)
    except (ValueError, TypeError) as exc:
        errs.add([*path, key], f"{exc} (got {raw!r})", f"write {expect}" if expect else "")
        return default


def text(raw: Any) -> str:
    """Return text, stripped (line breaks inside are kept)."""
    if not isinstance(raw, str):
        raise TypeError("expected text")
    return raw.strip()


def nonempty_text(raw: Any) -> str:
    """Return non-empty text, stripped."""
    if not isinstance(raw, str):  # `text`, written out: every id and title comes through here
        raise TypeError("expected text")
    value = raw.strip()
    if not value:
        raise ValueError("must not be empty")
    return value


def one_line(raw: Any) -> str:
    """Return text on one line, stripped (headers, addresses, names)."""
    value = text(raw)
    if "\n" in value or "\r" in value:
        raise ValueError("must be on one line")
    return value


def nonempty_line(raw: Any) -> str:
    """Return non-empty text on one line, stripped."""
    value = one_line(raw)
    if not value:
        raise ValueError("must not be empty")
    return value


def boolean(raw: Any) -> bool:
    """Return true or false (TOML and JSON booleans only, never 0/1 or "yes")."""
    if not isinstance(raw, bool):
        raise TypeError("expected true or false")
    return raw


def text_list(raw: Any) -> tuple[str, ...]:
    """Return a list of texts, each stripped."""
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise TypeError("expected a list of text")
    return tuple(x.strip() for x in raw)


def names(raw: Any) -> tuple[str, ...]:
    """Return one name or a list of names (``to = "a@x"`` or ``to = ["a@x", "b@x"]``), blanks dropped."""
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        raise TypeError("expected a list of text")
    return tuple(x.strip() for x in items if x.strip())


def choice(enum_type: type[E]) -> Callable[[Any], E]:
    """Return a converter to a member of ``enum_type`` by its value, in any letter case."""
    members = {str(member.value).lower(): member for member in enum_type}

    def convert(raw: Any) -> E:
        if not isinstance(raw, str):
            raise TypeError("expected text")
        found = members.get(raw.strip().lower())
        if found is not None:
            return found
        choices = [str(e.value) for e in enum_type]
        hint = did_you_mean(raw.strip(), choices)
        raise ValueError(f"must be one of {', '.join(choices)}" + (f"; {hint}" if hint else ""))

    return convert


# --------------------------------------------------------------------------- TOML


class TomlSyntaxError(ValueError):
    """A TOML text that does not parse: ``message`` keeps its place ("(at line 3, column 9)")."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message, self.line = message, line


# tomli releases whose compiled build reads TOML 1.0, the language of tomllib: from 2.4 on tomli
# reads TOML 1.1 (newlines and a trailing comma in inline tables, \e, times without seconds),
# and a plan must mean the same whichever reader is installed
_TOMLI = ((2, 1), (2, 4))


@functools.cache
def toml_reader() -> str:
    """Return which reader parses TOML here: ``tomli`` (compiled) or ``tomllib``.

    The same parser, the same messages and the same TOML 1.0: tomli's compiled build (the
    ``fast`` extra, ``pip install 'targetkit[fast]'``) reads a large plan about twice as fast as
    the standard library's pure-Python tomllib. Any other tomli installed is left unused.
    """
    try:
        tomli = importlib.import_module("tomli")
        parser = importlib.import_module("tomli._parser")
    except ImportError:
        return "tomllib"
    version = tuple(int(p) for p in str(getattr(tomli, "__version__", "0.0")).split(".")[:2])
    compiled = not str(getattr(parser, "__file__", "")).endswith(".py")
    return "tomli" if compiled and _TOMLI[0] <= version < _TOMLI[1] else "tomllib"


def read_toml(text: str) -> dict[str, Any]:
    """Parse TOML text with `toml_reader`'s reader.

    Raises:
        TomlSyntaxError: when the text is not TOML, with the reader's message and its line.
    """
    module: Any = importlib.import_module("tomli") if toml_reader() == "tomli" else tomllib
    try:
        data: dict[str, Any] = module.loads(text)
    except module.TOMLDecodeError as exc:
        message = str(exc)  # both readers word it alike: "Invalid value (at line 3, column 9)"
        found = re.search(r"at line (\d+)", message)
        raise TomlSyntaxError(message, int(found[1]) if found else None) from exc
    return data


def read_document(path: Path, *, save_hint: str) -> tuple[Any, str]:
    """Read a file a user writes once: its parsed content and its text (for line numbers).

    ``.json`` (any case) is read as JSON, anything else as TOML (`read_toml`). ``save_hint`` is
    the fix shown for a file that is not UTF-8 ("save the plan file as UTF-8").

    Raises:
        ConfigError: when the file cannot be read, is not UTF-8 or is not valid TOML/JSON, with
            the line of a syntax error.
    """
    source = str(path)
    try:
        raw = path.read_bytes()
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise ConfigError.single(
            source, "", f"cannot be read ({reason})", "check the path"
        ) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError.single(source, "", "is not UTF-8 text", save_hint) from exc
    del raw  # the text is what is kept
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError.single(
                source, "", f"is not valid JSON: {exc.msg}", "fix the syntax", line=exc.lineno
            ) from exc
    else:
        try:
            data = read_toml(text)
        except TomlSyntaxError as exc:
            # the message keeps "(at line 3, column 9)": the column helps
            raise ConfigError.single(
                source, "", f"is not valid TOML: {exc.message}", "fix the syntax", line=exc.line
            ) from exc
    return data, text
