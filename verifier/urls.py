"""URL helpers shared by the verifier: one notion of an origin.

An origin (RFC 6454 §4) is the scheme, host and port of an http(s) URL. :func:`origin` writes it
as ``scheme://host[:port]`` with the scheme and host in lower case and the default port left
out, so ``https://h``, ``HTTPS://H/`` and ``https://h:443`` are the same origin and
``http://h`` is another. Key documents, DID redirects and Open Badges 2.0 hosted verification all
compare origins with it.
"""
from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["DEFAULT_PORTS", "origin"]

DEFAULT_PORTS = {"https": 443, "http": 80}


def origin(url: object) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, default ports omitted; None for anything else.

    None too for a URL with userinfo (``https://a@b/``: which host is meant is ambiguous), no
    host, or a malformed port.
    """
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"
