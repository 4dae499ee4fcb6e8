"""A JSON-LD document loader that never touches the network.

It serves the bundled contexts (``contexts/``) and, when a caller passes them
explicitly, extra documents keyed by URL (test vectors' example contexts, a
``--resolve URL=FILE`` mapping, ...). Any other URL is an
:class:`~verifier.errors.UnknownContextError` naming the URL.

Every document is returned with ``tag: "static"`` so pyld caches the processed
context; the cache itself belongs to the :class:`~verifier.jsonld.JsonLdEngine`
built around this loader, never to pyld's process-wide cache.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from .contexts import context_index, load_bundled_context
from .errors import UnknownContextError

JSONLD_CONTENT_TYPE = "application/ld+json"


class DocumentLoader:
    """Callable pyld document loader over bundled contexts plus given documents."""

    def __init__(self, documents: Mapping[str, Any] | None = None):
        self._extra: dict[str, Any] = {url: copy.deepcopy(doc) for url, doc in (documents or {}).items()}

    def knows(self, url: str) -> bool:
        return url in self._extra or url in context_index()

    def document(self, url: str) -> Any:
        """A private copy of the document for ``url``."""
        if url in self._extra:
            return copy.deepcopy(self._extra[url])
        if url in context_index():
            return copy.deepcopy(load_bundled_context(url))
        raise UnknownContextError(
            f"the JSON-LD context {url} is not bundled with microcred and is never "
            "fetched from the network",
            details={"url": url},
        )

    def __call__(self, url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "contentType": JSONLD_CONTENT_TYPE,
            "contextUrl": None,
            "documentUrl": url,
            "document": self.document(url),
            "tag": "static",
        }
