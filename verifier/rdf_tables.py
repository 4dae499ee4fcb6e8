"""Term tables for the bundled contexts: what each key and value of a compacted credential means.

Role: the tables :mod:`verifier.rdf_walk` reads to turn a compacted credential into RDF
without generic JSON-LD expansion. Under the one-reading rule of :mod:`verifier.reading` the
signed document is in compacted form under the bundled, protected contexts, so the meaning of
every key is known before the document is read; these tables hold it.

Where the tables come from: each :class:`ContextTables` wraps one *active context* that pyld's
Context Processing (JSON-LD 1.1 §4.1) computed from the bundled context files themselves,
through the engine's memos (:meth:`verifier.jsonld.JsonLdEngine.process_context`); nothing is
written by hand. What a key means under that context (:class:`Rule`: its IRI, its type
coercion, its container, its scoped context) is read off the term definition once, the first
time the key is met, and kept. Moving to another context (a type-scoped or property-scoped
context, a nested ``@context``) is a transition kept on the table it starts from, so after the
first credential of a shape every step is a dictionary lookup.

Contract: the tables never guess. A key or value whose meaning needs anything outside what
they cover (a reverse property, language or index maps, a list of lists, a default language or
direction, ``@json``, a keyword other than ``@id``/``@type``, an inline context object, a
blank node identifier written in the document, a relative IRI) raises :class:`NotCovered`,
and the caller takes the general pyld path, which gives the verdict (or the error) it always
gave. The IRI expansion here is JSON-LD 1.1 §5.2 (IRI Expansion) for the cases above, written
to give exactly pyld's result; the differential tests (``tests/verifier/
test_rdf_fast_differential.py`` and the jsonld.js interop tests) hold it to that.

Memory is bounded: one table caches at most :data:`MAX_TRANSITIONS` transitions (then it starts
afresh), so a stream of documents with ever new lists of context URLs cannot grow it; the
engine's own memo is bounded too. Only contexts served by
the engine's loader (the bundled files) are ever turned into tables: inline context objects in a
document are not covered.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import CredentialError
from .nquads import XSD_DOUBLE, XSD_STRING, escape_iri

__all__ = ["MAX_TRANSITIONS", "ContextTables", "NotCovered", "Rule", "iri_term", "is_absolute_iri"]

MAX_TRANSITIONS = 256  # cached context transitions per table (then the cache starts afresh)


# pyld's test for an absolute IRI (pyld.jsonld._is_absolute_iri): what RDF conversion keeps
_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")
# an absolute IRI of printable ASCII that N-Quads writes as itself (none of <>"{}|^`\ or white space)
_PLAIN_ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[!#-;=?-\[\]_a-z~]*")
# containers that change nothing in RDF (@set) or that the walk handles (@graph alone)
_PLAIN_CONTAINERS: tuple[frozenset[str], ...] = (frozenset(), frozenset({"@set"}))
_GRAPH_CONTAINERS = (frozenset({"@graph"}), frozenset({"@graph", "@set"}))
_LIST_CONTAINER = frozenset({"@list"})


class NotCovered(Exception):
    """The document needs something the tables do not cover; take the general path."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _term(iri: str) -> str:
    return "<" + escape_iri(iri) + ">"


def iri_term(value: str) -> str:
    """``value`` as an N-Quads IRI term; NotCovered unless it is an absolute IRI (RDF keeps no other)."""
    if _PLAIN_ABSOLUTE_IRI.fullmatch(value) is not None:  # the usual IRI: nothing to escape or refuse
        return "<" + value + ">"
    if not is_absolute_iri(value):
        raise NotCovered(f"the IRI {value!r} is not absolute")
    return "<" + escape_iri(value) + ">"


def is_absolute_iri(value: str) -> bool:
    """pyld's absolute-IRI test (``scheme:`` followed by no white space), blank nodes excluded, and
    no U+FEFF (white space to jsonld.js): anything else is the general path's to refuse."""
    return _ABSOLUTE_IRI.match(value) is not None and not value.startswith("_:") and "\ufeff" not in value


# what a key is
ID = 1
TYPE = 2
PROPERTY = 3

# how a property's string values are read (its type coercion)
LITERAL = 0   # a literal (``datatype`` set when coerced to a datatype)
AS_ID = 1     # "@type": "@id": an IRI
AS_VOCAB = 2  # "@type": "@vocab": a term or an IRI


@dataclass(frozen=True, slots=True)
class Rule:
    """What one key means under one active context (the parts of its term definition RDF needs)."""

    kind: int                    # ID, TYPE or PROPERTY
    predicate: str = ""          # the property IRI as an N-Quads term, "<...>" (PROPERTY)
    coercion: int = LITERAL      # LITERAL, AS_ID or AS_VOCAB
    datatype: str | None = None  # coerced datatype of literals
    graph: bool = False          # "@container": "@graph": each value is a named graph
    list: bool = False           # "@container": "@list": the values are one RDF collection
    scoped: Any = None           # the term's scoped context (pyld's local context value), or None
    language_free: bool = True   # plain strings stay xsd:string (no default @language/@direction)

    @property
    def string_suffix(self) -> str | None:
        """What follows a string value's quoted text in N-Quads ("" or "^^<datatype>"), when
        a string is written as itself (no IRI coercion, no language, not an xsd:double)."""
        if self.coercion != LITERAL or self.graph or self.list or not self.language_free:
            return None
        if self.datatype is None or self.datatype == XSD_STRING:
            return ""
        if self.datatype == XSD_DOUBLE:
            return None
        return "^^<" + escape_iri(self.datatype) + ">"


class ContextTables:
    """One active context, read for the fast path: rules per key, IRI expansion, transitions.

    ``process`` is the engine's Context Processing (``process(active, local, propagate,
    override_protected) -> active``); it is called only when a transition is first met.
    """

    __slots__ = ("__weakref__", "_lock", "_process", "_rules", "_transitions", "_vocab_iris", "active",
                 "mappings", "previous", "shapes", "vocab")

    def __init__(self, active: Any, process: Callable[[Any, Any, bool, bool], Any],
                 previous: ContextTables | None = None, shapes: dict[Any, Any] | None = None) -> None:
        self.active = active
        # the node plans of :mod:`verifier.rdf_plans`, one store for all the tables of one engine:
        # they live and die with it (an issuer makes an engine per self-check)
        self.shapes: dict[Any, Any] = {} if shapes is None else shapes
        self.mappings: Any = active["mappings"]
        self.vocab: str | None = active.get("@vocab")
        self.previous = previous
        self._process = process
        self._rules: dict[str, Rule] = {}
        self._vocab_iris: dict[str, str] = {}
        self._transitions: dict[tuple[Any, ...], tuple[Any, ContextTables]] = {}
        self._lock = threading.Lock()

    # -- moving between contexts ---------------------------------------------------------

    def after(self, local: Any, *, propagate: bool = True, override_protected: bool = False) -> ContextTables:
        """The tables of the context that processing ``local`` over this one gives (JSON-LD 1.1 §4.1).

        ``local`` is a context URL, a list of URLs, or a scoped context taken from a term
        definition of these tables (never an inline context of a document: the walk refuses
        those before it gets here).
        """
        if isinstance(local, str):
            key: Any = local
        elif isinstance(local, list) and all(isinstance(item, str) for item in local):
            key = tuple(local)
        elif isinstance(local, dict):
            key = id(local)  # a term's scoped context; the cache entry keeps it alive
        elif local is False:
            key = "@context: null"  # a term's scoped null context, as pyld keeps it (VC 2.0's verifiableCredential)
        else:
            raise NotCovered("a @context that is not a URL, a list of URLs or a term's scoped context")
        cache_key = (key, propagate, override_protected)
        hit = self._transitions.get(cache_key)
        if hit is not None and (not isinstance(local, dict) or hit[0] is local):
            return hit[1]
        try:
            active = self._process(self.active, local, propagate, override_protected)
        except CredentialError as exc:
            raise NotCovered(f"context processing failed: {exc}") from exc
        previous_active = active.get("previousContext")
        previous: ContextTables | None = None
        if previous_active is not None:
            if previous_active is self.active:
                previous = self
            elif self.previous is not None and previous_active is self.previous.active:
                previous = self.previous
            else:
                previous = ContextTables(previous_active, self._process, shapes=self.shapes)
        tables = ContextTables(active, self._process, previous, self.shapes)
        with self._lock:
            if len(self._transitions) >= MAX_TRANSITIONS:
                self._transitions.clear()  # bounded; the shapes in use are learnt again
            tables = self._transitions.setdefault(cache_key, (local, tables))[1]
        return tables

    def reverted(self) -> ContextTables:
        """The context before a non-propagated (type-scoped) context, or this one."""
        return self.previous if self.previous is not None else self

    # -- keys --------------------------------------------------------------------------

    def means(self, key: str, keyword: str) -> bool:
        """Whether ``key`` expands to ``keyword`` (``@id``, ``@type``) here; never raises."""
        if key == keyword:
            return True
        mapping = self.mappings.get(key)
        return mapping is not None and mapping.get("@id") == keyword

    def rule(self, key: str) -> Rule:
        """What ``key`` means here; NotCovered when the tables do not cover it."""
        rule = self._rules.get(key)
        if rule is None:
            rule = self._read_rule(key)
            if key in self.mappings or key.startswith("@"):  # kept for the context's own terms only: bounded
                self._rules[key] = rule  # a function of (context, key): a race writes the same
        return rule

    def value_rule(self, key: str) -> Rule:
        """How the value of ``key`` is read under this context, where ``key`` was met under another
        (a term's scoped context applies to its value): the key's own term definition here, or,
        when this context does not define it (a null scoped context), no coercion at all, as
        Value Expansion (JSON-LD 1.1 §5.3.2) then reads it."""
        if key in self.mappings or key.startswith("@"):
            return self.rule(key)
        return Rule(PROPERTY, language_free=self.active.get("@language") is None
                    and self.active.get("@direction") is None)

    def _read_rule(self, key: str) -> Rule:
        if key.startswith("@"):
            if key == "@id":
                return Rule(ID)
            if key == "@type":
                return Rule(TYPE)
            raise NotCovered(f"the keyword {key}")
        expanded = self.expand_vocab(key)
        if expanded == "@id":
            return Rule(ID)
        if expanded == "@type":
            return Rule(TYPE)
        if expanded.startswith("@") or not is_absolute_iri(expanded):
            raise NotCovered(f"the key {key!r} expands to {expanded!r}")
        mapping = self.mappings.get(key)
        default_language = self.active.get("@language")
        default_direction = self.active.get("@direction")
        if mapping is None:
            return Rule(PROPERTY, _term(expanded),
                        language_free=default_language is None and default_direction is None)
        if mapping.get("reverse"):
            raise NotCovered(f"the reverse property {key!r}")
        container = frozenset(mapping.get("@container") or ())
        if container not in _PLAIN_CONTAINERS and container not in _GRAPH_CONTAINERS and container != _LIST_CONTAINER:
            raise NotCovered(f"the container {sorted(container)} of {key!r}")
        coerced = mapping.get("@type")
        coercion, datatype = LITERAL, None
        if coerced == "@id":
            coercion = AS_ID
        elif coerced == "@vocab":
            coercion = AS_VOCAB
        elif coerced == "@json":
            raise NotCovered(f"the JSON literal {key!r}")
        elif coerced is not None and coerced != "@none":
            if not isinstance(coerced, str) or not is_absolute_iri(coerced):
                raise NotCovered(f"the datatype {coerced!r} of {key!r}")
            datatype = coerced
        language = mapping.get("@language", default_language)
        direction = mapping.get("@direction", default_direction)
        return Rule(PROPERTY, _term(expanded), coercion, datatype, container in _GRAPH_CONTAINERS,
                    container == _LIST_CONTAINER, mapping.get("@context"), language is None and direction is None)

    # -- IRI expansion (JSON-LD 1.1 §5.2, as pyld does it, without document-relative resolution) --

    def expand_vocab(self, value: str) -> str:
        """``value`` expanded as a vocabulary term (keys, ``@type`` values, ``@vocab`` coercion)."""
        iri = self._vocab_iris.get(value)
        if iri is None:
            iri = self._expand(value, vocab=True)
            if value in self.mappings:  # kept for the context's own terms only: bounded
                self._vocab_iris[value] = iri
        return iri

    def expand_id(self, value: str) -> str:
        """``value`` expanded as a node identifier (``@id`` and ``@id``-coerced values)."""
        return self._expand(value, vocab=False)

    def id_term(self, value: str) -> str:
        """``iri_term(self.expand_id(value))``, at once for the usual identifier: a plain absolute
        IRI whose scheme is no prefix of this context (or followed by ``//``) expands to itself."""
        if _PLAIN_ABSOLUTE_IRI.fullmatch(value) is not None:
            colon = value.find(":")
            mapping = self.mappings.get(value[:colon])
            if not (mapping and mapping.get("_prefix")) or value.startswith("//", colon + 1):
                return "<" + value + ">"
        return iri_term(self._expand(value, vocab=False))

    def _expand(self, value: str, *, vocab: bool) -> str:
        if value.startswith("@"):
            raise NotCovered(f"the keyword-like value {value!r}")
        mappings = self.mappings
        if vocab and value in mappings:
            mapping = mappings[value]
            if mapping is None:
                raise NotCovered(f"the term {value!r} is mapped to null")
            iri: str = mapping["@id"]
            return iri
        colon = value.find(":")
        if colon > 0:
            prefix, suffix = value[:colon], value[colon + 1:]
            if prefix == "_":
                raise NotCovered("a blank node identifier written in the document")
            if suffix.startswith("//"):
                return value
            mapping = mappings.get(prefix)
            if mapping and mapping.get("_prefix"):
                expanded: str = mapping["@id"] + suffix
                return expanded
            if _ABSOLUTE_IRI.match(value):
                return value
        if vocab and self.vocab is not None:
            return self.vocab + value
        raise NotCovered(f"the relative reference {value!r}")
