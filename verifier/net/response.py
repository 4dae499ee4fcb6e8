"""What a fetch gives back, and the shapes of the transport's injectable parts, without the transport.

:class:`FetchResponse` is what every fetcher returns (from the network, a cache, or documents
given by the user); :data:`Resolver` and :data:`Admit` are the callables the transport takes.
They live apart from :mod:`verifier.net.transport` so that the caches, the fetcher port and the
checks can name them without importing the socket layer (``http.client``, ``ssl``,
``logging``), which :class:`~verifier.fetcher.NetworkFetcher` imports only when a request
first goes out: an offline verification never loads it.
"""
from __future__ import annotations

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
