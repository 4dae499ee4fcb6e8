"""The installation's effective settings, kept in its instance folder so every command finds them.

``microcred init``, ``demo`` and ``serve`` write what they ran with (base URL, keys folder,
and the database URL when it was given rather than derived from the instance folder) to
``<instance>/settings.json``; :func:`issuer.config.load_settings` reads it for anything the
environment does not set. So after ``MICROCRED_PORT=8080 ./scripts/demo.sh``, a plain
``microcred revoke …`` in another terminal acts on the running demo, with nothing exported.

Order of precedence, first wins: a value passed in code (tests, ``load_settings(base_url=…)``),
the environment (``MICROCRED_BASE_URL``, ``MICROCRED_KEYS``, ``DATABASE_URL``), this file, the
built-in defaults. The instance folder itself comes from ``MICROCRED_INSTANCE`` (default
``instance/``), never from the file.

The file is JSON, written atomically with mode 0600 in the 0700 instance folder (a
``DATABASE_URL`` may hold a password, as the folder's ``secret_key`` file holds a secret). A file
that is not what this module writes is a :class:`~issuer.errors.ConfigError` naming it: a
setting is never silently dropped.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from issuer.errors import ConfigError

SETTINGS_FILE = "settings.json"
#: the keys the file may hold (the names of :class:`issuer.config.Settings`' fields)
KEYS = ("base_url", "keys_dir", "database_url")


def settings_path(instance: Path) -> Path:
    return instance / SETTINGS_FILE


def read_saved(instance: Path) -> dict[str, str]:
    """The saved settings of the installation in ``instance`` ({} when there is no file)."""
    path = settings_path(instance)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}", code="saved_settings_unreadable") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{path} is not valid JSON ({exc}); delete it and run 'microcred serve' or "
                          "'microcred demo' again to write it", code="saved_settings_invalid") from exc
    if not isinstance(data, dict) or any(key not in KEYS or not isinstance(value, str) or not value
                                         for key, value in data.items()):
        raise ConfigError(f"{path} may only hold the text settings {', '.join(KEYS)}; delete it and run "
                          "'microcred serve' or 'microcred demo' again to write it", code="saved_settings_invalid")
    return data


def save(instance: Path, values: Mapping[str, str]) -> Path:
    """Write ``values`` (keys of :data:`KEYS`) as the installation's saved settings; the file's path."""
    data = {key: values[key] for key in KEYS if values.get(key)}
    instance.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = settings_path(instance)
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    with contextlib.suppress(OSError):
        if path.read_text(encoding="utf-8") == text:
            return path
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
