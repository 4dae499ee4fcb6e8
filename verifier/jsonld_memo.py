"""The JSON-LD engine's memo tables: bounded, and shared only for what the engine trusts.

Written by hand because pyld's caching does not fit a verifier facing hostile input:
its resolved-context cache is one process-wide LRU keyed by URL only (whatever the
document loader), its per-context cache of processed contexts keeps active contexts
derived from a request's inline ``@context`` objects, both are bounded by entries only,
and it does not memoize IRI expansion at all. Here:

* :class:`BoundedMemo` is a map bounded by entries *and* by approximate bytes;
* :class:`ContextTrust` records what may be shared between calls: the documents the
  engine's loader served (bundled contexts, a finite set) and the active contexts
  computed from them alone;
* :class:`EngineContextResolver` is pyld's resolver, caching beyond the call only what
  the loader served;
* :class:`MemoizedContexts` is the processor half: context processing and IRI expansion
  memoized by the identity of the (frozen, shared) active context, in the shared memos
  when every input is trusted, otherwise for the current call only.

:mod:`verifier.jsonld` owns one set of these per :class:`~verifier.jsonld.JsonLdEngine`.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from .pyld_loaded import ContextResolver, JsonLdProcessor

CONTEXT_MEMO_ENTRIES = 4_096
CONTEXT_MEMO_BYTES = 12 * 1024 * 1024
IRI_MEMO_ENTRIES = 16_384
IRI_MEMO_BYTES = 2 * 1024 * 1024
CANONICAL_MEMO_ENTRIES = 64
CANONICAL_MEMO_BYTES = 8 * 1024 * 1024
_TRUSTED_ACTIVE_ENTRIES = 4_096

K = TypeVar("K")
V = TypeVar("V")
#: a context memo entry (active context, local context, processed context) and its key
ContextEntry = tuple[Any, Any, Any]
ContextKey = tuple[int, Any, bool, bool, bool]
#: an IRI memo entry (active context, expanded IRI) and its key
IriEntry = tuple[Any, Any]
IriKey = tuple[int, str, Any, bool]
#: a canonical memo key: (sha256 of the document's JSON, the canonicalization limits)
CanonicalKey = tuple[bytes, Hashable]


class BoundedMemo(Generic[K, V]):
    """A thread-safe map bounded by entries and by the approximate bytes of its values.

    When full, the oldest entries go first (insertion order: what is still in use
    comes back soon after). Reads take no lock.

    Args:
        max_entries: most entries kept.
        max_bytes: most bytes kept, as ``sizeof(value)`` estimates them.
        sizeof: approximate bytes of one value (default: 1 per entry).
    """

    def __init__(self, max_entries: int, max_bytes: int, sizeof: Callable[[V], int] = lambda _: 1) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._sizeof = sizeof
        self._data: dict[K, V] = {}
        self._sizes: dict[K, int] = {}
        self._lock = threading.Lock()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def get(self, key: K) -> V | None:
        return self._data.get(key)

    def put(self, key: K, value: V) -> None:
        size = self._sizeof(value)
        if size > self.max_bytes:
            return
        with self._lock:
            self.bytes += size - self._sizes.pop(key, 0)
            self._data.pop(key, None)
            self._data[key] = value
            self._sizes[key] = size
            while len(self._data) > self.max_entries or self.bytes > self.max_bytes:
                oldest = next(iter(self._data))
                del self._data[oldest]
                self.bytes -= self._sizes.pop(oldest)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._sizes.clear()
            self.bytes = 0


def active_ctx_bytes(entry: ContextEntry) -> int:
    """Approximate bytes of a context memo entry ``(active, local, processed)``."""
    # a processed active context: its own mappings dict (~100 B a slot) plus new term definitions
    return 104 * len(entry[2].get("mappings", ())) + 1024


def iri_bytes(entry: IriEntry) -> int:
    """Approximate bytes of an IRI memo entry ``(active, expanded)``."""
    result = entry[1]
    return 160 + (len(result) if isinstance(result, str) else 0)


def context_memo() -> BoundedMemo[ContextKey, ContextEntry]:
    """A shared memo of processed contexts, at its bounds."""
    return BoundedMemo(CONTEXT_MEMO_ENTRIES, CONTEXT_MEMO_BYTES, active_ctx_bytes)


def iri_memo() -> BoundedMemo[IriKey, IriEntry]:
    """A shared memo of expanded IRIs, at its bounds."""
    return BoundedMemo(IRI_MEMO_ENTRIES, IRI_MEMO_BYTES, iri_bytes)


def canonical_memo() -> BoundedMemo[CanonicalKey, str]:
    """A memo of canonical forms (N-Quads text), at its bounds."""
    return BoundedMemo(CANONICAL_MEMO_ENTRIES, CANONICAL_MEMO_BYTES, lambda text: 64 + len(text))


class ContextTrust:
    """What an engine may memoize beyond one call.

    Only documents the loader served, and active contexts computed from them alone;
    the objects are kept alive here, so their ``id`` stays theirs.
    """

    def __init__(self) -> None:
        self._docs: dict[str, tuple[Any, frozenset[int]]] = {}
        self._locals: set[int] = set()
        self.terms: frozenset[str] = frozenset()  # every key of a trusted document
        self.active: OrderedDict[int, Any] = OrderedDict()  # id -> trusted active context
        self._lock = threading.Lock()

    def trust_document(self, url: str, context: Any) -> None:
        """Trust ``context``, which the loader served for ``url``, and every object in it."""
        ids = []
        terms: set[str] = set()
        stack = [context]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                ids.append(id(value))
                terms.update(value)
                stack.extend(value.values())
            elif isinstance(value, list):
                ids.append(id(value))
                stack.extend(value)
        with self._lock:
            old = self._docs.get(url)
            if old is not None:
                self._locals.difference_update(old[1])
            self._docs[url] = (context, frozenset(ids))  # keeps the objects (and so their ids) alive
            self._locals.update(ids)
            self.terms |= terms  # grows only with the loader's (finite) documents

    def is_trusted_local(self, local_ctx: Any) -> bool:
        return id(local_ctx) in self._locals

    def trust_active(self, active_ctx: Any) -> None:
        with self._lock:
            self.active[id(active_ctx)] = active_ctx
            self.active.move_to_end(id(active_ctx))
            while len(self.active) > _TRUSTED_ACTIVE_ENTRIES:
                self.active.popitem(last=False)

    def is_trusted_active(self, active_ctx: Any) -> bool:
        return self.active.get(id(active_ctx)) is active_ctx


class _NoProcessedCache:
    """Stands in for pyld's per-resolved-context cache of processed contexts (LRU by active
    context): the engine's memo does that job, and this one would keep contexts derived
    from a request's inline contexts in the shared resolved-context cache."""

    def get(self, key: Any, default: Any = None) -> Any:
        return default

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


class EngineContextResolver(ContextResolver):  # type: ignore[misc]  # pyld has no type information
    """pyld's resolver, but only documents the loader served are cached beyond the call."""

    def __init__(self, shared_cache: Any, loader: Any, trust: ContextTrust) -> None:
        super().__init__(shared_cache, loader)
        self._trust = trust
        self._fetched: set[str] = set()

    def _fetch_context(self, active_ctx: Any, url: str, cycles: Any) -> tuple[Any, Any]:
        context, remote_doc = super()._fetch_context(active_ctx, url, cycles)
        self._fetched.add(url)
        self._trust.trust_document(url, context)
        return context, remote_doc

    def _cache_resolved_context(self, key: str, resolved: Any, tag: Any) -> Any:
        for item in resolved if isinstance(resolved, list) else [resolved]:
            item.cache = _NoProcessedCache()
        if key in self._fetched:
            return super()._cache_resolved_context(key, resolved, tag)
        self.per_op_cache[key] = resolved  # an inline context: this call only
        return resolved


class MemoizedContexts(JsonLdProcessor):  # type: ignore[misc]  # pyld has no type information
    """Mixin for a pyld ``JsonLdProcessor``: memoized context processing and IRI expansion.

    The class using it calls :meth:`_init_memos` once, :meth:`_reset_call_memos` at the
    end of every public operation, and provides ``_tick()`` (the deadline check).
    """

    _tick: Callable[[], None]  # the processor's

    def _init_memos(self, contexts: BoundedMemo[ContextKey, ContextEntry], iris: BoundedMemo[IriKey, IriEntry],
                    trust: ContextTrust) -> None:
        self._shared_ctx_memo = contexts
        self._shared_iri_memo = iris
        self._trust = trust
        self._reset_call_memos()

    def _reset_call_memos(self) -> None:
        self._call_ctx_memo: dict[ContextKey, ContextEntry] = {}
        self._call_iri_memo: dict[IriKey, IriEntry] = {}

    def _process_context(self, active_ctx: Any, local_ctx: Any, options: dict[str, Any],
                         override_protected: bool = False, propagate: bool = True, validate_scoped: bool = True,
                         cycles: Any = None) -> Any:
        self._tick()
        if cycles or not local_ctx:
            return super()._process_context(active_ctx, local_ctx, options, override_protected,
                                            propagate, validate_scoped, cycles)
        trust = self._trust
        if isinstance(local_ctx, str):
            local_key: Any = local_ctx
        elif isinstance(local_ctx, list) and all(isinstance(c, str) for c in local_ctx):
            local_key = tuple(local_ctx)
        else:
            local_key = id(local_ctx)  # identity; the memo entry keeps the object alive
        key: ContextKey = (id(active_ctx), local_key, override_protected, propagate, validate_scoped)
        # the identity checks make any hit valid; only trusted entries are ever shared
        hit = self._shared_ctx_memo._data.get(key) or self._call_ctx_memo.get(key)
        if hit is not None and hit[0] is active_ctx and (not isinstance(local_key, int) or hit[1] is local_ctx):
            return hit[2]
        result = super()._process_context(active_ctx, local_ctx, options, override_protected,
                                          propagate, validate_scoped, cycles)
        entry = (active_ctx, local_ctx, result)
        if trust.is_trusted_active(active_ctx) and (not isinstance(local_key, int)
                                                    or trust.is_trusted_local(local_ctx)):
            self._shared_ctx_memo.put(key, entry)
            trust.trust_active(result)
        else:
            self._call_ctx_memo[key] = entry
        return result

    def _expand_iri(self, active_ctx: Any, value: Any, base: Any = None, vocab: bool = False, local_ctx: Any = None,
                    defined: Any = None) -> Any:
        if local_ctx is not None or defined is not None or not isinstance(value, str):
            return super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)
        key: IriKey = (id(active_ctx), value, base, vocab)
        # the identity check makes any hit valid; only trusted entries are ever shared
        hit = self._shared_iri_memo._data.get(key) or self._call_iri_memo.get(key)
        if hit is not None and hit[0] is active_ctx:
            return hit[1]
        result = super()._expand_iri(active_ctx, value, base, vocab)
        # shared only for the words of trusted contexts (a finite set); anything else is this call's
        trust = self._trust
        if ((value in active_ctx["mappings"] or value in trust.terms)
                and trust.active.get(id(active_ctx)) is active_ctx):
            self._shared_iri_memo.put(key, (active_ctx, result))
        else:
            self._call_iri_memo[key] = (active_ctx, result)
        return result
