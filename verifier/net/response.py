"""What a fetch gives back, and the shapes of the transport's injectable parts, without the transport.

:class:`FetchResponse` is what every fetcher returns (from the network, a cache, or documents
given by the user); :data:`Resolver` and :data:`Admit` are the callables the transport takes.
They live apart from :mod:`verifier.net.transport` so that the caches, the fetcher port and the
checks can name them without importing the socket layer (``http.client``, ``ssl``,
``logging``), which :class:`~verifier.fetcher.NetworkFetcher` imports only when a request
first goes out: an offline verification never loads it.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from .policy import Target

__all__ = ["Admit", "FetchResponse", "Resolver"]

#: ``resolve_host(host, port) -> [ip, ...]``
Resolver = Callable[[str, int], list[str]]
#: ``admit(target, deadline)``: a context manager entered around each request (budgets, limits)
Admit = Callable[[Target, float], AbstractContextManager[object]]


@dataclass(frozen=True)
class FetchResponse:
    """A successful (2xx) response. ``content_type`` is lower-case without parameters
    (``""`` when unknown, e.g. for local documents); ``body`` is decoded (no gzip)."""

    url: str
    final_url: str
    status: int
    content_type: str
    body: bytes
    #: how long the server allows a shared cache to reuse it, in seconds (``s-maxage`` or
    #: ``max-age`` less ``Age``; 0 for ``no-store``/``no-cache``/``private``); None: it says nothing
    max_age: float | None = None


_DIRECTIVE = re.compile(r"\s*([A-Za-z-]+)\s*(?:=\s*\"?(\d{1,10})\"?)?\s*")


def freshness(cache_control: str | None, age: str | None) -> float | None:
    """Seconds a shared cache may reuse a response (RFC 9111 §4.2.1, §5.2.2), from its
    ``Cache-Control`` and ``Age`` headers; None when the server sets no limit.

    ``no-store``, ``no-cache`` and ``private`` give 0 (not reused: the verifier is a shared
    cache); ``s-maxage`` wins over ``max-age``; ``Age`` is subtracted. Only a shorter life than
    the cache's own time-to-live can come of it, so a hostile server can at most make the
    verifier fetch again (within each verification's fetch budget), never keep a document longer.
    A malformed header counts as no limit for the parts it cannot read.
    """
    if not cache_control:
        return None
    directives: dict[str, int | None] = {}
    for part in cache_control[:1024].split(","):
        match = _DIRECTIVE.fullmatch(part)
        if match:
            name, value = match.group(1).lower(), match.group(2)
            directives.setdefault(name, int(value) if value is not None else None)
    if {"no-store", "no-cache", "private"} & directives.keys():
        return 0.0
    limit = directives.get("s-maxage") if directives.get("s-maxage") is not None else directives.get("max-age")
    if limit is None:
        return None
    held = int(age) if age and age.strip().isdigit() and len(age.strip()) <= 10 else 0
    return float(max(0, limit - held))
