"""Structured logs: one JSON object per line, each with the request id of the request it belongs to.

``microcred serve --log-format json`` (or ``MICROCRED_LOG_FORMAT=json``) calls :func:`install_json_logging`:
the ``issuer`` loggers (INFO and up, including ``issuer.access``, one record per request written by
:mod:`issuer.web.observability`) go to stderr as JSON with the keys ``time`` (UTC, ISO 8601),
``level``, ``logger``, ``message``, ``request_id`` (null outside a request), the request fields of
access records (``method``, ``endpoint``, ``path``, ``status``, ``duration_ms``) and ``exception``
(a traceback, when there is one). Personal data: every record first passes
:class:`~issuer.personal_data.logs.RedactAddresses` (the same filter the text log uses: addresses
become ``[address]``), and access records carry the path without its query string.

The request id is read by :class:`RequestIdFilter` from the request being answered
(:data:`REQUEST_ID_KEY` on :data:`flask.g`, set by :mod:`issuer.web.observability`).
Written over :mod:`logging` (a formatter of a few lines) rather than with a JSON logging library:
nothing more is needed, and the redaction filter stays the one already tested.
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

from flask import g, has_app_context

from issuer.personal_data.logs import APP_LOGGER, RedactAddresses

__all__ = ["ACCESS_FIELDS", "REQUEST_ID_KEY", "JsonFormatter", "RequestIdFilter", "install_json_logging"]

REQUEST_ID_KEY = "request_id"
ACCESS_FIELDS = ("method", "endpoint", "path", "status", "duration_ms")


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on the record (``record.request_id``; None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, REQUEST_ID_KEY):
            setattr(record, REQUEST_ID_KEY, g.get(REQUEST_ID_KEY) if has_app_context() else None)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module docstring for its keys)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
            "request_id": getattr(record, REQUEST_ID_KEY, None),
        }
        entry.update({k: getattr(record, k) for k in ACCESS_FIELDS if hasattr(record, k)})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def install_json_logging(stream: TextIO | None = None) -> logging.Handler:
    """Write the ``issuer`` loggers' records (INFO and up) to ``stream`` (stderr) as JSON lines. Once per process."""
    logger = logging.getLogger(APP_LOGGER)
    for handler in logger.handlers:
        if isinstance(handler.formatter, JsonFormatter):
            return handler
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setLevel(logging.INFO)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactAddresses())
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    return handler
