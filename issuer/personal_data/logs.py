"""Logs without personal data: what the issuer's servers write about requests.

What the issuer logs (read from the code, issue 14 §5): errors (class names, codes and the
messages of 5xx errors, which name no person), bulk job failures, mail delivery that could not
start, and the servers' access logs. Only the access logs could carry an address or a name: the
request line includes the query string (``/api/v1/awards?email=...``, the console's
``/admin/awards?recipient=...``, a sign-in's ``?next=`` with both), and so does the Referer.

* :data:`ACCESS_LOG_FORMAT` is gunicorn's default line with the path only (``%(U)s``, no query
  string) and without the Referer; ``microcred serve`` uses it.
* :class:`NoQueryStrings` is a logging filter that removes query strings from request lines (the
  development server's ``werkzeug`` log); :func:`install` puts it on that logger once.

Written by hand because no logging library knows which part of a request line is personal;
the filter is a few lines over :mod:`logging`.
"""
from __future__ import annotations

import logging
import re

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
