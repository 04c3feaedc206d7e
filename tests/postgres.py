"""A throw-away PostgreSQL server for the tests: initdb + pg_ctl in a temporary folder.

The server runs from Debian's ``postgresql`` package (installed by scripts/install-test-deps) on a
free port of 127.0.0.1, with its unix socket in the same folder, and requires a password over TCP,
so that the tests exercise ``PGPASSWORD``. ``initdb`` refuses to run as root: as root the server
runs as the ``postgres`` user (or ``nobody``) through ``runuser``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import attrs

USER = "targetkit"
PASSWORD = "s3cret-pg-word"  # noqa: S105 - a password for a throw-away test server
DATABASE = "stats"


@attrs.frozen
class Server:
    host: str
    port: int
    user: str
    password: str
    database: str

    def url(self, table: str | None = None) -> str:
        url = f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"
        return url + (f"?table={table}" if table else "")


def _bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    # Debian keeps the server's tools out of PATH, one folder per major version
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return versions[-1].parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _runner() -> tuple[list[str], int | None, int | None]:
    """Return the command prefix that drops root, with the uid and gid to own the folder."""
    if os.geteuid() != 0:
        return [], None, None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return ["runuser", "-u", name, "--"], entry.pw_uid, entry.pw_gid
    raise RuntimeError("running as root and neither the postgres nor the nobody user exists")


@contextlib.contextmanager
def server() -> Iterator[Server]:
    """Start a server, yield where it listens, stop it and remove its folder."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (run scripts/install-test-deps)")
    prefix, uid, gid = _runner()
    root = Path(tempfile.mkdtemp(prefix="targetkit-pg-"))
    os.chmod(root, 0o700)  # noqa: PTH101
    data, log, pwfile = root / "data", root / "server.log", root / "pw"
    pwfile.write_text(PASSWORD + "\n", encoding="utf-8")
    if uid is not None and gid is not None:
        os.chown(root, uid, gid)
        os.chown(pwfile, uid, gid)
    port = _free_port()

    def run(*argv: str) -> None:
        done = subprocess.run(
            [*prefix, *argv], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            tail = log.read_text(encoding="utf-8", errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{argv[0]} failed: {done.stderr.strip()}\n{tail}")

    try:
        run(
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            USER,
            f"--pwfile={pwfile}",
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            "-E",
            "UTF8",
            "--no-locale",
        )
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start")
        try:
            run(str(bin_dir / "createdb"), "-h", str(root), "-p", str(port), "-U", USER, DATABASE)
            yield Server("127.0.0.1", port, USER, PASSWORD, DATABASE)
        finally:
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)
