"""What baked PNG and SVG badges share: the error, the payload found, sniffing and classification.

:func:`sniff_image` judges an image's kind by its leading bytes only (never a file name).
:func:`classify` says what a found payload is (JSON, a compact JWS or, for OB 2.0, an assertion
URL) and :func:`check_payload` whether a payload may be baked (a JSON object or a compact JWS).
Every refusal is a :class:`BakedImageError` carrying one of the codes listed in
:mod:`verifier.baked`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import CredentialError
from ..net.strict_json import strict_json_loads

MAX_IMAGE_BYTES = 10 * 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_URL = re.compile(r"https?://\S+", re.IGNORECASE)


class BakedImageError(CredentialError):
    """An image that does not carry exactly one usable, safely extractable credential."""

    code = "bad_image"


@dataclass(frozen=True)
class BakedPayload:
    """What an image carries. Nothing about it is verified yet."""

    format: str  # "png" | "svg"
    version: str  # "ob3" | "ob2"
    kind: str  # "json" | "jwt" | "url"
    value: str  # the JSON text, the compact JWS or the URL


def sniff_image(data: bytes | bytearray) -> str | None:
    """``"png"`` or ``"svg"`` judged by the leading bytes only (never the file name)."""
    data = bytes(data[:65536])
    if data.startswith(PNG_SIGNATURE):
        return "png"
    head = data.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    lowered = head.lower()
    if not lowered.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype")):
        return None
    if b"<svg" not in head or b"<html" in lowered:
        return None
    return "svg"


def classify(text: str, version: str, where: str) -> tuple[str, str]:
    """``(kind, value)`` of the payload ``text`` found in ``where``: ``json``, ``jwt`` or (OB 2.0) ``url``."""
    value = text.strip()
    if value.startswith("{"):
        return "json", value
    if _COMPACT_JWS.fullmatch(value):
        return "jwt", value
    if version == "ob2" and _URL.fullmatch(value):
        return "url", value
    allowed = "JSON, a compact JWS or an assertion URL" if version == "ob2" else "JSON or a compact JWS"
    raise BakedImageError(
        f"The {where} holds neither {allowed}.", code="no_credential_in_image"
    )


def check_payload(payload: str) -> str:
    """A payload to bake must be a JSON object or a compact JWS; returns ``"json"`` or ``"jwt"``."""
    if not isinstance(payload, str):
        raise BakedImageError("The payload to bake must be a string.", code="invalid_input")
    value = payload.strip()
    if _COMPACT_JWS.fullmatch(value):
        return "jwt"
    try:
        parsed = strict_json_loads(value.encode("utf-8"))
    except (UnicodeError, ValueError) as exc:
        raise BakedImageError(
            f"The payload to bake is neither a compact JWS nor valid JSON: {exc}",
            code="invalid_input",
        ) from exc
    if not isinstance(parsed, dict):
        raise BakedImageError("The JSON payload to bake is not an object.", code="invalid_input")
    return "json"
