"""Alert state: what was seen, notified and resolved, per plan and alert, in a sqlite file.

Two layers, kept apart so the first can be tested without files:

- `decide` is pure and lives in `targetkit.alerts` (re-exported here). Given the stored records,
  this run's alerts (a `Snapshot` of an evaluation), the run's clock and a `Policy`, it returns
  the notices to send and the records to store. It never reads the clock or touches a file.
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

Three things make the lifecycle livable (docs/explanation/alert-lifecycle.md):

- a `Silence` quiets named targets while the run's as-of date is on or before its ``until``
  date: their problems are tracked but send no notice; the first run after it ends notifies a
  problem still open, changed or not;
- an `Escalation` raises a problem that stays open for a number of runs or days to critical and
  sends one 督办 notice (kind ``escalated``) per episode to its own recipients;
- `StateStore.prune` deletes resolved episodes, delivered notices and old runs before a cutoff,
  in one transaction, never a queued notice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import attrs

from targetkit._version import __version__
from targetkit.alerts import (
    AT_RISK,
    OVERDUE,
    RECEIVED,
    REMOVED,
    AlertRecord,
    ChangePolicy,
    CurrentAlert,
    Decision,
    Escalation,
    Notice,
    NoticeKind,
    Policy,
    Silence,
    Snapshot,
    active_silences,
    decide,
    opt_date,
    plan_silence,
    require_aware,
    severity_rank,
)
from targetkit.exceptions import StateError
from targetkit.model import Severity

__all__ = [
    "AT_RISK",
    "OVERDUE",
    "RECEIVED",
    "REMOVED",
    "SCHEMA_VERSION",
    "AlertRecord",
    "ChangePolicy",
    "CurrentAlert",
    "Decision",
    "Escalation",
    "HistoryEntry",
    "Notice",
    "NoticeKind",
    "OutboxItem",
    "Policy",
    "PruneReport",
    "Router",
    "Silence",
    "Snapshot",
    "StateError",
    "StateStore",
    "active_silences",
    "decide",
    "lock_path",
    "plan_silence",
    "read_history",
    "read_records",
    "read_silences",
    "severity_rank",
]

SCHEMA_VERSION = 3
"""Version of the state file's tables; a file written by a newer targetkit is refused."""

_APPLICATION_ID = 0x544B5354  # "TKST": marks the sqlite file as a targetkit state file

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


@attrs.frozen(kw_only=True)
class PruneReport:
    """What `StateStore.prune` deleted (or, in a dry run, would delete)."""

    before: dt.datetime
    dry_run: bool = False
    notices: int = 0
    problems: int = 0
    silences: int = 0
    runs: int = 0
    messages: int = 0
    """Delivered Maildir messages (counted by the notify edge, which owns the Maildir)."""

    @property
    def total(self) -> int:
        """Return how many things went (or would go)."""
        return self.notices + self.problems + self.silences + self.runs + self.messages


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
"""The tables of schema 1; `_MIGRATIONS` brings them to `SCHEMA_VERSION`."""

# A status alert of a part has the key <target>:status:<scope> (`targetkit.alerts.scope_of_key`).
_SCOPE_FROM_KEY = """CASE WHEN kind = 'status'
    AND substr(key, 1, length(target) + 8) = target || ':status:'
    THEN substr(key, length(target) + 9) ELSE '' END"""

# version → the statements that bring a file of the version before it up to it. They run in
# one transaction with the new version's row, so a file is upgraded entirely or not at all.
_MIGRATIONS: dict[int, str] = {
    2: """
ALTER TABLE alerts ADD COLUMN silenced INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN notified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN open_runs INTEGER NOT NULL DEFAULT 1;
ALTER TABLE alerts ADD COLUMN open_since TEXT;
ALTER TABLE alerts ADD COLUMN escalated TEXT NOT NULL DEFAULT '[]';
UPDATE alerts SET open_runs = max(1, (
    SELECT count(DISTINCT runs.as_of) FROM runs
    WHERE runs.plan = alerts.plan AND runs.stale = 0
      AND runs.as_of >= alerts.first_seen_as_of AND runs.as_of <= alerts.last_seen_as_of
));
UPDATE alerts SET notified = (
    SELECT count(DISTINCT outbox.run) FROM outbox JOIN runs ON runs.id = outbox.run
    WHERE outbox.plan = alerts.plan AND json_extract(outbox.notice, '$.key') = alerts.key
      AND runs.as_of >= alerts.first_seen_as_of
);
CREATE TABLE silences (
    id INTEGER PRIMARY KEY,
    plan TEXT NOT NULL,
    targets TEXT NOT NULL,
    owners TEXT NOT NULL DEFAULT '[]',
    tags TEXT NOT NULL DEFAULT '[]',
    until TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    created_as_of TEXT NOT NULL,
    ended_at TEXT,
    ended_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX silences_plan ON silences (plan, until);
CREATE INDEX outbox_sent ON outbox (plan, sent, run)
""",
    # the part's scope in its own column; earlier files held it only in the key
    3: f"""
ALTER TABLE alerts ADD COLUMN scope TEXT NOT NULL DEFAULT '';
UPDATE alerts SET scope = {_SCOPE_FROM_KEY}
""",  # noqa: S608 - a constant expression, no value of a user
}

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
        self.version = SCHEMA_VERSION
        """The file's schema version (older only for a file opened read-only)."""

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
            self.version = version
            if version < SCHEMA_VERSION and self._lock is not None:
                self._migrate(version)

    def _migrate(self, version: int) -> None:
        """Bring a file of an older schema up to this one, in one transaction."""

        self._db.execute("BEGIN IMMEDIATE")
        try:
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[step].split(";"):
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
        self.version = SCHEMA_VERSION

    def _create(self) -> None:

        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
            for script in (_SCHEMA, *(_MIGRATIONS[v] for v in range(2, SCHEMA_VERSION + 1))):
                for statement in script.split(";"):
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
        self.version = SCHEMA_VERSION

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

    def silences(self, plan_id: str) -> list[Silence]:
        """Return every silence of a plan, active, ended or expired, oldest first."""
        with self._guard():
            return _silences(self._db, plan_id, version=self.version)

    # ---- writing

    def add_silence(self, silence: Silence) -> Silence:
        """Store a silence (built by `plan_silence`); return it with its id."""
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO silences (plan, targets, owners, tags, until, reason, created_by,"
                " created_at, created_as_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    silence.plan_id,
                    json.dumps(list(silence.targets), ensure_ascii=False),
                    json.dumps(list(silence.owners), ensure_ascii=False),
                    json.dumps(list(silence.tags), ensure_ascii=False),
                    silence.until.isoformat(),
                    silence.reason,
                    silence.created_by,
                    _ts(silence.created_at),
                    silence.created_as_of.isoformat(),
                ),
            )
        return attrs.evolve(silence, id=int(cursor.lastrowid or 0))

    def end_silence(
        self, plan_id: str, silence_id: int, *, now: dt.datetime, who: str = ""
    ) -> Silence:
        """End a silence early: from ``now`` on it holds nothing back.

        Raises:
            StateError: the plan has no silence of that id, or it has already ended.
        """
        require_aware(now)
        with self._transaction() as db:
            found = _silences(db, plan_id, version=self.version, silence_id=silence_id)
            if not found:
                known = [str(x.id) for x in _silences(db, plan_id, version=self.version)]
                raise StateError(
                    f"plan {plan_id!r} has no silence {silence_id}; "
                    + (
                        f"its silences are {', '.join(known)} (see 'targetkit alerts silences "
                        "PLAN --all')"
                        if known
                        else "it has none"
                    ),
                    path=self.path,
                )
            current = found[0]
            if current.ended_at is not None:
                raise StateError(
                    f"silence {silence_id} of plan {plan_id!r} already ended on "
                    f"{current.ended_at.isoformat(timespec='seconds')}; nothing to do",
                    path=self.path,
                )
            db.execute(
                "UPDATE silences SET ended_at = ?, ended_by = ? WHERE id = ?",
                (_ts(now), who, silence_id),
            )
        return attrs.evolve(current, ended_at=now, ended_by=who)

    def prune(
        self,
        plan_id: str,
        *,
        before: dt.datetime,
        dry_run: bool = False,
        progress: Callable[[str, int], None] | None = None,
    ) -> PruneReport:
        """Delete a plan's history older than ``before``, in one transaction.

        Deleted: delivered notices sent before it, resolved problems resolved before it,
        silences that ended before it or expired before it and before the latest run's as-of
        date (no later run can use them), and runs before it that no remaining notice
        refers to (the latest run is always kept: it tells a later run for an earlier date that
        it is stale). A queued notice, delivered or not yet, is never deleted, nor the run it
        belongs to. A crash inside leaves the file as it was.

        Args:
            plan_id: The plan whose history to prune.
            before: The cutoff (timezone-aware): usually now minus ``history_retention``.
            dry_run: Count what would go, delete nothing.
            progress: Called with each step's name and the rows it removed, inside the
                transaction (nothing is committed until the last step).
        """
        require_aware(before)
        cutoff = _ts(before)
        steps = (
            (
                "notices",
                "DELETE FROM outbox WHERE plan = ? AND sent IS NOT NULL AND sent < ?",
                (plan_id, cutoff),
            ),
            (
                "problems",
                "DELETE FROM alerts WHERE plan = ? AND firing = 0 AND last_resolved IS NOT NULL"
                " AND last_resolved < ?",
                (plan_id, cutoff),
            ),
            (
                "silences",
                # expired: before the cutoff, and before the latest run's as-of date, so that
                # no later run can be silenced by it (a replay of past dates included)
                "DELETE FROM silences WHERE plan = ? AND ((ended_at IS NOT NULL AND ended_at < ?)"
                " OR (until < ? AND until < (SELECT max(as_of) FROM runs"
                " WHERE plan = ? AND stale = 0)))",
                (plan_id, cutoff, before.astimezone(dt.UTC).date().isoformat(), plan_id),
            ),
            (
                "runs",
                "DELETE FROM runs WHERE plan = ? AND at < ?"
                " AND id NOT IN (SELECT run FROM outbox WHERE plan = ?)"
                " AND id <> (SELECT id FROM runs WHERE plan = ? AND stale = 0"
                " ORDER BY as_of DESC, id DESC LIMIT 1)",
                (plan_id, cutoff, plan_id, plan_id),
            ),
        )
        counts: dict[str, int] = {}
        with self._transaction() as db:
            for name, statement, params in steps:
                if dry_run:
                    select = statement.replace("DELETE FROM", "SELECT count(*) FROM", 1)
                    counts[name] = int(db.execute(select, params).fetchone()[0])
                else:
                    counts[name] = db.execute(statement, params).rowcount
                if progress is not None:
                    progress(name, counts[name])
        return PruneReport(
            before=before,
            dry_run=dry_run,
            notices=counts["notices"],
            problems=counts["problems"],
            silences=counts["silences"],
            runs=counts["runs"],
        )

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
        require_aware(now)
        with self._transaction() as db:
            previous = _records(db, snapshot.plan_id)
            last = _last_as_of(db, snapshot.plan_id)
            silences = _silences(db, snapshot.plan_id, version=self.version)
            decision = decide(
                previous, snapshot, now=now, policy=policy, last_as_of=last, silences=silences
            )
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


# For a schema 1 file read without upgrading: the episode counters, computed as the upgrade
# would store them (runs seen while open, runs that notified).
_V1_COUNTERS = """
SELECT alerts.*, max(1, (
    SELECT count(DISTINCT runs.as_of) FROM runs
    WHERE runs.plan = alerts.plan AND runs.stale = 0
      AND runs.as_of >= alerts.first_seen_as_of AND runs.as_of <= alerts.last_seen_as_of
)) AS open_runs, (
    SELECT count(DISTINCT outbox.run) FROM outbox JOIN runs ON runs.id = outbox.run
    WHERE outbox.plan = alerts.plan AND json_extract(outbox.notice, '$.key') = alerts.key
      AND runs.as_of >= alerts.first_seen_as_of
) AS notified, 0 AS silenced, NULL AS open_since, '[]' AS escalated
FROM alerts WHERE plan = ?
"""


def _records(db: sqlite3.Connection, plan_id: str) -> dict[str, AlertRecord]:
    columns = {row[1] for row in db.execute("PRAGMA table_info(alerts)")}
    query = "SELECT * FROM alerts WHERE plan = ?" if "silenced" in columns else _V1_COUNTERS
    if "scope" not in columns:  # schema 1 or 2 read without upgrading: as the upgrade would
        query = f"SELECT *, {_SCOPE_FROM_KEY} AS scope FROM ({query})"  # noqa: S608 - constants
    rows = db.execute(query, (plan_id,)).fetchall()
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
            last_notified_as_of=opt_date(row["last_notified_as_of"]),
            last_resolved=_opt_parse_ts(row["last_resolved"]),
            scope=row["scope"],
            **_v2_fields(row),
        )
    return out


def _v2_fields(row: sqlite3.Row) -> dict[str, Any]:
    """Return the columns schema 2 added (computed by `_V1_COUNTERS` for a schema 1 file)."""
    return {
        "silenced": bool(row["silenced"]),
        "notified": int(row["notified"]),
        "open_runs": int(row["open_runs"]),
        "open_since": opt_date(row["open_since"]),
        "escalated": tuple(json.loads(row["escalated"])),
    }


def _silences(
    db: sqlite3.Connection, plan_id: str, *, version: int, silence_id: int | None = None
) -> list[Silence]:
    if version < 2:
        return []
    if silence_id is None:
        rows = db.execute(
            "SELECT * FROM silences WHERE plan = ? ORDER BY id", (plan_id,)
        ).fetchall()
    else:
        rows = db.execute(
            "SELECT * FROM silences WHERE plan = ? AND id = ?", (plan_id, silence_id)
        ).fetchall()
    return [
        Silence(
            id=row["id"],
            plan_id=row["plan"],
            targets=tuple(json.loads(row["targets"])),
            owners=tuple(json.loads(row["owners"])),
            tags=tuple(json.loads(row["tags"])),
            until=dt.date.fromisoformat(row["until"]),
            reason=row["reason"],
            created_by=row["created_by"],
            created_at=_parse_ts(row["created_at"]),
            created_as_of=dt.date.fromisoformat(row["created_as_of"]),
            ended_at=_opt_parse_ts(row["ended_at"]),
            ended_by=row["ended_by"],
        )
        for row in rows
    ]


def _last_as_of(db: sqlite3.Connection, plan_id: str) -> dt.date | None:
    row = db.execute(
        "SELECT max(as_of) FROM runs WHERE plan = ? AND stale = 0", (plan_id,)
    ).fetchone()
    return opt_date(row[0])


def _upsert(db: sqlite3.Connection, plan_id: str, r: AlertRecord) -> None:
    db.execute(
        "INSERT INTO alerts (plan, key, kind, target, title, indicator, owner, tags, firing,"
        " status, severity, peak_severity, message_zh, message_en, first_seen, first_seen_as_of,"
        " last_seen_as_of, last_notified, last_notified_as_of, last_resolved, silenced, notified,"
        " open_runs, open_since, escalated, scope)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (plan, key) DO UPDATE SET kind = excluded.kind, target = excluded.target,"
        " title = excluded.title, indicator = excluded.indicator, owner = excluded.owner,"
        " tags = excluded.tags, firing = excluded.firing, status = excluded.status,"
        " severity = excluded.severity, peak_severity = excluded.peak_severity,"
        " message_zh = excluded.message_zh, message_en = excluded.message_en,"
        " first_seen = excluded.first_seen, first_seen_as_of = excluded.first_seen_as_of,"
        " last_seen_as_of = excluded.last_seen_as_of, last_notified = excluded.last_notified,"
        " last_notified_as_of = excluded.last_notified_as_of,"
        " last_resolved = excluded.last_resolved, silenced = excluded.silenced,"
        " notified = excluded.notified, open_runs = excluded.open_runs,"
        " open_since = excluded.open_since, escalated = excluded.escalated,"
        " scope = excluded.scope",
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
            int(r.silenced),
            r.notified,
            r.open_runs,
            None if r.open_since is None else r.open_since.isoformat(),
            json.dumps(list(r.escalated), ensure_ascii=False),
            r.scope,
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


def read_silences(path: str | Path, plan_id: str) -> list[Silence]:
    """Return a plan's silences, oldest first ([] when there is no file yet)."""
    store = StateStore.open_readonly(path)
    if store is None:
        return []
    with store:
        return store.silences(plan_id)


def lock_path(path: str | Path) -> Path:
    """Return the lock file that goes with a state file."""
    path = Path(path)
    return path.with_name(path.name + ".lock")
