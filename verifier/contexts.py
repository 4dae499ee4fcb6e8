"""The bundled JSON-LD contexts: read from package data, sha256-checked on load.

``contexts/index.json`` (installed as the package ``microcred_contexts``) maps every
context URL to its file, the file's sha256 and the registry package it came from.
A file whose bytes do not match its recorded digest is refused.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import microcred_contexts

from .errors import CredentialError

CONTEXTS_DIR: Path = microcred_contexts.DIRECTORY


class ContextIntegrityError(CredentialError):
    code = "context_integrity"


@lru_cache(maxsize=1)
def context_index() -> Mapping[str, dict]:
    """URL -> {"file", "sha256", "source", "member"} for every bundled context."""
    data = json.loads((CONTEXTS_DIR / "index.json").read_text(encoding="utf-8"))
    return MappingProxyType(data["contexts"])


@lru_cache(maxsize=None)
def load_bundled_context(url: str) -> dict:
    """The parsed context document for ``url``; raises KeyError if it is not bundled.

    The caller must not mutate the returned object (it is shared).
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
    return json.loads(raw)


def bundled_context_urls() -> tuple[str, ...]:
    return tuple(context_index())
