"""JSON-LD expansion and RDF conversion in "safe mode", on pyld, with our own caches.

* Safe mode: anything expansion would silently drop (an undefined property, a
  relative ``@id``/``@type``/datatype, a term mapped to nothing) is a
  :class:`~verifier.errors.DroppedTermError`, as jsonld.js ``safe: true`` does. No
  base IRI is used, so relative references stay relative and are caught.
* Caching: every :class:`JsonLdEngine` owns its resolved-context cache (pyld's own
  is process-wide and keyed by URL only) and memoizes context processing and IRI
  expansion by the identity of the (frozen, shared) active context. That is what
  makes repeated signing and verification fast; the results are the same objects
  pyld would compute, so output is unchanged (tests prove it against plain pyld).
"""
from __future__ import annotations

import threading
from typing import Any

from cachetools import LRUCache
from pyld import jsonld as _pyld
from pyld.context_resolver import ContextResolver

from .document_loader import DocumentLoader
from .errors import CredentialError, DroppedTermError, JsonLdProcessingError

_MEMO_LIMIT = 50_000


def _is_absolute_iri(value: str) -> bool:
    return ":" in value and not value.startswith(":")


class _SafeProcessor(_pyld.JsonLdProcessor):
    """pyld's processor with safe-mode checks and engine-owned memo tables."""

    def __init__(self, engine: "JsonLdEngine"):
        super().__init__(on_property_dropped=self._on_dropped)
        self._ctx_memo = engine._ctx_memo
        self._iri_memo = engine._iri_memo

    @staticmethod
    def _on_dropped(expanded_property) -> None:
        raise DroppedTermError(
            f"the property {expanded_property!r} is not defined by any @context, so it "
            "would be left out of what is signed",
            details={"term": expanded_property},
        )

    def expand(self, input_, options):
        expanded = super().expand(input_, options)
        _check_expanded(expanded)
        return expanded

    def _process_context(self, active_ctx, local_ctx, options, override_protected=False,
                         propagate=True, validate_scoped=True, cycles=None):
        if cycles or not local_ctx:
            return super()._process_context(active_ctx, local_ctx, options, override_protected,
                                            propagate, validate_scoped, cycles)
        if isinstance(local_ctx, str):
            local_key: Any = local_ctx
        elif isinstance(local_ctx, list) and all(isinstance(c, str) for c in local_ctx):
            local_key = tuple(local_ctx)
        else:
            local_key = id(local_ctx)  # identity; the memo entry keeps the object alive
        key = (id(active_ctx), local_key, override_protected, propagate, validate_scoped)
        hit = self._ctx_memo.get(key)
        if hit is not None and hit[0] is active_ctx and (not isinstance(local_key, int) or hit[1] is local_ctx):
            return hit[2]
        result = super()._process_context(active_ctx, local_ctx, options, override_protected,
                                          propagate, validate_scoped, cycles)
        if len(self._ctx_memo) >= _MEMO_LIMIT:
            self._ctx_memo.clear()
        self._ctx_memo[key] = (active_ctx, local_ctx, result)
        return result

    def _expand_iri(self, active_ctx, value, base=None, vocab=False, local_ctx=None, defined=None):
        if local_ctx is not None or defined is not None or not isinstance(value, str):
            return super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)
        key = (id(active_ctx), value, base, vocab)
        hit = self._iri_memo.get(key)
        if hit is not None and hit[0] is active_ctx:
            return hit[1]
        result = super()._expand_iri(active_ctx, value, base, vocab)
        if len(self._iri_memo) >= _MEMO_LIMIT:
            self._iri_memo.clear()
        self._iri_memo[key] = (active_ctx, result)
        return result


def _relative(kind: str, value: str) -> DroppedTermError:
    return DroppedTermError(
        f"the {kind} {value!r} is not an absolute IRI (an undefined term or a relative "
        "reference), so it would be left out of what is signed",
        details={"kind": kind, "value": value},
    )


def _check_expanded(node: Any) -> None:
    """Fail on relative references left in expanded JSON-LD (jsonld.js safe mode)."""
    if isinstance(node, list):
        for item in node:
            _check_expanded(item)
        return
    if not isinstance(node, dict):
        return
    if "@value" in node:
        datatype = node.get("@type")
        if isinstance(datatype, str) and datatype != "@json" and not _is_absolute_iri(datatype):
            raise _relative("datatype", datatype)
        return
    node_id = node.get("@id")
    if isinstance(node_id, str) and not _is_absolute_iri(node_id):
        raise _relative("@id", node_id)
    for type_ in node.get("@type", ()):
        if isinstance(type_, str) and not _is_absolute_iri(type_):
            raise _relative("type", type_)
    for key, value in node.items():
        if key in ("@id", "@type"):
            continue
        if not key.startswith("@") and not _is_absolute_iri(key):
            raise _relative("property", key)
        _check_expanded(value)


def _unwrap(exc: BaseException) -> CredentialError:
    """Our own error from inside pyld's wrapping, or a JsonLdProcessingError."""
    seen = exc
    while seen is not None:
        if isinstance(seen, CredentialError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return JsonLdProcessingError(f"the document is not valid JSON-LD: {_describe(exc)}")


def _describe(exc: BaseException) -> str:
    messages = []
    seen: BaseException | None = exc
    while seen is not None and len(messages) < 4:
        text = str(seen.args[0]) if seen.args else type(seen).__name__
        if text and text not in messages:
            messages.append(text)
        seen = seen.__cause__
    return "; ".join(messages)


class JsonLdEngine:
    """Expansion / RDF conversion bound to one document loader and its caches."""

    def __init__(self, loader: DocumentLoader | None = None, *, remember_canonical: bool = False):
        """``remember_canonical``: keep the canonical form of recently seen documents
        (keyed by a hash of their JSON), for callers that canonicalize the same document
        twice, such as an issuer verifying what it has just signed."""
        self.loader = loader or DocumentLoader()
        self.canonical_memo: LRUCache | None = LRUCache(maxsize=64) if remember_canonical else None
        self._resolved_cache = LRUCache(maxsize=256)
        self._ctx_memo: dict = {}
        self._iri_memo: dict = {}
        self._local = threading.local()

    def _processor(self) -> _SafeProcessor:
        proc = getattr(self._local, "processor", None)
        if proc is None:
            proc = self._local.processor = _SafeProcessor(self)
        return proc

    def _options(self) -> dict:
        return {
            "base": None,
            "documentLoader": self.loader,
            "contextResolver": ContextResolver(self._resolved_cache, self.loader),
            "processingMode": "json-ld-1.1",
        }

    def expand(self, document: dict) -> list:
        try:
            return self._processor().expand(document, self._options())
        except Exception as exc:  # pyld raises many kinds; report ours or a clear one
            raise _unwrap(exc) from exc

    def to_dataset(self, document: dict) -> dict:
        """pyld RDF dataset ``{graph name: [triples]}`` of ``document``."""
        options = self._options()
        options["produceGeneralizedRdf"] = False
        # Base direction is part of what is signed: "text"@lang_dir as i18n datatypes,
        # as the eddsa-rdfc-2022 suites of jsonld.js do (otherwise @direction is lost).
        options["rdfDirection"] = "i18n-datatype"
        try:
            return self._processor().to_rdf(document, options)
        except Exception as exc:
            raise _unwrap(exc) from exc


_default_engine: JsonLdEngine | None = None


def default_engine() -> JsonLdEngine:
    """The shared engine over the bundled contexts only."""
    global _default_engine
    if _default_engine is None:
        _default_engine = JsonLdEngine()
    return _default_engine
