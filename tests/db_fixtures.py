"""Real databases for tests: SQLite files and a throwaway PostgreSQL server.

Registered for the whole suite in ``tests/conftest.py``::

    def test_something(db_engine):          # runs twice: [sqlite] and [postgresql]
        with Session(db_engine) as session: ...

* ``postgres_url`` (session): a SQLAlchemy URL ``postgresql+psycopg://postgres@127.0.0.1:PORT/microcred_test``
  of a PostgreSQL server started for this test session from the binaries in
  ``/usr/lib/postgresql/*/bin`` (or on ``PATH``), run as the ``postgres`` user when the tests
  run as root, and deleted at the end. If ``DATABASE_URL`` points to PostgreSQL, that server is
  used instead (the user needs CREATEDB). Without PostgreSQL the tests that need it skip, except
  when ``CI=true``: then they fail, because CI always installs PostgreSQL.
* ``db_url`` (per test, parametrized ``sqlite`` / ``postgresql``): the URL of a fresh, empty
  database (not migrated): a file in ``tmp_path``, or a new database on the session's server,
  dropped afterwards. Restrict a test to one backend with
  ``@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)``.
* ``db_engine`` (per test): ``issuer.db.engine.make_engine(db_url)``, migrated to head.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine, make_url

from issuer.db.engine import make_engine
from issuer.db.migrate import migrate

INSTALL_HINT = "install PostgreSQL (apt-get install postgresql) to run the PostgreSQL tests"
TEST_DATABASE = "microcred_test"
START_TIMEOUT = 60      # seconds, for initdb and for the server to accept connections
STOP_TIMEOUT = 30


def postgres_bin() -> Path | None:
    """The folder with initdb/pg_ctl/postgres: Debian's newest version, else the one on PATH."""
    def version(path: str) -> tuple:
        return tuple(int(p) if p.isdigit() else 0 for p in Path(path).parent.name.split("."))
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if all(os.access(Path(folder, tool), os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl and Path(initdb).parent == Path(pg_ctl).parent:
        return Path(initdb).parent
    return None


def _skip_or_fail(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: PostgreSQL is required here)", pytrace=False)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _psycopg_conninfo(url: str) -> str:
    """A libpq connection string for a SQLAlchemy URL (psycopg needs no driver prefix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _admin(url: str, *statements: str) -> None:
    import psycopg
    with psycopg.connect(_psycopg_conninfo(url), autocommit=True, connect_timeout=10) as conn:
        for statement in statements:
            conn.execute(statement)


class _Server:
    """One throwaway PostgreSQL cluster in a temporary folder, listening on 127.0.0.1 only."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.as_root = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="microcred-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0
        self.started = False
        if self.as_root:
            # PostgreSQL refuses to run as root: the cluster belongs to Debian's 'postgres' user.
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *args: str, timeout: float) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        # cwd="/": runuser would complain that it cannot enter root's current folder
        return subprocess.run(command, cwd="/", capture_output=True, text=True, timeout=timeout)

    def _log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def start(self) -> None:
        done = self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                         "--no-locale", "--no-sync", timeout=START_TIMEOUT)
        if done.returncode:
            raise RuntimeError(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
        for _attempt in range(3):           # the free port may be taken between probe and bind
            self.port = _free_port()
            options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
                       "-c fsync=off -c full_page_writes=off -c synchronous_commit=off")
            done = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                             "-w", "-t", str(START_TIMEOUT), "start", timeout=START_TIMEOUT + 10)
            if done.returncode == 0:
                self.started = True
                return
            self.stop()
        raise RuntimeError(f"PostgreSQL did not start: {done.stderr.strip()}\n{self._log_tail()}")

    def stop(self) -> None:
        if not self.data.exists():
            return
        for mode in ("fast", "immediate"):
            try:
                done = self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", str(STOP_TIMEOUT),
                                 "stop", timeout=STOP_TIMEOUT + 10)
            except subprocess.TimeoutExpired:
                continue
            if done.returncode == 0 or "Is server running?" in done.stderr:
                break
        self.started = False

    def delete(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{TEST_DATABASE}"


def _external_postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgresql:", "postgresql+", "postgres:")):
        return None
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    external = _external_postgres_url()
    if external:
        yield external
        return
    bin_dir = postgres_bin()
    if bin_dir is None:
        _skip_or_fail(f"PostgreSQL binaries not found: {INSTALL_HINT}")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            _skip_or_fail(f"running as root but there is no 'postgres' user: {INSTALL_HINT}")
    server = _Server(bin_dir)
    try:
        server.start()
        _admin(make_url(server.url).set(database="postgres").render_as_string(), f'CREATE DATABASE "{TEST_DATABASE}"')
        yield server.url
    finally:
        server.delete()


@contextmanager
def throwaway_database(server_url: str, prefix: str = "microcred_t") -> Iterator[str]:
    """The URL of a new, empty database on ``server_url``'s server, dropped (connections and all) after."""
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    _admin(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'microcred.db'}"
        return
    with throwaway_database(request.getfixturevalue("postgres_url")) as url:
        yield url


@pytest.fixture
def db_engine(db_url) -> Iterator[Engine]:
    engine = make_engine(db_url)
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()
