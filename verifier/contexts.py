"""The bundled JSON-LD contexts: read from package data, sha256-checked on load.

``contexts/index.json`` (installed as the package ``microcred_contexts``) maps every
context URL to its file, the file's sha256 and the registry package it came from (or, for
the W3C examples vocabulary, which no registry package carries, the publication it was
written from). A file whose bytes do not match its recorded digest is refused.

Some bundled files are reformatted copies of what W3C serves (same JSON, other bytes); their
entries list under ``published`` the sha256/384/512 of the published bytes, which is what
an issuer hashes for a ``relatedResource`` digest (see :mod:`verifier.related_resource`).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, NotRequired, TypedDict

import microcred_contexts

from .errors import CredentialError

CONTEXTS_DIR: Path = microcred_contexts.DIRECTORY


class ContextIntegrityError(CredentialError):
    code = "context_integrity"


class ContextEntry(TypedDict):
    """One entry of ``contexts/index.json``."""

    file: str
    sha256: str
    source: str
    member: NotRequired[str]
    published: NotRequired[list[dict[str, Any]]]


@lru_cache(maxsize=1)
def context_index() -> Mapping[str, ContextEntry]:
    """URL -> {"file", "sha256", "source", "member"} for every bundled context."""
    data = json.loads((CONTEXTS_DIR / "index.json").read_text(encoding="utf-8"))
    return MappingProxyType(data["contexts"])


def bundled_context_bytes(url: str) -> bytes:
    """The bytes of the bundled file for ``url``, sha256-checked; KeyError if it is not bundled.

    Raises:
        ContextIntegrityError: the file does not match its recorded sha256.
    """
    entry = context_index()[url]
    raw = (CONTEXTS_DIR / entry["file"]).read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != entry["sha256"]:
        raise ContextIntegrityError(
            f"bundled context {url} ({entry['file']}) does not match its recorded sha256; "
            "reinstall microcred",
            details={"url": url, "expected": entry["sha256"], "actual": digest},
        )
    return raw


@cache
def load_bundled_context(url: str) -> dict[str, Any]:
    """The parsed context document for ``url``; raises KeyError if it is not bundled.

    The caller must not mutate the returned object (it is shared).
    """
    document: dict[str, Any] = json.loads(bundled_context_bytes(url))
    return document


def published_digests(url: str) -> tuple[Mapping[str, str], ...]:
    """Recorded digests of the bytes published at ``url``, where they differ from the bundled file.

    Each item maps ``label``, ``sha256``, ``sha384``, ``sha512`` (hex) and, for an earlier
    version kept only for ``relatedResource`` digests, ``superseded: True``. Empty when
    nothing is recorded (the bundled bytes are then the only known form); KeyError if ``url``
    is not bundled.
    """
    return tuple(MappingProxyType(item) for item in context_index()[url].get("published", ()))


def bundled_context_urls() -> tuple[str, ...]:
    return tuple(context_index())
