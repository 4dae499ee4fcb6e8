"""The verifier's network layer, under the :class:`verifier.fetcher.Fetcher` port.

Modules, from the pure to the effectful:

* :mod:`verifier.net.policy`: :class:`FetchPolicy`, :class:`FetchError` and its codes, and the
  pure URL / address checks (https only, port 443, no userinfo, no private addresses unless a
  host is allowed for development).
* :mod:`verifier.net.strict_json`: the one strict parser for fetched JSON.
* :mod:`verifier.net.response`: :class:`FetchResponse`, what every fetch returns.
* :mod:`verifier.net.transport`: one GET on a pinned socket (TLS, deadlines, decoded-size caps,
  redirects re-checked hop by hop). Not imported here: :class:`verifier.fetcher.NetworkFetcher`
  imports it when its first request goes out, so an offline verification never loads sockets.
* :mod:`verifier.net.cache`: the bounded response and failure caches shared across verifications.
* :mod:`verifier.net.throttle`: per-target-host rate and concurrency limits for one process.

Threat model: every URL and every response is the attacker's (SSRF through any URL sink, slow
and huge responses, gzip bombs, DNS rebinding, the verifier as a reflector against one host).
Each module's docstring says what it refuses. Only :mod:`verifier.fetcher` puts them together.
"""
from .cache import FailureCache, ResponseCache
from .policy import FETCH_ERROR_CODES, FetchError, FetchPolicy, forbidden_address, host_allowed
from .response import FetchResponse
from .strict_json import MAX_JSON_DEPTH, strict_json_loads
from .throttle import HostLimiter

__all__ = [
    "FETCH_ERROR_CODES", "MAX_JSON_DEPTH", "FailureCache", "FetchError", "FetchPolicy", "FetchResponse",
    "HostLimiter", "ResponseCache", "forbidden_address", "host_allowed", "strict_json_loads",
]
