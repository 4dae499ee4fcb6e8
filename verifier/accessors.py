"""Reading common members of a JSON document as received (nothing here is verified).

``type`` may be a string or a list (JSON-LD), and so may most members; these helpers read them
one way for every part of the verifier.
"""
from __future__ import annotations

from typing import Any

__all__ = ["as_list", "issuer_id", "types_of"]


def as_list(value: Any) -> list[Any]:
    """``value`` as a list: ``[]`` for None, the list itself, or ``[value]``."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def types_of(document: object) -> list[str]:
    """The string members of a document's ``type`` (a string or a list); ``[]`` for a non-object."""
    value = document.get("type") if isinstance(document, dict) else None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [t for t in value if isinstance(t, str)]
    return []


def issuer_id(credential: object) -> str | None:
    """The credential's issuer id (``issuer`` as a string, or ``issuer.id``), or None (also for "")."""
    issuer = credential.get("issuer") if isinstance(credential, dict) else None
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) and issuer else None
