"""The one place microcred imports pyld, without the network loader pyld makes at import.

Importing ``pyld.jsonld`` builds its default document loader on ``requests`` (a ``Session``),
which pulls in requests, urllib3 and charset_normalizer: about 50 ms of every process that
verifies anything, for a loader microcred never uses (every engine passes its own loader that
serves only the bundled contexts and never fetches, :mod:`verifier.document_loader`). When
nothing has imported ``requests`` yet, it is kept out for that moment: ``sys.modules[name] =
None`` makes ``import requests`` raise ImportError (the documented way to block an import), so
pyld falls back to its loader that refuses every URL; the entry is removed straight after, and a
later ``import requests`` anywhere works as usual. If ``requests`` is already loaded, pyld uses it
as before. ``tests/verifier/test_cold_start.py`` checks a verification loads no ``requests``.
"""
from __future__ import annotations

import sys

_BLOCKED = "requests" not in sys.modules
if _BLOCKED:
    sys.modules["requests"] = None  # type: ignore[assignment]
try:
    from pyld import jsonld
    from pyld.canon import permutations
    from pyld.context_resolver import ContextResolver
finally:
    if _BLOCKED and sys.modules.get("requests") is None:  # still our block, not a real import meanwhile
        sys.modules.pop("requests", None)

JsonLdProcessor = jsonld.JsonLdProcessor

__all__ = ["ContextResolver", "JsonLdProcessor", "jsonld", "permutations"]
