"""Reading what a request asks the verifier web app to verify, and the HTTP errors that refuse it.

A :class:`Submission` is exactly one credential (a link, a credential as a JSON object or as
JSON / JWT text, or an uploaded file) and an optional recipient, as received: nothing about it
is trusted. :func:`from_form` reads a form body, :func:`from_json` a JSON body; both go through
:func:`submission`, which refuses anything else with a 400 :class:`~werkzeug.exceptions.BadRequest`
(or :class:`RequestTooLarge`). :class:`TargetBusy` refuses a link whose site was asked too often.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest, HTTPException, TooManyRequests

from ..checks.parse import MAX_INPUT_BYTES, MAX_JSON_BYTES
from ..fetcher import strict_json_loads

MAX_URL_CHARS = 4096
MAX_RECIPIENT_CHARS = 320


@dataclass(frozen=True)
class Submission:
    """One credential to verify, as received (nothing about it is trusted)."""

    source: dict[str, Any] | str | bytes
    recipient: str | None = None
    url: str | None = None
    strict: bool = False


class TargetBusy(TooManyRequests):
    description = "Too many links to this site were checked just now; try again in a minute."


class RequestTooLarge(HTTPException):
    code = 413
    name = "Request Entity Too Large"
    description = f"The upload is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB."


def _text(value: Any, what: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{what} must be text.")
    value = value.strip()
    if len(value) > limit:
        raise BadRequest(f"{what} is longer than {limit} characters.")
    return value or None


def looks_like_url(text: str) -> bool:
    """Whether ``text`` starts like an http(s) web address (nothing else about it is checked)."""
    return text[:8].lower().startswith(("https://", "http://"))


def _checked_url(url: str) -> str:
    if not looks_like_url(url) or len(url) > MAX_URL_CHARS or re.search(r"[\s\x00-\x1f\x7f]", url):
        raise BadRequest("The link must be a single web address starting with https://.")
    return url


def submission(url: Any, credential: Any, upload: bytes | None, recipient: Any, strict: Any = False) -> Submission:
    """Exactly one of a link, a credential (dict, or JSON / JWT text) or an uploaded file."""
    url = _text(url, "The link", MAX_URL_CHARS)
    if isinstance(credential, str):
        if len(credential) > MAX_JSON_BYTES:
            raise RequestTooLarge()
        credential = _text(credential, "The pasted badge", MAX_JSON_BYTES)
        if credential and looks_like_url(credential) and "\n" not in credential:
            url, credential = (url, credential) if url else (credential, None)
    elif credential is not None and not isinstance(credential, dict):
        raise BadRequest("The credential must be a JSON object, or JSON or JWT text.")
    given = [value for value in (url, credential, upload) if value is not None]
    if len(given) != 1:
        raise BadRequest("Give one badge: its link, its pasted text, or its file." if not given else
                         "Give only one badge at a time: a link, pasted text or a file.")
    recipient = _text(recipient, "The recipient", MAX_RECIPIENT_CHARS)
    if not isinstance(strict, bool):
        raise BadRequest("strict must be true or false.")
    if url is not None:
        return Submission(_checked_url(url), recipient, url, strict)
    return Submission(given[0], recipient, None, strict)  # the pasted credential or the upload


def from_form() -> Submission:
    """A submission from a form body (multipart or urlencoded); the upload field is ``file``."""
    form = request.form                       # 413 beyond the body / form field limits
    upload = request.files.get("file")
    data = upload.read(MAX_INPUT_BYTES + 1) if upload is not None else b""
    if len(data) > MAX_INPUT_BYTES:
        raise RequestTooLarge()
    return submission(form.get("url"), form.get("credential"), data or None, form.get("recipient"),
                      form.get("strict") in ("on", "true", "1"))


def from_json() -> Submission:
    """A submission from a JSON body: ``{"url"} | {"credential": object or text}``, ``"recipient"``."""
    request.max_content_length = MAX_JSON_BYTES
    raw = request.get_data(cache=False)       # 413 beyond 2 MiB, with or without Content-Length
    try:
        body = strict_json_loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    unknown = sorted(set(body) - {"url", "credential", "recipient", "strict"})
    if unknown:
        raise BadRequest(f"Unknown member(s): {', '.join(unknown)[:200]}.")
    return submission(body.get("url"), body.get("credential"), None, body.get("recipient"),
                      body.get("strict", False))


def entered_url() -> str:
    """The link field as the user typed it (cut to ``MAX_URL_CHARS``), to show again on the form."""
    value = request.values.get("url", "") if request.method == "GET" else request.form.get("url", "")
    return value[:MAX_URL_CHARS]
