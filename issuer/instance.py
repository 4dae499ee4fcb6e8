"""Open an installation: its instance folder, its database (migrated), its secret key, production checks.

* :func:`open_instance` — the process's session factory for an installation's database,
  created and migrated on first use (the CLI's services use it);
* :func:`open_database` — an engine of its own, migrated (the web app's, with
  :func:`sessions_for`), and :func:`database_sessions`, a session factory on such an engine
  that is closed when the block ends (``microcred serve`` checks the installation with one
  before gunicorn starts its workers);
* :func:`load_secret_key` and :func:`check_production` — the web app's secret key and the
  refusals of ``microcred serve`` without ``--dev``.

None of this is web code: the CLI and the web app (:mod:`issuer.web.app`) both use it, and the
CLI never imports the web package.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from issuer.config import ConfigError, Settings
from issuer.db.engine import make_engine, session_factory
from issuer.db.migrate import migrate

SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name
SECRET_KEY_ENV = "MICROCRED_SECRET_KEY"  # noqa: S105 - an environment variable name
MIN_SECRET_LENGTH = 32
PLACEHOLDER_WORDS = ("change", "example", "default", "placeholder", "your-secret", "secret-key", "secretkey",
                     "dev-key", "devkey", "insecure")
DEBUG_VARIABLES = ("FLASK_DEBUG", "MICROCRED_DEBUG")

_factories: dict[str, sessionmaker[Session]] = {}


def migrate_engine(engine: Engine) -> None:
    """Bring the database behind ``engine`` to the current schema (the shipped Alembic migrations)."""
    migrate(engine)


def open_instance(settings: Settings) -> sessionmaker[Session]:
    """A session factory for the installation's database, created and migrated on first use (one per process)."""
    factory = _factories.get(settings.database_url)
    if factory is None:
        if settings.database_url.startswith("sqlite"):
            settings.instance.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.database_url)
        migrate_engine(engine)
        factory = _factories[settings.database_url] = session_factory(engine)
    return factory


def open_database(settings: Settings) -> Engine:
    """An engine for the installation's database, migrated to head (the instance folder is created)."""
    settings.instance.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = make_engine(settings.database_url)
    try:
        migrate_engine(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def sessions_for(engine: Engine) -> sessionmaker[Session]:
    """The session factory on ``engine`` (objects stay loaded after a commit)."""
    return session_factory(engine)


@contextmanager
def database_sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """A session factory on an engine of its own, closed (every connection) when the block ends."""
    engine = open_database(settings)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


def load_secret_key(instance: Path, env: Mapping[str, str] | None = None) -> str:
    """``$MICROCRED_SECRET_KEY``, else ``<instance>/secret_key`` (random, created 0600 on first use).

    There is no default secret. A file readable by group or others, or a secret shorter than
    32 characters, is refused with a :class:`~issuer.errors.ConfigError`.
    """
    env = os.environ if env is None else env
    value = env.get(SECRET_KEY_ENV)
    source = f"${SECRET_KEY_ENV}"
    if value is None:
        path = instance / SECRET_KEY_FILE
        _create_secret_file(path)
        mode = path.stat().st_mode
        if os.name == "posix" and stat.S_IMODE(mode) & 0o077:
            raise ConfigError(f"{path} is readable by group or others (mode {stat.S_IMODE(mode):o}); "
                              f"run: chmod 600 {path}", code="secret_key_permissions")
        value, source = path.read_text(encoding="utf-8").strip(), str(path)
    if len(value) < MIN_SECRET_LENGTH:
        raise ConfigError(f"the secret key in {source} is shorter than {MIN_SECRET_LENGTH} characters",
                          code="secret_key_too_short")
    return value


def check_production(secret_key: str, env: Mapping[str, str] | None = None) -> None:
    """Refuse to serve in production with debug mode asked for or a placeholder secret key.

    Debug mode is never turned on by microcred, but ``FLASK_DEBUG``/``MICROCRED_DEBUG`` set
    to a true value shows someone expects it: refused rather than silently ignored. A secret
    that reads like a documentation placeholder ("change-me", "example", "default", ...) or
    uses fewer than 10 distinct characters is refused (:class:`~issuer.errors.ConfigError`).
    """
    env = os.environ if env is None else env
    for name in DEBUG_VARIABLES:
        if env.get(name, "").strip().lower() in ("1", "true", "yes", "on"):
            raise ConfigError(f"{name} asks for debug mode, which is never allowed in production "
                              f"(unset it, or use 'microcred serve --dev' on your own machine)", code="debug_mode")
    lowered = secret_key.lower()
    if any(word in lowered for word in PLACEHOLDER_WORDS) or len(set(secret_key)) < 10:
        raise ConfigError(f"the secret key looks like a placeholder; set ${SECRET_KEY_ENV} to a random value "
                          f"(python -c 'import secrets; print(secrets.token_urlsafe(48))') or unset it to "
                          f"use a generated {SECRET_KEY_FILE} file", code="placeholder_secret_key")


def _create_secret_file(path: Path) -> None:
    """Write a fresh secret to ``path`` unless it exists; atomic even with concurrent workers."""
    if path.exists():
        return
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)      # fails if another worker won the race: keep theirs
    finally:
        tmp.unlink(missing_ok=True)
