"""How a verdict names the issuer: by the identity the keys proved, in full.

:func:`proven_identity` is what goes after "issued by". It is the issuer id itself, never a
shortened or prettier name: an https issuer at ``https://univ.example/~mallory/issuer`` proved
control of that URL, not of ``univ.example``, so it is shown as the whole URL (query and
fragment included). A ``did:web`` DID is followed by the host and path it stands for, which is
what a reader can recognise (``did:web:univ.example:people:alice (univ.example/people/alice)``);
other DIDs are shown as themselves.

:func:`proven_website` is what a recruiter reads after "proven:": the website the issuer
controls, as a reader types it (``example.com``, ``127.0.0.1:8443``, ``univ.example/people/alice``):
a did:web DID decoded (its ``%3A`` port escape as ``:``, its path segments as ``/``), an https
issuer id without its scheme, query or fragment (its path kept: it proved control of that URL, not
of the whole host). DIDs that name no website (did:key, did:jwk) give None: the issuer is tied to a
key alone, which anyone can create. Host names stay as written (punycode is not turned into
Unicode, so look-alike letters cannot pass for a familiar name).

Nothing is HTML-escaped (that is the page's job). Two things are done so the text cannot lie
on screen: characters that print as nothing or reorder text (control, format and bidi
characters, e.g. U+202E) are shown as ``\\uXXXX``, and identities longer than
:data:`MAX_IDENTITY_LENGTH` are cut in the middle with ``…`` so both ends stay visible.
"""
from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from .did import KeyResolutionError, did_web_url

__all__ = ["proven_identity", "proven_website", "MAX_IDENTITY_LENGTH"]

MAX_IDENTITY_LENGTH = 256
_TAIL = 64
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def _visible(text: str) -> str:
    if text.isprintable():  # no character of an invisible category (they are all unprintable)
        return text
    return "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) in _INVISIBLE else c for c in text)


def _bounded(text: str) -> str:
    if len(text) <= MAX_IDENTITY_LENGTH:
        return text
    head = MAX_IDENTITY_LENGTH - _TAIL - 1
    return f"{text[:head]}…{text[-_TAIL:]}"


def _did_web_place(did: str) -> str | None:
    """``host[:port][/path]`` of a did:web DID, or None if it is not a valid one."""
    try:
        url = did_web_url(did)
    except KeyResolutionError:
        return None
    place = url[len("https://"):]
    for suffix in ("/.well-known/did.json", "/did.json"):
        if place.endswith(suffix):
            return place[: -len(suffix)]
    return None


def proven_identity(issuer_id: str) -> str:
    """The issuer as a verdict names it (see the module docstring)."""
    if not isinstance(issuer_id, str):
        raise TypeError("the issuer id must be a string")
    if not issuer_id:
        raise ValueError("the issuer id is empty")
    shown = issuer_id
    if issuer_id.startswith("did:web:"):
        place = _did_web_place(issuer_id)
        if place is not None:
            shown = f"{issuer_id} ({place})"
    return _bounded(_visible(shown))


def proven_website(issuer_id: str) -> str | None:
    """The website ``issuer_id`` stands for, as people type it; None for a DID tied to no website."""
    if not isinstance(issuer_id, str) or not issuer_id:
        return None
    if issuer_id.startswith("did:web:"):
        place = _did_web_place(issuer_id)
    elif issuer_id[:8].lower() == "https://":
        parts = urlsplit(issuer_id)
        place = (parts.netloc.rpartition("@")[2] + parts.path.rstrip("/")) or None
    else:
        place = None
    return _bounded(_visible(place)) if place else None
