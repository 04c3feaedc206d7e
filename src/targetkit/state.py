"""Alert state: what was seen, notified and resolved, per plan and alert, in a sqlite file.

Two layers, kept apart so the first can be tested without files:

- `decide` is pure. Given the stored records, this run's alerts (a `Snapshot` of an evaluation),
  the run's clock and a `Policy`, it returns the notices to send and the records to store. It
  never reads the clock or touches a file.
- `StateStore` is the sqlite file: its schema version, a lock so that two runs started at once
  send once, the transaction that reads the records, decides and queues the notices, and the
  outbox from which notices are delivered (and retried until they are).

The lifecycle (DESIGN § Alerts, docs/explanation/alert-lifecycle.md)::

    (none) ──alert──▶ firing ──status changes──▶ firing (notice "changed")
      ▲                 │  └──unchanged for repeat_interval──▶ firing (notice "repeat")
      │                 ▼
      └──alert again── resolved (notice "resolved", sent once)

Reruns for the same as-of date add nothing: a repeat needs both a later as-of date and the repeat
interval elapsed, and a run whose as-of date is earlier than the last one changes nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import json
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import attrs

from targetkit.evaluation import Evaluation
from targetkit.exceptions import StateError
from targetkit.model import Severity

__all__ = [
    "OVERDUE",
    "RECEIVED",
    "REMOVED",
    "SCHEMA_VERSION",
    "AlertRecord",
    "ChangePolicy",
    "CurrentAlert",
    "Decision",
    "HistoryEntry",
    "Notice",
    "NoticeKind",
    "OutboxItem",
    "Policy",
    "Router",
    "Snapshot",
    "StateError",
    "StateStore",
    "decide",
    "lock_path",
    "read_history",
    "read_records",
    "severity_rank",
]

SCHEMA_VERSION = 1
"""Version of the state file's tables; a file written by a newer targetkit is refused."""

_APPLICATION_ID = 0x544B5354  # "TKST": marks the sqlite file as a targetkit state file

OVERDUE = "overdue"
"""The status stored for a data-overdue alert (it has no target status)."""
RECEIVED = "received"
"""The status stored for a data-overdue alert once the figure is in."""
REMOVED = "removed"
"""The status stored for an alert whose target is no longer in the plan."""


# --------------------------------------------------------------------------- values


class NoticeKind(enum.StrEnum):
    """Why a notice is sent."""

    NEW = "new"
    """A problem appeared (or came back after it was resolved)."""
    CHANGED = "changed"
    """A problem's status or severity changed (worse or better)."""
    REPEAT = "repeat"
    """An unchanged problem, repeated after the repeat interval."""
    RESOLVED = "resolved"
    """A problem is gone; sent once."""


class ChangePolicy(enum.StrEnum):
    """Which status changes of an open problem are notified."""

    ANY = "any"
    """Worse and better (off_track → behind as well as behind → off_track)."""
    WORSE = "worse"
    """Only changes for the worse; improvements update the state silently."""


_SEVERITY_RANK = {Severity.WARNING: 1, Severity.CRITICAL: 2}
_STATUS_RANK = {"behind": 1, OVERDUE: 1, "off_track": 2, "missed": 3}


def severity_rank(severity: Severity) -> int:
    """Return how serious a severity is: warning 1 < critical 2."""
    return _SEVERITY_RANK[severity]


def _positive(_instance: object, attribute: attrs.Attribute[dt.timedelta], value: Any) -> None:
    if value <= dt.timedelta(0):
        raise ValueError(f"{attribute.name} must be positive (got {value})")


@attrs.frozen(kw_only=True)
class Policy:
    """When to notify: the repeat interval, resolved notices, which changes count."""

    repeat_interval: dt.timedelta = attrs.field(default=dt.timedelta(days=7), validator=_positive)
    send_resolved: bool = True
    on_change: ChangePolicy = ChangePolicy.ANY


def _str_tuple(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


@attrs.frozen(kw_only=True)
class CurrentAlert:
    """One alert of this run, with what a notice about it needs to say.

    ``status`` is the target's status value (``behind``, ``off_track``, ``missed``) for a status
    alert and ``overdue`` for a data-overdue alert. ``message_*`` is the explanation.
    """

    key: str
    kind: str
    target: str
    title: str
    severity: Severity
    status: str
    indicator: str = ""
    owner: str = ""
    tags: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    message_zh: str = ""
    message_en: str = ""


def _alert_tuple(items: Iterable[CurrentAlert]) -> tuple[CurrentAlert, ...]:
    return tuple(items)


@attrs.frozen(kw_only=True)
class Snapshot:
    """What one evaluation says about alerts: the input of `decide`.

    ``statuses`` maps every target to its status value now, so that a resolved notice can say
    where the target stands.
    """

    plan_id: str
    plan_title: str
    as_of: dt.date
    alerts: tuple[CurrentAlert, ...] = attrs.field(default=(), converter=_alert_tuple)
    statuses: Mapping[str, str] = attrs.field(factory=dict, hash=False)

    @classmethod
    def from_evaluation(cls, evaluation: Evaluation) -> Snapshot:
        """Build the snapshot of an evaluation's alerts (pure)."""
        plan = evaluation.plan
        results = {r.target: r for r in evaluation.results}
        alerts: list[CurrentAlert] = []
        for alert in evaluation.alerts:
            target = plan.target(alert.target) if alert.target in results else None
            title = target.title if target is not None else alert.target
            tags = target.tags if target is not None else ()
            if alert.kind == "status" and alert.status is not None and alert.target in results:
                result = results[alert.target]
                status = alert.status.value
                message_zh, message_en = result.message_zh, result.message_en
            else:
                status = OVERDUE if alert.status is None else alert.status.value
                message_zh, message_en = alert.message_zh, alert.message_en
            alerts.append(
                CurrentAlert(
                    key=alert.key,
                    kind=alert.kind,
                    target=alert.target,
                    title=title,
                    severity=alert.severity,
                    status=status,
                    indicator=alert.indicator,
                    owner=alert.owner,
                    tags=tags,
                    message_zh=message_zh,
                    message_en=message_en,
                )
            )
        return cls(
            plan_id=plan.id,
            plan_title=plan.title,
            as_of=evaluation.as_of,
            alerts=tuple(alerts),
            statuses={r.target: r.status.value for r in evaluation.results},
        )


@attrs.frozen(kw_only=True)
class AlertRecord:
    """The stored state of one alert (one alert key of one plan).

    ``peak_severity`` is the highest severity of the current episode (since the alert last
    fired after being clear); routes use it, so whoever heard of a problem hears that it
    improved or was resolved.
    """

    key: str
    kind: str
    target: str
    title: str
    firing: bool
    status: str
    severity: Severity
    peak_severity: Severity
    first_seen: dt.datetime
    first_seen_as_of: dt.date
    last_seen_as_of: dt.date
    last_notified: dt.datetime | None = None
    last_notified_as_of: dt.date | None = None
    last_resolved: dt.datetime | None = None
    indicator: str = ""
    owner: str = ""
    tags: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    message_zh: str = ""
    message_en: str = ""


@attrs.frozen(kw_only=True)
class Notice:
    """One line of a digest: something a person should hear about, and why now.

    ``status`` is the status now (for a resolved notice, the target's status after recovery, or
    ``received`` for data that came in); ``previous_status`` the one before a change.
    ``peak_severity`` is used for routing, ``severity`` for display.
    """

    kind: NoticeKind
    key: str
    alert_kind: str
    target: str
    title: str
    severity: Severity
    peak_severity: Severity
    status: str
    as_of: dt.date
    first_seen_as_of: dt.date
    previous_status: str = ""
    indicator: str = ""
    owner: str = ""
    tags: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    message_zh: str = ""
    message_en: str = ""

    def message(self, lang: str = "zh") -> str:
        """Return the explanation in Chinese (``zh``) or English (``en``)."""
        return self.message_en if lang == "en" else self.message_zh

    def to_json(self) -> str:
        """Return the notice as a JSON document (how the outbox stores it)."""
        data = {
            "kind": self.kind.value,
            "key": self.key,
            "alert_kind": self.alert_kind,
            "target": self.target,
            "title": self.title,
            "severity": self.severity.value,
            "peak_severity": self.peak_severity.value,
            "status": self.status,
            "previous_status": self.previous_status,
            "as_of": self.as_of.isoformat(),
            "first_seen_as_of": self.first_seen_as_of.isoformat(),
            "indicator": self.indicator,
            "owner": self.owner,
            "tags": list(self.tags),
            "message_zh": self.message_zh,
            "message_en": self.message_en,
        }
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Notice:
        """Read a notice written by `to_json`."""
        data = json.loads(text)
        return cls(
            kind=NoticeKind(data["kind"]),
            key=data["key"],
            alert_kind=data["alert_kind"],
            target=data["target"],
            title=data["title"],
            severity=Severity(data["severity"]),
            peak_severity=Severity(data["peak_severity"]),
            status=data["status"],
            previous_status=data.get("previous_status", ""),
            as_of=dt.date.fromisoformat(data["as_of"]),
            first_seen_as_of=dt.date.fromisoformat(data["first_seen_as_of"]),
            indicator=data.get("indicator", ""),
            owner=data.get("owner", ""),
            tags=tuple(data.get("tags", ())),
            message_zh=data.get("message_zh", ""),
            message_en=data.get("message_en", ""),
        )


@attrs.frozen(kw_only=True)
class Decision:
    """What a run does: the notices to queue and the records to store.

    ``stale`` is True when the run's as-of date is earlier than the last run's: such a run
    changes nothing and sends nothing new.
    """

    notices: tuple[Notice, ...] = ()
    records: tuple[AlertRecord, ...] = ()
    stale: bool = False


# --------------------------------------------------------------------------- pure decision


def _require_aware(now: dt.datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be a timezone-aware datetime (got {now!r})")


def _is_worse(alert: CurrentAlert, prev: AlertRecord) -> bool:
    if severity_rank(alert.severity) != severity_rank(prev.severity):
        return severity_rank(alert.severity) > severity_rank(prev.severity)
    return _STATUS_RANK.get(alert.status, 0) > _STATUS_RANK.get(prev.status, 0)


def _max_severity(a: Severity, b: Severity) -> Severity:
    return a if severity_rank(a) >= severity_rank(b) else b


def decide(
    previous: Mapping[str, AlertRecord],
    snapshot: Snapshot,
    *,
    now: dt.datetime,
    policy: Policy,
    last_as_of: dt.date | None = None,
) -> Decision:
    """Decide what to notify, given what was known before and what this run sees.

    Args:
        previous: The stored records of the plan, by alert key.
        snapshot: This run's alerts and statuses.
        now: The run's clock (timezone-aware); it is never read here.
        policy: Repeat interval, resolved notices, which changes count.
        last_as_of: The as-of date of the latest earlier run, if any.

    Returns:
        The notices to queue (in alert order, resolved ones last) and the records to store.
    """
    _require_aware(now)
    as_of = snapshot.as_of
    if last_as_of is not None and as_of < last_as_of:
        return Decision(stale=True)
    notices: list[Notice] = []
    records: list[AlertRecord] = []
    current_keys: set[str] = set()
    for alert in snapshot.alerts:
        if alert.key in current_keys:  # the same key twice in one evaluation: first one counts
            continue
        current_keys.add(alert.key)
        prev = previous.get(alert.key)
        facts: dict[str, Any] = {
            "key": alert.key,
            "kind": alert.kind,
            "target": alert.target,
            "title": alert.title,
            "indicator": alert.indicator,
            "owner": alert.owner,
            "tags": alert.tags,
            "message_zh": alert.message_zh,
            "message_en": alert.message_en,
        }
        notice_facts = {k: v for k, v in facts.items() if k != "kind"}
        if prev is None or not prev.firing:
            # a new problem, or one that came back after it was resolved: a new episode
            notices.append(
                Notice(
                    kind=NoticeKind.NEW,
                    alert_kind=alert.kind,
                    severity=alert.severity,
                    peak_severity=alert.severity,
                    status=alert.status,
                    previous_status=prev.status if prev is not None else "",
                    as_of=as_of,
                    first_seen_as_of=as_of,
                    **notice_facts,
                )
            )
            records.append(
                AlertRecord(
                    firing=True,
                    status=alert.status,
                    severity=alert.severity,
                    peak_severity=alert.severity,
                    first_seen=now,
                    first_seen_as_of=as_of,
                    last_seen_as_of=as_of,
                    last_notified=now,
                    last_notified_as_of=as_of,
                    last_resolved=prev.last_resolved if prev is not None else None,
                    **facts,
                )
            )
            continue
        peak = _max_severity(prev.peak_severity, alert.severity)
        changed = alert.status != prev.status or alert.severity != prev.severity
        kind: NoticeKind | None = None
        if changed:
            if policy.on_change is ChangePolicy.ANY or _is_worse(alert, prev):
                kind = NoticeKind.CHANGED
        elif (
            prev.last_notified is not None
            and (prev.last_notified_as_of is None or as_of > prev.last_notified_as_of)
            and now - prev.last_notified >= policy.repeat_interval
        ):
            kind = NoticeKind.REPEAT
        if kind is not None:
            notices.append(
                Notice(
                    kind=kind,
                    alert_kind=alert.kind,
                    severity=alert.severity,
                    peak_severity=peak,
                    status=alert.status,
                    previous_status=prev.status if kind is NoticeKind.CHANGED else "",
                    as_of=as_of,
                    first_seen_as_of=prev.first_seen_as_of,
                    **notice_facts,
                )
            )
        records.append(
            attrs.evolve(
                prev,
                status=alert.status,
                severity=alert.severity,
                peak_severity=peak,
                last_seen_as_of=as_of,
                last_notified=now if kind is not None else prev.last_notified,
                last_notified_as_of=as_of if kind is not None else prev.last_notified_as_of,
                **{k: v for k, v in facts.items() if k not in ("key", "kind", "target")},
            )
        )
    for key, prev in previous.items():
        if not prev.firing or key in current_keys:
            continue
        if prev.target not in snapshot.statuses:
            status_now = REMOVED
        elif prev.kind == "status":
            status_now = snapshot.statuses[prev.target]
        else:
            status_now = RECEIVED
        if policy.send_resolved:
            notices.append(
                Notice(
                    kind=NoticeKind.RESOLVED,
                    key=prev.key,
                    alert_kind=prev.kind,
                    target=prev.target,
                    title=prev.title,
                    severity=prev.severity,
                    peak_severity=prev.peak_severity,
                    status=status_now,
                    previous_status=prev.status,
                    as_of=as_of,
                    first_seen_as_of=prev.first_seen_as_of,
                    indicator=prev.indicator,
                    owner=prev.owner,
                    tags=prev.tags,
                    message_zh=prev.message_zh,
                    message_en=prev.message_en,
                )
            )
        records.append(
            attrs.evolve(
                prev,
                firing=False,
                status=status_now,
                last_seen_as_of=as_of,
                last_resolved=now,
                last_notified=now if policy.send_resolved else prev.last_notified,
                last_notified_as_of=as_of if policy.send_resolved else prev.last_notified_as_of,
            )
        )
    return Decision(notices=tuple(notices), records=tuple(records))


# --------------------------------------------------------------------------- outbox values


@attrs.frozen(kw_only=True)
class OutboxItem:
    """A notice queued for one recipient on one channel, pending until it is delivered.

    ``channel`` is ``email`` (``recipient`` is an address), ``maildir`` (notices no route
    matched; ``recipient`` is empty) or ``webhook`` (``recipient`` is the webhook's name).
    ``id`` is 0 for an item that is not stored (a dry run).
    """

    id: int
    run: int
    plan_id: str
    plan_title: str
    channel: str
    recipient: str
    lang: str
    notice: Notice
    created: dt.datetime
    attempts: int = 0
    last_error: str = ""
    sent: dt.datetime | None = None
    message_id: str = ""


@attrs.frozen(kw_only=True)
class HistoryEntry:
    """One queued or delivered notice, as `targetkit alerts history` shows it."""

    item: OutboxItem
    run_as_of: dt.date

    @property
    def delivered(self) -> bool:
        """Return True once the notice was delivered."""
        return self.item.sent is not None


Router = Callable[[Sequence[Notice]], Sequence[tuple[str, str, str, Notice]]]
"""Routing: notices → (channel, recipient, lang, notice) rows to queue."""


# --------------------------------------------------------------------------- sqlite


_SCHEMA = """
CREATE TABLE targetkit_schema (
    version INTEGER NOT NULL,
    written_by TEXT NOT NULL
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    plan TEXT NOT NULL,
    as_of TEXT NOT NULL,
    at TEXT NOT NULL,
    notices INTEGER NOT NULL,
    stale INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_plan ON runs (plan, as_of);
CREATE TABLE alerts (
    plan TEXT NOT NULL,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    title TEXT NOT NULL,
    indicator TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    firing INTEGER NOT NULL CHECK (firing IN (0, 1)),
    status TEXT NOT NULL,
    severity TEXT NOT NULL,
    peak_severity TEXT NOT NULL,
    message_zh TEXT NOT NULL DEFAULT '',
    message_en TEXT NOT NULL DEFAULT '',
    first_seen TEXT NOT NULL,
    first_seen_as_of TEXT NOT NULL,
    last_seen_as_of TEXT NOT NULL,
    last_notified TEXT,
    last_notified_as_of TEXT,
    last_resolved TEXT,
    PRIMARY KEY (plan, key)
);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    run INTEGER NOT NULL REFERENCES runs (id),
    plan TEXT NOT NULL,
    plan_title TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    lang TEXT NOT NULL,
    notice TEXT NOT NULL,
    created TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    last_attempt TEXT,
    sent TEXT,
    message_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending ON outbox (plan, sent);
"""

_CORRUPT_HINT = (
    "move it aside (the next run then starts a new history and sends every open problem "
    "as new) or restore it from a backup"
)


def _ts(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds")


def _opt_ts(value: dt.datetime | None) -> str | None:
    return None if value is None else _ts(value)


def _parse_ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _opt_parse_ts(text: str | None) -> dt.datetime | None:
    return None if text is None else _parse_ts(text)


def _opt_date(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


class _FileLock:
    """An exclusive advisory lock on a file, released when the process ends (even by a crash)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    def acquire(self, timeout: float) -> bool:
        handle = self.path.open("a+b")
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            if _try_lock(handle):
                self._file = handle
                return True
            if time.monotonic() >= deadline:
                handle.close()
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.2)

    def release(self) -> None:
        if self._file is not None:
            _unlock(self._file)
            self._file.close()
            self._file = None


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(handle: IO[bytes]) -> bool:
        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(0)
        with contextlib.suppress(OSError):
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(handle: IO[bytes]) -> bool:
        # flock (not lockf): the lock belongs to this open file, so two connections in one
        # process exclude each other as two processes do
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class StateStore:
    """An open alert state file. Open with `StateStore.open` (locked, writable) or
    `StateStore.open_readonly` (no lock, for dry runs and history); use as a context manager.
    """

    def __init__(
        self, path: Path, connection: sqlite3.Connection, lock: _FileLock | None = None
    ) -> None:
        self.path = path
        self._db = connection
        self._lock = lock

    # ---- opening

    @classmethod
    def open(cls, path: str | Path, *, lock_timeout: float = 60.0) -> StateStore:
        """Open (creating if needed) the state file and take its lock.

        Waits up to ``lock_timeout`` seconds for another run holding the lock to finish.

        Raises:
            StateError: the file is corrupted, not a targetkit state file, written by a newer
                targetkit, cannot be created, or stays locked.
        """
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(
                f"cannot create the folder for the alert state ({exc.strerror})",
                path=path,
            ) from exc
        lock = _FileLock(lock_path(path))
        try:
            locked = lock.acquire(lock_timeout)
        except OSError as exc:
            raise StateError(
                f"cannot open the lock file {lock.path.name} ({exc.strerror})", path=path
            ) from exc
        if not locked:
            raise StateError(
                f"is locked by another targetkit run (waited {lock_timeout:g} s); let it finish, "
                "or raise notify.lock_timeout",
                path=path,
            )
        try:
            connection = _connect(path, readonly=False, timeout=lock_timeout)
        except BaseException:
            lock.release()
            raise
        store = cls(path, connection, lock)
        try:
            store._prepare(create=True)
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def open_readonly(cls, path: str | Path) -> StateStore | None:
        """Open an existing state file for reading, or return None when there is none yet.

        Raises:
            StateError: the file is corrupted, not a targetkit state file, or newer.
        """
        path = Path(path)
        if not path.exists() or path.stat().st_size == 0:
            return None
        # A run killed inside a transaction leaves a "hot" journal that only a connection
        # allowed to write can roll back (a read-only one fails with "attempt to write a
        # readonly database"): open such a file read-write, so that SQLite restores the last
        # committed state as the next run would, and only read from it.
        journal = path.with_name(path.name + "-journal")
        hot = journal.exists() and journal.stat().st_size > 0
        connection = _connect(path, readonly=not hot, timeout=5.0, create=False)
        store = cls(path, connection)
        try:
            store._prepare(create=False)
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        """Close the file and release the lock."""
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> StateStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _error(self, exc: sqlite3.Error) -> StateError:
        return StateError(
            f"is not a readable targetkit alert state file ({exc}); {_CORRUPT_HINT}",
            path=self.path,
        )

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from exc

    def _prepare(self, *, create: bool) -> None:
        with self._guard():
            tables = {
                row[0]
                for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            if not tables:
                if not create:
                    raise StateError(
                        f"is empty, not a targetkit alert state file; {_CORRUPT_HINT}",
                        path=self.path,
                    )
                self._create()
                return
            check = self._db.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise StateError(
                    f"is damaged (sqlite integrity check: {check[0] if check else 'no answer'}); "
                    + _CORRUPT_HINT,
                    path=self.path,
                )
            app_id = self._db.execute("PRAGMA application_id").fetchone()[0]
            if "targetkit_schema" not in tables or app_id != _APPLICATION_ID:
                raise StateError(
                    "is a sqlite database but not a targetkit alert state file; point "
                    "notify.state at another path, or move this file aside",
                    path=self.path,
                )
            row = self._db.execute("SELECT max(version), max(written_by) FROM targetkit_schema")
            version, written_by = row.fetchone()
            if not isinstance(version, int):
                raise StateError(
                    f"has no schema version; {_CORRUPT_HINT}",
                    path=self.path,
                )
            if version > SCHEMA_VERSION:
                raise StateError(
                    f"was written by a newer targetkit ({written_by}, state schema {version}); "
                    f"this version reads schema {SCHEMA_VERSION} — upgrade targetkit "
                    "(the file is left untouched)",
                    path=self.path,
                )
            missing = {"runs", "alerts", "outbox"} - tables
            if missing:
                raise StateError(
                    f"lacks the table(s) {', '.join(sorted(missing))}; {_CORRUPT_HINT}",
                    path=self.path,
                )

    def _create(self) -> None:
        from targetkit._version import __version__  # noqa: PLC0415 - the package imports this module

        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._db.execute(
                "INSERT INTO targetkit_schema (version, written_by) VALUES (?, ?)",
                (SCHEMA_VERSION, f"targetkit {__version__}"),
            )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._guard():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # ---- reading

    def records(self, plan_id: str) -> dict[str, AlertRecord]:
        """Return the stored records of a plan, by alert key."""
        with self._guard():
            return _records(self._db, plan_id)

    def last_as_of(self, plan_id: str) -> dt.date | None:
        """Return the as-of date of the latest run of a plan that changed the state."""
        with self._guard():
            return _last_as_of(self._db, plan_id)

    def pending(self, plan_id: str) -> list[OutboxItem]:
        """Return the plan's queued notices not yet delivered, oldest first."""
        with self._guard():
            rows = self._db.execute(
                "SELECT * FROM outbox WHERE plan = ? AND sent IS NULL ORDER BY id", (plan_id,)
            ).fetchall()
        return [_item(row) for row in rows]

    def history(self, plan_id: str, *, limit: int | None = None) -> list[HistoryEntry]:
        """Return the plan's queued and delivered notices, newest first."""
        query = (
            "SELECT outbox.*, runs.as_of AS run_as_of FROM outbox JOIN runs ON runs.id = outbox.run"
            " WHERE outbox.plan = ? ORDER BY outbox.id DESC"
        )
        params: tuple[Any, ...] = (plan_id,)
        if limit is not None:
            query += " LIMIT ?"
            params = (plan_id, limit)
        with self._guard():
            rows = self._db.execute(query, params).fetchall()
        return [
            HistoryEntry(item=_item(row), run_as_of=dt.date.fromisoformat(row["run_as_of"]))
            for row in rows
        ]

    # ---- writing

    def run(
        self,
        snapshot: Snapshot,
        *,
        now: dt.datetime,
        policy: Policy,
        route: Router,
    ) -> tuple[Decision, list[OutboxItem]]:
        """Decide and queue this run's notices in one transaction.

        The records are read, `decide` runs, and the new records and the queued notices (one
        outbox row per recipient and notice, from ``route``) are written together: two runs
        cannot both queue the same notice, and a crash leaves either all or nothing.

        Returns:
            The decision and the outbox items it queued.
        """
        _require_aware(now)
        with self._transaction() as db:
            previous = _records(db, snapshot.plan_id)
            last = _last_as_of(db, snapshot.plan_id)
            decision = decide(previous, snapshot, now=now, policy=policy, last_as_of=last)
            cursor = db.execute(
                "INSERT INTO runs (plan, as_of, at, notices, stale) VALUES (?, ?, ?, ?, ?)",
                (
                    snapshot.plan_id,
                    snapshot.as_of.isoformat(),
                    _ts(now),
                    len(decision.notices),
                    int(decision.stale),
                ),
            )
            run_id = int(cursor.lastrowid or 0)
            for record in decision.records:
                _upsert(db, snapshot.plan_id, record)
            items: list[OutboxItem] = []
            for channel, recipient, lang, notice in route(decision.notices):
                cursor = db.execute(
                    "INSERT INTO outbox (run, plan, plan_title, channel, recipient, lang, notice,"
                    " created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        run_id,
                        snapshot.plan_id,
                        snapshot.plan_title,
                        channel,
                        recipient,
                        lang,
                        notice.to_json(),
                        _ts(now),
                    ),
                )
                items.append(
                    OutboxItem(
                        id=int(cursor.lastrowid or 0),
                        run=run_id,
                        plan_id=snapshot.plan_id,
                        plan_title=snapshot.plan_title,
                        channel=channel,
                        recipient=recipient,
                        lang=lang,
                        notice=notice,
                        created=now,
                    )
                )
        return decision, items

    def mark_sent(self, ids: Sequence[int], *, now: dt.datetime, message_id: str) -> None:
        """Record that the outbox items were delivered (they are never sent again)."""
        with self._transaction() as db:
            db.executemany(
                "UPDATE outbox SET sent = ?, message_id = ?, attempts = attempts + 1,"
                " last_attempt = ? WHERE id = ? AND sent IS NULL",
                [(_ts(now), message_id, _ts(now), i) for i in ids],
            )

    def mark_failed(self, ids: Sequence[int], *, now: dt.datetime, error: str) -> None:
        """Record a failed attempt; the items stay queued for the next run."""
        with self._transaction() as db:
            db.executemany(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, last_attempt = ?"
                " WHERE id = ? AND sent IS NULL",
                [(error, _ts(now), i) for i in ids],
            )


def _connect(
    path: Path, *, readonly: bool, timeout: float, create: bool = True
) -> sqlite3.Connection:
    try:
        if readonly or not create:
            uri = path.resolve().as_uri() + ("?mode=ro" if readonly else "?mode=rw")
            connection = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
        else:
            connection = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    except sqlite3.Error as exc:
        raise StateError(f"cannot be opened ({exc})", path=path) from exc
    connection.row_factory = sqlite3.Row
    return connection


def _records(db: sqlite3.Connection, plan_id: str) -> dict[str, AlertRecord]:
    rows = db.execute("SELECT * FROM alerts WHERE plan = ?", (plan_id,)).fetchall()
    out: dict[str, AlertRecord] = {}
    for row in rows:
        out[row["key"]] = AlertRecord(
            key=row["key"],
            kind=row["kind"],
            target=row["target"],
            title=row["title"],
            indicator=row["indicator"],
            owner=row["owner"],
            tags=tuple(json.loads(row["tags"])),
            firing=bool(row["firing"]),
            status=row["status"],
            severity=Severity(row["severity"]),
            peak_severity=Severity(row["peak_severity"]),
            message_zh=row["message_zh"],
            message_en=row["message_en"],
            first_seen=_parse_ts(row["first_seen"]),
            first_seen_as_of=dt.date.fromisoformat(row["first_seen_as_of"]),
            last_seen_as_of=dt.date.fromisoformat(row["last_seen_as_of"]),
            last_notified=_opt_parse_ts(row["last_notified"]),
            last_notified_as_of=_opt_date(row["last_notified_as_of"]),
            last_resolved=_opt_parse_ts(row["last_resolved"]),
        )
    return out


def _last_as_of(db: sqlite3.Connection, plan_id: str) -> dt.date | None:
    row = db.execute(
        "SELECT max(as_of) FROM runs WHERE plan = ? AND stale = 0", (plan_id,)
    ).fetchone()
    return _opt_date(row[0])


def _upsert(db: sqlite3.Connection, plan_id: str, r: AlertRecord) -> None:
    db.execute(
        "INSERT INTO alerts (plan, key, kind, target, title, indicator, owner, tags, firing,"
        " status, severity, peak_severity, message_zh, message_en, first_seen, first_seen_as_of,"
        " last_seen_as_of, last_notified, last_notified_as_of, last_resolved)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (plan, key) DO UPDATE SET kind = excluded.kind, target = excluded.target,"
        " title = excluded.title, indicator = excluded.indicator, owner = excluded.owner,"
        " tags = excluded.tags, firing = excluded.firing, status = excluded.status,"
        " severity = excluded.severity, peak_severity = excluded.peak_severity,"
        " message_zh = excluded.message_zh, message_en = excluded.message_en,"
        " first_seen = excluded.first_seen, first_seen_as_of = excluded.first_seen_as_of,"
        " last_seen_as_of = excluded.last_seen_as_of, last_notified = excluded.last_notified,"
        " last_notified_as_of = excluded.last_notified_as_of,"
        " last_resolved = excluded.last_resolved",
        (
            plan_id,
            r.key,
            r.kind,
            r.target,
            r.title,
            r.indicator,
            r.owner,
            json.dumps(list(r.tags), ensure_ascii=False),
            int(r.firing),
            r.status,
            r.severity.value,
            r.peak_severity.value,
            r.message_zh,
            r.message_en,
            _ts(r.first_seen),
            r.first_seen_as_of.isoformat(),
            r.last_seen_as_of.isoformat(),
            _opt_ts(r.last_notified),
            None if r.last_notified_as_of is None else r.last_notified_as_of.isoformat(),
            _opt_ts(r.last_resolved),
        ),
    )


def _item(row: sqlite3.Row) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        run=row["run"],
        plan_id=row["plan"],
        plan_title=row["plan_title"],
        channel=row["channel"],
        recipient=row["recipient"],
        lang=row["lang"],
        notice=Notice.from_json(row["notice"]),
        created=_parse_ts(row["created"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        sent=_opt_parse_ts(row["sent"]),
        message_id=row["message_id"],
    )


def read_records(path: str | Path, plan_id: str) -> dict[str, AlertRecord]:
    """Return a plan's stored alert records, or an empty mapping when there is no file yet."""
    store = StateStore.open_readonly(path)
    if store is None:
        return {}
    with store:
        return store.records(plan_id)


def read_history(path: str | Path, plan_id: str, *, limit: int | None = None) -> list[HistoryEntry]:
    """Return a plan's queued and delivered notices, newest first ([] when no file yet)."""
    store = StateStore.open_readonly(path)
    if store is None:
        return []
    with store:
        return store.history(plan_id, limit=limit)


def lock_path(path: str | Path) -> Path:
    """Return the lock file that goes with a state file."""
    path = Path(path)
    return path.with_name(path.name + ".lock")
