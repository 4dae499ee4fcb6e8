"""Where an installation keeps its things, and the public identity they imply.

Defaults run everything locally: an ``instance/`` folder with a SQLite database,
keys in ``keys/``, and the base URL ``http://localhost:5000`` (so the issuer's DID is
``did:web:localhost%3A5000``). Environment variables override them:
``MICROCRED_INSTANCE``, ``MICROCRED_KEYS``, ``MICROCRED_BASE_URL``, ``DATABASE_URL``; what they
do not set comes from the instance folder's ``settings.json`` (:mod:`issuer.saved_settings`:
what the last ``init``, ``demo`` or ``serve`` ran with), then from these defaults.

A wrong setting raises :class:`issuer.errors.ConfigError` (importable here as ``ConfigError``).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from issuer import saved_settings
from issuer.errors import ConfigError
from issuer.tasks.names import QUEUE_ENV, QueueKind

__all__ = ["DEFAULT_BASE_URL", "ConfigError", "Settings", "default_database_url", "did_web_for", "load_settings",
           "save_settings"]

DEFAULT_BASE_URL = "http://localhost:5000"


def did_web_for(base_url: str) -> str:
    """The did:web DID for a base URL: host (with %3A-encoded port) plus path segments."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"the base URL {base_url!r} must be an http(s) URL with a host", code="invalid_config")
    if parts.query or parts.fragment or parts.username:
        raise ConfigError(f"the base URL {base_url!r} must not have a query, fragment or user name",
                          code="invalid_config")
    host = parts.hostname.lower() + (quote(f":{parts.port}", safe="") if parts.port else "")
    segments = [s for s in parts.path.split("/") if s]
    return ":".join(["did:web", host, *segments])


@dataclass(frozen=True)
class Settings:
    instance: Path
    keys_dir: Path
    base_url: str
    database_url: str
    # where request limits are counted (issue 15 §2): "memory://" (this process), or a shared store
    # such as "redis://host:6379" so several app servers enforce one limit
    ratelimit_storage_uri: str = "memory://"
    # where background work runs (issue 15 §1): "inline" (threads of this process, the embedded
    # default) or "postgres" (a queue in the database, run by `microcred worker` processes)
    queue: str = "inline"
    # reverse proxies in front (a load balancer, nginx): their X-Forwarded-For and -Proto give the
    # client's address (per-address limits) and scheme; 0: none, the connection's address is the client's
    trusted_proxies: int = 0

    @property
    def did(self) -> str:
        return did_web_for(self.base_url)

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    @property
    def did_document_path(self) -> str:
        """Where the DID document is served, relative to the base URL (did:web: ``/.well-known/did.json``
        for a bare host, ``/did.json`` under a path)."""
        return "/did.json" if urlsplit(self.base_url).path.strip("/") else "/.well-known/did.json"

    @property
    def did_document_location(self) -> str:
        """The DID document's full URL as this installation serves it (http for a local base URL)."""
        return self.url(self.did_document_path)


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """The settings from ``env`` (default: the environment), ``overrides`` first; ConfigError for a bad base URL.

    What neither gives comes from the instance folder's saved settings (:mod:`issuer.saved_settings`,
    written by ``init``, ``demo`` and ``serve``), then the defaults.
    """
    env = os.environ if env is None else env
    instance = Path(overrides.get("instance") or env.get("MICROCRED_INSTANCE") or "instance")
    saved = saved_settings.read_saved(instance)
    keys_dir = Path(overrides.get("keys_dir") or env.get("MICROCRED_KEYS") or saved.get("keys_dir") or "keys")
    base_url = (overrides.get("base_url") or env.get("MICROCRED_BASE_URL") or saved.get("base_url")
                or DEFAULT_BASE_URL).rstrip("/")
    did_web_for(base_url)  # validates
    database_url = overrides.get("database_url") or env.get("DATABASE_URL") or saved.get("database_url") or \
        default_database_url(instance)
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    ratelimit_storage_uri = overrides.get("ratelimit_storage_uri") or env.get("MICROCRED_RATELIMIT_STORAGE_URI") \
        or "memory://"
    queue = QueueKind.from_setting(overrides.get("queue") or env.get(QUEUE_ENV))
    proxies = str(overrides.get("trusted_proxies") or env.get("MICROCRED_TRUSTED_PROXIES") or "0").strip()
    if not proxies.isdigit() or int(proxies) > 5:
        raise ConfigError(f"MICROCRED_TRUSTED_PROXIES must be the number of reverse proxies in front, 0 to 5, not "
                          f"{proxies!r}.", code="bad_trusted_proxies")
    return Settings(instance=instance, keys_dir=keys_dir, base_url=base_url, database_url=database_url,
                    ratelimit_storage_uri=ratelimit_storage_uri, queue=str(queue), trusted_proxies=int(proxies))


# ---------------------------------------------------------------- retention of personal data (issue 14 §5)
# How long personal data is kept once it is no longer needed; applied by ``microcred retention purge``
# (:mod:`issuer.personal_data.retention`; documented in docs/personal-data.md). Read from the
# environment, like the mail settings, so a change needs no migration: a whole number of days, or
# ``never`` to keep the data (no purge of that kind).

RETENTION_SENT_MAIL_ENV = "MICROCRED_RETENTION_SENT_MAIL_DAYS"
RETENTION_ENDED_AWARDS_ENV = "MICROCRED_RETENTION_ENDED_AWARDS_DAYS"
DEFAULT_SENT_MAIL_DAYS = 90           # a quarter: long enough to answer "did my email arrive?"
DEFAULT_ENDED_AWARDS_DAYS = 365       # a year after a badge was revoked or replaced by its renewal
MAX_RETENTION_DAYS = 36_500


@dataclass(frozen=True)
class RetentionSettings:
    """Days to keep: a sent email's text and address; the personal data of a revoked or superseded award.

    None: kept (that purge is off).
    """

    sent_mail_days: int | None = DEFAULT_SENT_MAIL_DAYS
    ended_awards_days: int | None = DEFAULT_ENDED_AWARDS_DAYS


def _retention_days(env: Mapping[str, str], name: str, default: int) -> int | None:
    value = (env.get(name) or "").strip().lower()
    if not value:
        return default
    if value == "never":
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_RETENTION_DAYS:
        raise ConfigError(f"{name} must be a number of days from 1 to {MAX_RETENTION_DAYS}, or 'never'; "
                          f"not {value!r}", code="invalid_config")
    return int(value)


def load_retention(env: Mapping[str, str] | None = None) -> RetentionSettings:
    """The retention settings from ``env`` (default: the environment); ConfigError for a bad value."""
    env = os.environ if env is None else env
    return RetentionSettings(_retention_days(env, RETENTION_SENT_MAIL_ENV, DEFAULT_SENT_MAIL_DAYS),
                             _retention_days(env, RETENTION_ENDED_AWARDS_ENV, DEFAULT_ENDED_AWARDS_DAYS))
def default_database_url(instance: Path) -> str:
    """The database an instance folder has when none is named: SQLite in ``<instance>/microcred.db``."""
    return f"sqlite:///{(instance / 'microcred.db').resolve()}"


def save_settings(settings: Settings) -> Path:
    """Keep ``settings`` in the instance folder for the next command (:mod:`issuer.saved_settings`).

    The base URL and keys folder (made absolute) always; the database URL only when it is not
    the instance folder's own SQLite file, so a moved instance folder keeps its database.
    """
    values = {"base_url": settings.base_url, "keys_dir": str(settings.keys_dir.resolve())}
    if settings.database_url != default_database_url(settings.instance):
        values["database_url"] = settings.database_url
    return saved_settings.save(settings.instance, values)
