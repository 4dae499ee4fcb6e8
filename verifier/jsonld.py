"""JSON-LD expansion and RDF conversion in "safe mode", on pyld, with bounded cost.

* Safe mode: anything expansion would silently drop (an undefined property, a
  relative ``@id``/``@type``/datatype, a term mapped to nothing) is a
  :class:`~verifier.errors.DroppedTermError`, as jsonld.js ``safe: true`` does. No
  base IRI is used, so relative references stay relative and are caught.
* Bounded cost on hostile input: every document first passes
  :func:`~verifier.limits.check_jsonld_limits`; expansion and RDF conversion run
  under a :class:`~verifier.budget.Deadline` (the one RDFC-1.0 uses too), checked
  at every node; pyld's node map, quadratic in the values of one property (it
  scans the values for duplicates), is replaced by an indexed one with the same
  output (tests compare with plain pyld). Documents of more than
  :data:`HEAVY_VALUES` values take turns, one at a time per engine, and let other
  threads run every few milliseconds, so a flood of them cannot crowd out
  ordinary credentials.
* Caching: every :class:`JsonLdEngine` owns its resolved-context cache (pyld's own
  is process-wide and keyed by URL only) and memoizes context processing and IRI
  expansion by the identity of the (frozen, shared) active context. The shared
  memos only ever hold what the engine's document loader serves (bundled
  contexts, finite) and are bounded by entries and approximate bytes. Whatever a
  request brings itself (inline ``@context`` objects, and every active context
  derived from one) is memoized for that call only and dropped at its end.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from cachetools import LRUCache
from pyld import jsonld as _pyld
from pyld.context_resolver import ContextResolver

from .budget import Deadline, DeadlineExceededError, effective_deadline
from .document_loader import DocumentLoader
from .errors import CredentialError, DroppedTermError, JsonLdProcessingError
from .limits import JSONLD_LIMITS, JsonLdLimits, check_jsonld_limits

CONTEXT_MEMO_ENTRIES = 4_096
CONTEXT_MEMO_BYTES = 12 * 1024 * 1024
IRI_MEMO_ENTRIES = 16_384
IRI_MEMO_BYTES = 2 * 1024 * 1024
CANONICAL_MEMO_ENTRIES = 64
CANONICAL_MEMO_BYTES = 8 * 1024 * 1024
# Documents with more JSON values than this take turns (one at a time per engine), so a
# flood of large documents cannot crowd out ordinary credentials (a few hundred values).
HEAVY_VALUES = 2_000
HEAVY_WAIT_SECONDS = 10.0
_TRUSTED_ACTIVE_ENTRIES = 4_096
_TICK_STRIDE = 8
_YIELD_EVERY = 0.002   # a large document's thread lets others run after this much work ...
_YIELD_FOR = 0.0002    # ... for this long


def _is_absolute_iri(value: str) -> bool:
    return ":" in value and not value.startswith(":")


class BoundedMemo:
    """A thread-safe map bounded by entries and by the approximate bytes of its values.

    When full, the oldest entries go first (insertion order: what is still in use
    comes back soon after). Reads take no lock.

    Args:
        max_entries: most entries kept.
        max_bytes: most bytes kept, as ``sizeof(value)`` estimates them.
        sizeof: approximate bytes of one value (default: 1 per entry).
    """

    def __init__(self, max_entries: int, max_bytes: int, sizeof: Callable[[Any], int] = lambda _: 1):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._sizeof = sizeof
        self._data: dict[Any, Any] = {}
        self._sizes: dict[Any, int] = {}
        self._lock = threading.Lock()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: Any) -> bool:
        return key in self._data

    def get(self, key: Any, default: Any = None) -> Any:
        return self._data.get(key, default)

    def put(self, key: Any, value: Any) -> None:
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


def _active_ctx_bytes(entry: tuple) -> int:
    # a processed active context: its own mappings dict (~100 B a slot) plus new term definitions
    return 104 * len(entry[2].get("mappings", ())) + 1024


def _iri_bytes(entry: tuple) -> int:
    result = entry[1]
    return 160 + (len(result) if isinstance(result, str) else 0)


class _NoProcessedCache:
    """Stands in for pyld's per-resolved-context cache of processed contexts (LRU by active
    context): the engine's memo does that job, and this one would keep contexts derived
    from a request's inline contexts in the shared resolved-context cache."""

    def get(self, key: Any, default: Any = None) -> Any:
        return default

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


class _EngineContextResolver(ContextResolver):
    """pyld's resolver, but only documents the loader served are cached beyond the call."""

    def __init__(self, engine: JsonLdEngine):
        super().__init__(engine._resolved_cache, engine.loader)
        self._engine = engine
        self._fetched: set[str] = set()

    def _fetch_context(self, active_ctx, url, cycles):
        context, remote_doc = super()._fetch_context(active_ctx, url, cycles)
        self._fetched.add(url)
        self._engine._trust_document(url, context)
        return context, remote_doc

    def _cache_resolved_context(self, key, resolved, tag):
        for item in resolved if isinstance(resolved, list) else [resolved]:
            item.cache = _NoProcessedCache()
        if key in self._fetched:
            return super()._cache_resolved_context(key, resolved, tag)
        self.per_op_cache[key] = resolved  # an inline context: this call only
        return resolved


def _value_key(value: Any) -> Any:
    """Hashable key equal for values pyld's ``compare_values`` calls equal; None: equal to nothing."""
    if type(value) is str:
        return ("p", value)
    if isinstance(value, dict):
        if "@value" in value:
            return ("v", value.get("@type"), value.get("@language"), value.get("@index"),
                    _primitive_key(value["@value"]))
        node_id = value.get("@id")
        return None if node_id is None else ("id", node_id)
    return _primitive_key(value)


def _primitive_key(value: Any) -> tuple:
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, (dict, list)):
        return ("j", _freeze(value))  # @json literals compare with Python equality
    return ("p", value)


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return ("d", frozenset((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("l", tuple(_freeze(v) for v in value))
    return value


class _SafeProcessor(_pyld.JsonLdProcessor):
    _per_value = False  # deadline checks at every value, not only at every node object

    """pyld's processor with safe-mode checks, deadline checks, bounded memos and a linear node map.

    One per engine and thread; :meth:`call` brackets one public operation.
    """

    def __init__(self, engine: JsonLdEngine):
        super().__init__(on_property_dropped=self._on_dropped)
        self._engine = engine
        self._deadline: Deadline | None = None
        self._call_ctx_memo: dict = {}
        self._call_iri_memo: dict = {}
        self._seen: dict[tuple[int, str], set] = {}
        self._ticks = 0

    @contextmanager
    def call(self, deadline: Deadline) -> Iterator[None]:
        """One public operation under ``deadline``."""
        self._deadline = deadline
        self._ticks = 0
        try:
            yield
        finally:
            self._deadline = None
            self._call_ctx_memo = {}
            self._call_iri_memo = {}
            self._seen = {}

    def _tick(self) -> None:
        # the clock is read at every 8th node object: cheap, and a node is little work
        self._ticks -= 1
        if self._ticks <= 0:
            self._ticks = _TICK_STRIDE
            if self._deadline is not None:
                self._deadline.check()

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

    def _expand_object(self, *args, **kwargs):
        self._tick()  # once per node object; what lies between two nodes is bounded by the caps
        return super()._expand_object(*args, **kwargs)

    # ------------------------------------------------------------ memoized context processing

    def _process_context(self, active_ctx, local_ctx, options, override_protected=False,
                         propagate=True, validate_scoped=True, cycles=None):
        self._tick()
        if cycles or not local_ctx:
            return super()._process_context(active_ctx, local_ctx, options, override_protected,
                                            propagate, validate_scoped, cycles)
        engine = self._engine
        if isinstance(local_ctx, str):
            local_key: Any = local_ctx
        elif isinstance(local_ctx, list) and all(isinstance(c, str) for c in local_ctx):
            local_key = tuple(local_ctx)
        else:
            local_key = id(local_ctx)  # identity; the memo entry keeps the object alive
        key = (id(active_ctx), local_key, override_protected, propagate, validate_scoped)
        # the identity checks make any hit valid; only trusted entries are ever shared
        hit = engine._ctx_memo._data.get(key) or self._call_ctx_memo.get(key)
        if hit is not None and hit[0] is active_ctx and (not isinstance(local_key, int) or hit[1] is local_ctx):
            return hit[2]
        result = super()._process_context(active_ctx, local_ctx, options, override_protected,
                                          propagate, validate_scoped, cycles)
        entry = (active_ctx, local_ctx, result)
        if engine._is_trusted_active(active_ctx) and (not isinstance(local_key, int)
                                                     or engine._is_trusted_local(local_ctx)):
            engine._ctx_memo.put(key, entry)
            engine._trust_active(result)
        else:
            self._call_ctx_memo[key] = entry
        return result

    def _expand_iri(self, active_ctx, value, base=None, vocab=False, local_ctx=None, defined=None):
        if local_ctx is not None or defined is not None or not isinstance(value, str):
            return super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)
        engine = self._engine
        key = (id(active_ctx), value, base, vocab)
        # the identity check makes any hit valid; only trusted entries are ever shared
        hit = engine._iri_memo._data.get(key) or self._call_iri_memo.get(key)
        if hit is not None and hit[0] is active_ctx:
            return hit[1]
        result = super()._expand_iri(active_ctx, value, base, vocab)
        # shared only for the words of trusted contexts (a finite set); anything else is this call's
        if ((value in active_ctx["mappings"] or value in engine._trusted_terms)
                and engine._trusted_active.get(id(active_ctx)) is active_ctx):
            engine._iri_memo.put(key, (active_ctx, result))
        else:
            self._call_iri_memo[key] = (active_ctx, result)
        return result

    # ------------------------------------------------------------ node map, linear in the values

    def _add(self, subject: dict, prop: str, value: Any, allow_duplicate: bool) -> None:
        """``JsonLdProcessor.add_value(subject, prop, value, {'propertyIsArray': True, ...})``
        for one non-array value, with duplicates found in a set instead of a scan."""
        if self._per_value:
            self._tick()
        key = None if allow_duplicate else _value_key(value)
        if key is not None:
            seen = self._seen.get((id(subject), prop))
            if seen is None:
                seen = self._seen[(id(subject), prop)] = set()
            elif key in seen:
                return
            seen.add(key)
        values = subject.get(prop)
        if values is None:
            subject[prop] = [value]
        elif isinstance(values, list):
            values.append(value)
        else:
            subject[prop] = [values, value]

    def _create_node_map(self, input_, graph_map, active_graph, issuer, active_subject=None,
                         active_property=None, list_=None):
        """pyld 3.3 ``_create_node_map`` (JSON-LD 1.1 API 7.2), step for step, with :meth:`_add`."""
        if isinstance(input_, list):
            for e in input_:
                self._create_node_map(e, graph_map, active_graph, issuer, active_subject, active_property, list_)
            return
        subject_node = (graph_map.setdefault(active_graph, {}).get(active_subject)
                        if isinstance(active_subject, str) else None)
        if "@type" in input_:
            for type_ in input_["@type"]:
                if type_.startswith("_:"):
                    issuer.get_id(type_)
        if _pyld._is_value(input_):
            if "@type" in input_:
                type_ = input_["@type"]
                if type_.startswith("_:"):
                    input_["@type"] = issuer.get_id(type_)
            if list_:
                list_["@list"].append(input_)
            elif subject_node:
                self._add(subject_node, active_property, input_, False)
            return
        if _pyld._is_list(input_):
            o: dict = {"@list": []}
            self._create_node_map(input_["@list"], graph_map, active_graph, issuer, active_subject,
                                  active_property, o)
            if list_:
                list_["@list"].append(o)
            elif subject_node:
                self._add(subject_node, active_property, o, True)
            return
        self._node_map_node(input_, graph_map, active_graph, issuer, active_subject, active_property,
                            list_, subject_node)

    def _node_map_node(self, input_, graph_map, active_graph, issuer, active_subject, active_property,
                       list_, subject_node) -> None:
        self._tick()
        id_ = input_.get("@id")
        if _pyld._is_bnode(input_):
            id_ = issuer.get_id(id_)
        node = graph_map.setdefault(active_graph, {}).setdefault(id_, {"@id": id_})
        if isinstance(active_subject, dict):
            self._add(node, active_property, active_subject, False)  # reverse property
        elif active_property:
            reference = {"@id": id_}
            if list_:
                list_["@list"].append(reference)
            elif subject_node:
                self._add(subject_node, active_property, reference, False)
        for property_, objects in sorted(input_.items()):
            if property_ == "@id":
                continue
            if property_ == "@reverse":
                referenced_node = {"@id": id_}
                for reverse_property, items in input_["@reverse"].items():
                    for item in items:
                        self._create_node_map(item, graph_map, active_graph, issuer,
                                              active_subject=referenced_node, active_property=reverse_property)
                continue
            if property_ == "@graph":
                graph_map.setdefault(id_, {})
                g = active_graph if active_graph == "@merged" else id_
                self._create_node_map(objects, graph_map, g, issuer)
                continue
            if property_ == "@included":
                self._create_node_map(objects, graph_map, active_graph, issuer)
                continue
            if property_ != "@type" and _pyld._is_keyword(property_):
                if (property_ == "@index" and "@index" in node
                        and (input_["@index"] != node["@index"] or input_["@index"]["@id"] != node["@index"]["@id"])):
                    raise _pyld.JsonLdError("Invalid JSON-LD syntax; conflicting @index property  detected.",
                                            "jsonld.SyntaxError", {"node": node}, code="conflicting indexes")
                node[property_] = input_[property_]
                continue
            if property_.startswith("_:"):
                property_ = issuer.get_id(property_)
            if len(objects) == 0:
                node.setdefault(property_, [])
                continue
            for o in objects:
                if property_ == "@type":
                    self._add(node, property_, issuer.get_id(o) if o.startswith("_:") else o, False)
                else:
                    self._create_node_map(o, graph_map, active_graph, issuer, active_subject=id_,
                                          active_property=property_)


class _LargeDocumentProcessor(_SafeProcessor):
    """For documents over :data:`HEAVY_VALUES` values: checks the deadline at every value (a
    node may hold thousands) and, every :data:`_YIELD_EVERY` seconds of work, sleeps a moment so
    that threads verifying ordinary credentials get the GIL at once instead of after the
    interpreter's 5 ms switch interval."""

    _per_value = True

    def __init__(self, engine: JsonLdEngine):
        super().__init__(engine)
        self._last_yield = time.monotonic()

    def _expand_value(self, *args, **kwargs):
        self._tick()
        return super()._expand_value(*args, **kwargs)

    def _tick(self) -> None:
        self._ticks -= 1
        if self._ticks <= 0:
            self._ticks = _TICK_STRIDE
            if self._deadline is not None:
                self._deadline.check()
            now = time.monotonic()
            if now - self._last_yield > _YIELD_EVERY:
                time.sleep(_YIELD_FOR)
                self._last_yield = time.monotonic()

    @contextmanager
    def call(self, deadline: Deadline) -> Iterator[None]:
        self._last_yield = time.monotonic()
        with super().call(deadline):
            yield


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
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, CredentialError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return JsonLdProcessingError(f"the document is not valid JSON-LD: {_describe(exc)}")


def _describe(exc: BaseException) -> str:
    messages: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(messages) < 4:
        text = str(seen.args[0]) if seen.args else type(seen).__name__
        if text and text not in messages:
            messages.append(text)
        seen = seen.__cause__
    return "; ".join(messages)


class JsonLdEngine:
    """Expansion / RDF conversion bound to one document loader and its (bounded) caches."""

    def __init__(self, loader: DocumentLoader | None = None, *, remember_canonical: bool = False,
                 limits: JsonLdLimits = JSONLD_LIMITS):
        """``remember_canonical``: keep the canonical form of recently seen documents
        (keyed by a hash of their JSON), for callers that canonicalize the same document
        twice, such as an issuer verifying what it has just signed. ``limits``: the caps
        every document must pass before JSON-LD work."""
        self.loader = loader or DocumentLoader()
        self.limits = limits
        self.canonical_memo: BoundedMemo | None = (
            BoundedMemo(CANONICAL_MEMO_ENTRIES, CANONICAL_MEMO_BYTES, lambda text: 64 + len(text))
            if remember_canonical else None)
        self._resolved_cache: LRUCache = LRUCache(maxsize=256)  # URL -> resolved contexts; only what the loader served
        self._ctx_memo = BoundedMemo(CONTEXT_MEMO_ENTRIES, CONTEXT_MEMO_BYTES, _active_ctx_bytes)
        self._iri_memo = BoundedMemo(IRI_MEMO_ENTRIES, IRI_MEMO_BYTES, _iri_bytes)
        self._trusted_docs: dict[str, tuple[Any, frozenset[int]]] = {}
        self._trusted_locals: set[int] = set()
        self._trusted_terms: frozenset[str] = frozenset()
        self._trusted_active: OrderedDict[int, Any] = OrderedDict()
        self._trust_lock = threading.Lock()
        self._local = threading.local()
        self._heavy_turn = threading.Lock()
        initial = _pyld.JsonLdProcessor()._get_initial_context({"processingMode": "json-ld-1.1"})
        self._trust_active(initial)

    # trust: only documents the loader served, and active contexts computed from them alone

    def _trust_document(self, url: str, context: Any) -> None:
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
        with self._trust_lock:
            old = self._trusted_docs.get(url)
            if old is not None:
                self._trusted_locals.difference_update(old[1])
            self._trusted_docs[url] = (context, frozenset(ids))  # keeps the objects (and so their ids) alive
            self._trusted_locals.update(ids)
            self._trusted_terms |= terms  # grows only with the loader's (finite) documents

    def _is_trusted_local(self, local_ctx: Any) -> bool:
        return id(local_ctx) in self._trusted_locals

    def _trust_active(self, active_ctx: Any) -> None:
        with self._trust_lock:
            self._trusted_active[id(active_ctx)] = active_ctx
            self._trusted_active.move_to_end(id(active_ctx))
            while len(self._trusted_active) > _TRUSTED_ACTIVE_ENTRIES:
                self._trusted_active.popitem(last=False)

    def _is_trusted_active(self, active_ctx: Any) -> bool:
        return self._trusted_active.get(id(active_ctx)) is active_ctx

    def memo_sizes(self) -> dict[str, int]:
        """Entries in each shared memo and cache (for tests and monitoring)."""
        return {"contexts": len(self._ctx_memo), "iris": len(self._iri_memo),
                "resolved": len(self._resolved_cache), "trusted_active": len(self._trusted_active),
                "canonical": len(self.canonical_memo) if self.canonical_memo is not None else 0}

    # operations

    def _processor(self, large: bool = False) -> _SafeProcessor:
        name = "large_processor" if large else "processor"
        proc = getattr(self._local, name, None)
        if proc is None:
            proc = (_LargeDocumentProcessor if large else _SafeProcessor)(self)
            setattr(self._local, name, proc)
        return proc

    def _options(self) -> dict:
        return {
            "base": None,
            "documentLoader": self.loader,
            "contextResolver": _EngineContextResolver(self),
            "processingMode": "json-ld-1.1",
        }

    def _run(self, operation: Callable[[_SafeProcessor, dict], Any], document: dict,
             options: dict, deadline: Deadline | None) -> Any:
        values = check_jsonld_limits(document, self.limits)
        proc = self._processor(large=values > HEAVY_VALUES)
        try:
            with self._turn(values), proc.call(effective_deadline(deadline)):
                return operation(proc, options)
        except Exception as exc:  # pyld raises many kinds; report ours or a clear one
            raise _unwrap(exc) from exc

    @contextmanager
    def _turn(self, values: int) -> Iterator[None]:
        """Large documents (over :data:`HEAVY_VALUES` values) are processed one at a time."""
        if values <= HEAVY_VALUES:
            yield
            return
        if not self._heavy_turn.acquire(timeout=HEAVY_WAIT_SECONDS):
            raise CredentialError(   # could not check now: not a verdict on the document
                f"the verifier was busy with other large documents for {HEAVY_WAIT_SECONDS:g} s",
                code="verifier_busy", details={"values": values})
        try:
            yield
        finally:
            self._heavy_turn.release()

    def expand(self, document: dict, *, deadline: Deadline | None = None) -> list:
        """Expanded form of ``document`` (safe mode).

        Args:
            document: the JSON-LD document (not modified).
            deadline: the budget; default the :func:`~verifier.budget.deadline_scope`'s or a fresh one.

        Raises:
            CredentialError: ``too_complex``, ``canonicalization_limit``, ``dropped_term``,
                ``unknown_context`` or ``jsonld_error``.
        """
        return self._run(lambda proc, options: proc.expand(document, options), document,
                         self._options(), deadline)

    def to_dataset(self, document: dict, *, deadline: Deadline | None = None) -> dict:
        """pyld RDF dataset ``{graph name: [triples]}`` of ``document``; arguments as :meth:`expand`."""
        options = self._options()
        options["produceGeneralizedRdf"] = False
        # Base direction is part of what is signed: "text"@lang_dir as i18n datatypes,
        # as the eddsa-rdfc-2022 suites of jsonld.js do (otherwise @direction is lost).
        options["rdfDirection"] = "i18n-datatype"
        return self._run(lambda proc, opts: proc.to_rdf(document, opts), document, options, deadline)


_default_engine: JsonLdEngine | None = None


def default_engine() -> JsonLdEngine:
    """The shared engine over the bundled contexts only."""
    global _default_engine
    if _default_engine is None:
        _default_engine = JsonLdEngine()
    return _default_engine
