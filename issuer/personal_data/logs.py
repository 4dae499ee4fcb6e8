"""Logs without personal data: what the issuer's servers write about requests.

What the issuer logs (read from the code, issue 14 §5): errors (class names, codes and the
messages of 5xx errors, which name no person), bulk job failures and mail delivery that could not
start (with their tracebacks), and the servers' access logs. Two of these could carry an address
or a name: the access logs, whose request line includes the query string
(``/api/v1/awards?email=...``, the console's ``/admin/awards?recipient=...``, a sign-in's ``?next=``
with both), and so does the Referer; and a logged traceback of a database error, whose message
holds the values bound to the statement (hidden by the engines: ``hide_parameters``) and, on
PostgreSQL, the server's ``DETAIL`` line (``Key (issuer_id, email)=(..., alex@example.com)``).

* :data:`ACCESS_LOG_FORMAT` is gunicorn's default line with the path only (``%(U)s``, no query
  string) and without the Referer; ``microcred serve`` uses it.
* :class:`NoQueryStrings` is a logging filter that removes query strings from request lines (the
  development server's ``werkzeug`` log); :func:`install` puts it on that logger once.
* :class:`RedactAddresses` replaces every email address in a record (message and traceback) by
  ``[address]``; :func:`install_app_logging` writes the issuer's own log (``issuer.*``, warnings and
  errors, as Python's last-resort handler did) through it. ``microcred serve`` calls both.

Written by hand because no logging library knows which part of a request line is personal;
the filter is a few lines over :mod:`logging`.
"""
from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

ADDRESS = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
APP_LOGGER = "issuer"
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'
_QUERY = re.compile(r'(\b(?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) [^ ?"]*)\?[^ "]*')
DEV_SERVER_LOGGER = "werkzeug"


def without_query(text: str) -> str:
    """``text`` with the query string of every request line in it removed."""
    return _QUERY.sub(r"\1", text)


class NoQueryStrings(logging.Filter):
    """Removes query strings from a record's request lines (its message and its string arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = without_query(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(without_query(a) if isinstance(a, str) else a for a in record.args)
        return True


def install(logger_name: str = DEV_SERVER_LOGGER) -> None:
    """Put :class:`NoQueryStrings` on ``logger_name`` (once)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, NoQueryStrings) for f in logger.filters):
        logger.addFilter(NoQueryStrings())


class RedactAddresses(logging.Filter):
    """Replaces email addresses in a record's message and traceback by ``[address]`` (a handler's filter)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = ADDRESS.sub("[address]", record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = ADDRESS.sub("[address]", record.exc_text)
        if record.stack_info:
            record.stack_info = ADDRESS.sub("[address]", record.stack_info)
        return True


def install_app_logging(stream: TextIO | None = None) -> logging.Handler:
    """Write the ``issuer`` loggers' warnings and errors to ``stream`` (stderr) through :class:`RedactAddresses`.

    Once per process: a second call returns the handler installed first.
    """
    logger = logging.getLogger(APP_LOGGER)
    for handler in logger.handlers:
        if any(isinstance(f, RedactAddresses) for f in handler.filters):
            return handler
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactAddresses())
    logger.addHandler(handler)          # (with a handler here, Python's unfiltered last resort stays silent)
    return handler
