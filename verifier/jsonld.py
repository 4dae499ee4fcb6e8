"""JSON-LD expansion and RDF conversion in "safe mode", on pyld, with bounded cost.

This module is the engine: :class:`JsonLdEngine`, :func:`default_engine` and the pyld
processor they drive, with the safe-mode checks, the deadline checks and the turn-taking
of large documents. Written by hand because pyld has none of these: it silently drops what
it cannot map, and nothing bounds its work. Two parts live in their own modules:
:mod:`verifier.jsonld_memo` (the bounded memo tables) and :mod:`verifier.jsonld_nodemap`
(the linear node map).

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

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from cachetools import LRUCache

from .budget import Deadline, effective_deadline
from .document_loader import DocumentLoader
from .errors import CredentialError, DroppedTermError, JsonLdProcessingError
from .jsonld_memo import (
    BoundedMemo,
    CanonicalKey,
    ContextTrust,
    EngineContextResolver,
    MemoizedContexts,
    canonical_memo,
    context_memo,
    iri_memo,
)
from .jsonld_nodemap import LinearNodeMap
from .jsonld_nodemap import value_key as _value_key  # noqa: F401  (tests import it from here)
from .limits import JSONLD_LIMITS, JsonLdLimits, check_jsonld_limits
from .pyld_loaded import jsonld as _pyld
from .rdf_tables import ContextTables

__all__ = ["HEAVY_VALUES", "HEAVY_WAIT_SECONDS", "BoundedMemo", "JsonLdEngine", "default_engine"]

# Documents with more JSON values than this take turns (one at a time per engine), so a
# flood of large documents cannot crowd out ordinary credentials (a few hundred values).
HEAVY_VALUES = 2_000
PROOF_CONFIGURATIONS = 512  # canonical proof configurations an engine remembers
HEAVY_WAIT_SECONDS = 10.0
_TICK_STRIDE = 8
_YIELD_EVERY = 0.002   # a large document's thread lets others run after this much work ...
_YIELD_FOR = 0.0002    # ... for this long


T = TypeVar("T")


class _SafeProcessor(MemoizedContexts, LinearNodeMap, _pyld.JsonLdProcessor):  # type: ignore[misc]  # pyld is untyped
    """pyld's processor with safe-mode checks, deadline checks, bounded memos and a linear node map.

    One per engine and thread; :meth:`call` brackets one public operation.
    """

    def __init__(self, engine: JsonLdEngine) -> None:
        super().__init__(on_property_dropped=self._on_dropped)
        self._init_memos(engine._ctx_memo, engine._iri_memo, engine._trust)
        self._reset_node_map()
        self._deadline: Deadline | None = None
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
            self._reset_call_memos()
            self._reset_node_map()

    def _tick(self) -> None:
        # the clock is read at every 8th node object: cheap, and a node is little work
        self._ticks -= 1
        if self._ticks <= 0:
            self._ticks = _TICK_STRIDE
            self._stride()

    def _stride(self) -> None:
        if self._deadline is not None:
            self._deadline.check()

    @staticmethod
    def _on_dropped(expanded_property: str) -> None:
        raise DroppedTermError(
            f"the property {expanded_property!r} is not defined by any @context, so it "
            "would be left out of what is signed",
            details={"term": expanded_property},
        )

    def expand(self, input_: Any, options: dict[str, Any]) -> list[Any]:
        expanded: list[Any] = super().expand(input_, options)
        _check_expanded(expanded)
        return expanded

    def _expand_object(self, *args: Any, **kwargs: Any) -> Any:
        self._tick()  # once per node object; what lies between two nodes is bounded by the caps
        return super()._expand_object(*args, **kwargs)


class _LargeDocumentProcessor(_SafeProcessor):
    """For documents over :data:`HEAVY_VALUES` values: checks the deadline at every value (a
    node may hold thousands) and, every :data:`_YIELD_EVERY` seconds of work, sleeps a moment so
    that threads verifying ordinary credentials get the GIL at once instead of after the
    interpreter's 5 ms switch interval."""

    _per_value = True

    def __init__(self, engine: JsonLdEngine) -> None:
        super().__init__(engine)
        self._last_yield = time.monotonic()

    def _expand_value(self, *args: Any, **kwargs: Any) -> Any:
        self._tick()
        return super()._expand_value(*args, **kwargs)

    def _stride(self) -> None:
        super()._stride()
        if time.monotonic() - self._last_yield > _YIELD_EVERY:
            time.sleep(_YIELD_FOR)
            self._last_yield = time.monotonic()

    @contextmanager
    def call(self, deadline: Deadline) -> Iterator[None]:
        self._last_yield = time.monotonic()
        with super().call(deadline):
            yield


def _is_absolute_iri(value: str) -> bool:
    return ":" in value and not value.startswith(":")


# White space in an IRI: pyld's RDF conversion drops every statement with such an IRI without a
# word (its absolute-IRI test is ``[^\s]*`` with Python's Unicode \s), and jsonld.js also drops
# U+FEFF (white space to JavaScript). Refused, so nothing unsigned can ride along.
_IRI_SPACE = re.compile(r"[\s\ufeff]")


def _spaced(kind: str, value: str) -> DroppedTermError:
    return DroppedTermError(
        f"the {kind} {value[:200]!r} holds white space, which no IRI may; RDF processors leave it "
        "out of what is signed", details={"kind": kind, "value": value[:200]})


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
        if isinstance(datatype, str) and datatype != "@json":
            if not _is_absolute_iri(datatype):
                raise _relative("datatype", datatype)
            if _IRI_SPACE.search(datatype):
                raise _spaced("datatype", datatype)
        return
    node_id = node.get("@id")
    if isinstance(node_id, str):
        if not _is_absolute_iri(node_id):
            raise _relative("@id", node_id)
        if _IRI_SPACE.search(node_id):
            raise _spaced("@id", node_id)
    for type_ in node.get("@type", ()):
        if isinstance(type_, str):
            if not _is_absolute_iri(type_):
                raise _relative("type", type_)
            if _IRI_SPACE.search(type_):
                raise _spaced("type", type_)
    for key, value in node.items():
        if key in ("@id", "@type"):
            continue
        if not key.startswith("@"):
            if not _is_absolute_iri(key):
                raise _relative("property", key)
            if _IRI_SPACE.search(key):
                raise _spaced("property", key)
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
        self.canonical_memo: BoundedMemo[CanonicalKey, str] | None = canonical_memo() if remember_canonical else None
        # URL -> resolved contexts; only what the loader served
        self._resolved_cache: LRUCache[str, Any] = LRUCache(maxsize=256)
        self._ctx_memo = context_memo()
        self._iri_memo = iri_memo()
        self._trust = ContextTrust()  # what the shared memos may hold
        self._local = threading.local()
        self._heavy_turn = threading.Lock()
        initial = _pyld.JsonLdProcessor()._get_initial_context({"processingMode": "json-ld-1.1"})
        self._trust.trust_active(initial)
        # the fast path's term tables (verifier.rdf_walk), read off the contexts this engine processes
        self.tables = ContextTables(initial, self.process_context)
        # canonical proof configurations of plain strings (verifier.proofs.eddsa_rdfc_2022), per engine:
        # what a context URL means is this engine's loader's to say
        # (a plain dict, emptied when it reaches PROOF_CONFIGURATIONS entries: safe for the web app's threads)
        self.proof_configurations: dict[Any, str] = {}

    def memo_sizes(self) -> dict[str, int]:
        """Entries in each shared memo and cache (for tests and monitoring)."""
        return {"contexts": len(self._ctx_memo), "iris": len(self._iri_memo),
                "resolved": len(self._resolved_cache), "trusted_active": len(self._trust.active),
                "canonical": len(self.canonical_memo) if self.canonical_memo is not None else 0}

    # operations

    def _processor(self, large: bool = False) -> _SafeProcessor:
        name = "large_processor" if large else "processor"
        proc = getattr(self._local, name, None)
        if proc is None:
            proc = (_LargeDocumentProcessor if large else _SafeProcessor)(self)
            setattr(self._local, name, proc)
        return proc

    def _options(self) -> dict[str, Any]:
        return {
            "base": None,
            "documentLoader": self.loader,
            "contextResolver": EngineContextResolver(self._resolved_cache, self.loader, self._trust),
            "processingMode": "json-ld-1.1",
        }

    def _run(self, operation: Callable[[_SafeProcessor, dict[str, Any]], T], document: dict[str, Any],
             options: dict[str, Any], deadline: Deadline | None) -> T:
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

    def expand(self, document: dict[str, Any], *, deadline: Deadline | None = None) -> list[Any]:
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

    def process_context(self, active_ctx: Any, local_ctx: Any, propagate: bool = True,
                        override_protected: bool = False) -> Any:
        """JSON-LD 1.1 Context Processing of ``local_ctx`` over ``active_ctx`` (pyld's, through
        this engine's memos and loader), for the term tables of :mod:`verifier.rdf_tables`.

        Raises:
            CredentialError: the context cannot be loaded or processed.
        """
        proc = self._processor()
        try:
            with proc.call(effective_deadline(None)):
                return proc._process_context(active_ctx, local_ctx, self._options(),
                                             override_protected=override_protected, propagate=propagate)
        except Exception as exc:  # pyld raises many kinds; report ours or a clear one
            raise _unwrap(exc) from exc

    def to_dataset(self, document: dict[str, Any], *, deadline: Deadline | None = None) -> dict[str, Any]:
        """pyld RDF dataset ``{graph name: [triples]}`` of ``document``; arguments as :meth:`expand`."""
        options = self._options()
        options["produceGeneralizedRdf"] = False
        # Base direction is part of what is signed: "text"@lang_dir as i18n datatypes,
        # as the eddsa-rdfc-2022 suites of jsonld.js do (otherwise @direction is lost).
        options["rdfDirection"] = "i18n-datatype"
        dataset: dict[str, Any] = self._run(lambda proc, opts: proc.to_rdf(document, opts), document, options, deadline)
        return dataset


_default_engine: JsonLdEngine | None = None


def default_engine() -> JsonLdEngine:
    """The shared engine over the bundled contexts only."""
    global _default_engine
    if _default_engine is None:
        _default_engine = JsonLdEngine()
    return _default_engine
