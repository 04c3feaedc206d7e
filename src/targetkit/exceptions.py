"""Exceptions raised by targetkit.

A missed target is not an exception: it is a result. Exceptions mean that a plan, a data file or a
delivery could not be used. Every exception carries the place (file, line, field), the offending
value and a hint on how to fix it::

    TargetkitError
    ├── ConfigError (also ValueError)     a plan or notify file is wrong; .problems
    ├── DataError   (also ValueError)     an actuals file or frame is wrong; .problems
    ├── UnitError   (also ValueError)     a unit is unknown or incompatible; .unit
    ├── StateError                         the alert state file is corrupted, newer or locked; .path
    └── DeliveryError                      alerts could not be delivered; .channel, .recipient

`ConfigError` and `DataError` collect every problem of a source before raising, so a user fixes a
file in one pass instead of one error per run.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import attrs

__all__ = [
    "ConfigError",
    "DataError",
    "DeliveryError",
    "Problem",
    "StateError",
    "TargetkitError",
    "UnitError",
]


@attrs.frozen(kw_only=True)
class Problem:
    """One thing wrong with an input, with its place and a fix.

    Attributes:
        source: The file name (or ``<DataFrame>``, ``<mapping>``) the problem is in.
        path: Where inside the source: a dotted key path (``targets[3].rule.value``) or a column.
        message: What is wrong, including the offending value.
        hint: How to fix it, or an empty string when the message says it all.
        line: The 1-based line number in the source, when known.
    """

    source: str
    path: str
    message: str
    hint: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}"
        if self.path:
            where += f": {self.path}"
        text = f"{where}: {self.message}"
        if self.hint:
            text += f"; {self.hint}"
        return text


class TargetkitError(Exception):
    """Base class of every error targetkit raises on purpose."""


class _ProblemsError(TargetkitError, ValueError):
    """An input with one or more problems; ``str()`` lists them one per line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError("an input error needs at least one problem")
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(
        cls,
        source: str,
        path: str,
        message: str,
        hint: str = "",
        line: int | None = None,
    ) -> _ProblemsError:
        """Build the error from one problem."""
        return cls([Problem(source=source, path=path, message=message, hint=hint, line=line)])

    def lines(self) -> Sequence[str]:
        """Return one human-readable line per problem."""
        return [str(p) for p in self.problems]


class ConfigError(_ProblemsError):
    """A plan (or notify) file or mapping is invalid."""


class DataError(_ProblemsError):
    """An actuals file or frame is invalid."""


class UnitError(TargetkitError, ValueError):
    """A unit is not defined, or is not compatible with the unit it must convert to.

    Raised by the unit functions themselves; plan and data readers turn it into a `Problem` with
    the file and line where the unit was written.
    """

    def __init__(self, message: str, *, unit: str, hint: str = "") -> None:
        self.unit = unit
        self.message = message
        self.hint = hint
        super().__init__(f"{message}; {hint}" if hint else message)


class StateError(TargetkitError):
    """The alert state file cannot be used: corrupted, not ours, newer, or locked.

    The file is never reset silently; the message names it and says what to do.
    """

    def __init__(self, message: str, *, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: {message}")


class DeliveryError(TargetkitError):
    """Alerts could not be delivered; they stay queued for the next run."""

    def __init__(self, message: str, *, channel: str, recipient: str = "") -> None:
        self.channel = channel
        self.recipient = recipient
        super().__init__(message)
