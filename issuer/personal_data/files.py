"""The instance folder's files about people: the ``.eml`` copies of sent mail, removed on erasure and by retention.

Without an SMTP server the mail transport writes every email as a file in ``<instance>/outbox-mail/``
(:class:`issuer.mail.transport.FolderTransport`): the address, the name and the text of the email,
and the badge with the signed credential. Nothing else in the instance folder is about a person
(the database, the secret key, the demo password; keys live in the keys folder; bulk uploads are
stored in the database).

Erasure cannot hold files in its database transaction, so it works in three steps:
:func:`mark_files` renames the person's files to ``.erasing-<name>`` before the transaction (a
failure there stops the erasure before anything changed), :func:`unmark_files` renames them back
if the transaction fails, and :func:`sweep` deletes every marked file after the commit. A file
that could not be deleted stays marked and the next erasure or ``microcred retention purge``
deletes it (``sweep`` runs first in both), so no personal data survives a failure for long.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from email.utils import getaddresses
from pathlib import Path

from issuer.config import Settings
from issuer.mail.transport import MAIL_FOLDER

MARK = ".erasing-"
MAX_HEADER_BYTES = 64 * 1024


def mail_folder(settings: Settings) -> Path:
    return settings.instance / MAIL_FOLDER


def _mail_files(settings: Settings) -> list[Path]:
    folder = mail_folder(settings)
    try:
        return sorted(p for p in folder.iterdir() if p.suffix == ".eml" and not p.name.startswith(".")
                      and p.is_file())
    except FileNotFoundError:
        return []


def _recipients(path: Path) -> set[str]:
    """The addresses an ``.eml`` file is to (lower-case); empty if it cannot be read."""
    try:
        with path.open("rb") as handle:
            head = handle.read(MAX_HEADER_BYTES)
    except OSError:
        return set()
    headers = BytesHeaderParser(policy=default_policy).parsebytes(head)
    values = [str(v) for name in ("To", "Cc", "Bcc") for v in headers.get_all(name, [])]
    return {address.strip().lower() for _name, address in getaddresses(values) if address}


def files_to(settings: Settings, email: str) -> list[Path]:
    """The mail folder's ``.eml`` files addressed to ``email`` (normalized)."""
    return [path for path in _mail_files(settings) if email in _recipients(path)]


def mark_files(paths: Iterable[Path]) -> list[tuple[Path, Path]]:
    """Rename each file to its marked name; (original, marked) pairs. OSError (nothing left marked) on failure."""
    done: list[tuple[Path, Path]] = []
    try:
        for path in paths:
            marked = path.with_name(MARK + path.name)
            os.replace(path, marked)
            done.append((path, marked))
    except OSError:
        unmark_files(done)
        raise
    return done


def unmark_files(pairs: Iterable[tuple[Path, Path]]) -> None:
    """Put marked files back (the erasure did not happen)."""
    for original, marked in pairs:
        with contextlib.suppress(OSError):      # cannot happen in practice; a file left marked is deleted later
            os.replace(marked, original)


def sweep(settings: Settings) -> tuple[int, int]:
    """Delete every marked file: (deleted, left because deleting failed)."""
    folder = mail_folder(settings)
    try:
        marked = [p for p in folder.iterdir() if p.name.startswith(MARK)]
    except FileNotFoundError:
        return 0, 0
    deleted = 0
    for path in marked:
        try:
            path.unlink()
            deleted += 1
        except FileNotFoundError:
            continue
        except OSError:
            pass
    return deleted, len(marked) - deleted


def old_files(settings: Settings, days: int, now: datetime) -> list[Path]:
    """Mail files last written more than ``days`` days before ``now`` (retention)."""
    cutoff = (now - timedelta(days=days)).timestamp()
    found = []
    for path in _mail_files(settings):
        try:
            if path.stat().st_mtime < cutoff:
                found.append(path)
        except OSError:
            continue
    return found
