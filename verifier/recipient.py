"""Does the credential name the person the recruiter expects?

Compares a known email address, URL or DID with ``credentialSubject.id`` and with
the subject's ``identifier`` IdentityObjects, hashed ones included
(``sha256$`` + hex(sha256(value + salt)), OB 3.0; OB 2.0 also used ``md5$``).
"""
from __future__ import annotations

import hashlib
import hmac
import unicodedata
from typing import Any


def normalize_identity(value: str) -> str:
    """Trimmed, NFC, and lower-cased for email addresses (and mailto: URIs)."""
    value = unicodedata.normalize("NFC", value.strip())
    if value.lower().startswith("mailto:"):
        value = value[7:]
    return value.lower() if "@" in value and ":" not in value else value


def hashed_identity(value: str, salt: str | None, algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm, _utf8(value + (salt or ""))).hexdigest()
    return f"{algorithm}${digest}"


def _utf8(text: str) -> bytes:
    # surrogatepass: a recipient given on a command line may hold undecodable bytes (surrogateescape)
    return text.encode("utf-8", "surrogatepass")


def _same(a: str, b: str) -> bool:
    """Constant-time equality of two texts (compare_digest takes only ASCII str, so bytes)."""
    return hmac.compare_digest(_utf8(a), _utf8(b))


def identity_matches(claimed: str, hashed: bool, salt: str | None, known: str) -> bool:
    known_norm = normalize_identity(known)
    if not hashed:
        return _same(normalize_identity(claimed), known_norm)
    algorithm, _, digest = claimed.partition("$")
    algorithm = algorithm.lower()
    if algorithm not in ("sha256", "md5") or not digest:
        return False
    candidates = {known_norm, known.strip()}
    return any(_same(hashed_identity(c, salt, algorithm), f"{algorithm}${digest.lower()}")
               for c in candidates)


def subject_identities(subject: dict[str, Any]) -> list[tuple[str, bool, str | None]]:
    """(value, hashed, salt) for the subject's id and every identifier it carries."""
    found: list[tuple[str, bool, str | None]] = []
    if isinstance(subject.get("id"), str):
        found.append((subject["id"], False, None))
    identifiers = subject.get("identifier") or []
    for entry in identifiers if isinstance(identifiers, list) else [identifiers]:
        if not isinstance(entry, dict) or not isinstance(entry.get("identityHash"), str):
            continue
        salt = entry.get("salt")
        if salt is None or isinstance(salt, str):    # any other salt names nobody
            found.append((entry["identityHash"], bool(entry.get("hashed")), salt))
    return found


def recipient_matches(credential: dict[str, Any], known: str) -> bool | None:
    """True/False, or None when the credential holds no identifier to compare with."""
    subjects = credential.get("credentialSubject")
    subjects = subjects if isinstance(subjects, list) else [subjects]
    identities = [i for s in subjects if isinstance(s, dict) for i in subject_identities(s)]
    if not identities:
        return None
    return any(identity_matches(value, hashed, salt, known) for value, hashed, salt in identities)
