"""What the bundled contexts say: every IRI they give a name to, their prefixes, vocabularies
and keyword aliases, as one frozen :class:`BundledVocabulary`.

:mod:`verifier.reading` needs it to decide, without running JSON-LD, whether a key or a type
spelled in a credential could land on vocabulary the bundled contexts define under another name.
It is computed once from the sha256-checked files (a fixed, finite input), so it is cached for
the life of the process.

The answers are deliberately *over*-approximations: a term's IRI is collected from every
context and every scoped context it is defined in, and a compact IRI ``p:s`` is expanded with
every definition of ``p`` that any bundled context could make a prefix (JSON-LD 1.1 §4.1.5:
a simple term whose IRI ends with a gen-delim, or ``@prefix: true``). What is safe under the
over-approximation is safe under whichever context is active at that point of a document.
No library offers this (pyld processes one active context at a time and exposes no union of
all scopes), so it is written here, over the raw context files.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .contexts import context_index, load_bundled_context

# JSON-LD 1.1 §4.1.5: a simple term can serve as a prefix when its IRI ends with one of these.
GEN_DELIM_END = re.compile(r"[:/?#\[\]@]$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class BundledVocabulary:
    """The union of what every bundled context defines.

    ``iris``: every IRI some term maps to (properties and classes). ``terms``: every term
    name. ``prefixes``: prefix term -> the IRIs it may stand for. ``vocabs``: every
    ``@vocab``. ``keyword_aliases``: term -> the keyword it aliases (``id`` -> ``@id``).
    ``term_iris``: term -> every IRI it maps to in some context or scope.
    """

    iris: frozenset[str]
    terms: frozenset[str]
    prefixes: dict[str, frozenset[str]]
    vocabs: frozenset[str]
    keyword_aliases: dict[str, frozenset[str]]
    term_iris: dict[str, frozenset[str]]

    def expansions(self, value: str) -> set[str]:
        """Every IRI ``value`` (a key, type or IRI spelled in a document) may expand to."""
        found = {value}
        prefix, colon, suffix = value.partition(":")
        if colon and not suffix.startswith("//"):
            found.update(iri + suffix for iri in self.prefixes.get(prefix, ()))
        return found

    def names_known_vocabulary(self, value: str) -> bool:
        """Whether ``value`` may expand to an IRI some bundled term already names."""
        return bool(self.expansions(value) & self.iris)

    def covers_namespace(self, namespace: str) -> bool:
        """Whether any IRI a bundled term names lies inside ``namespace`` (an ``@vocab``)."""
        return any(iri.startswith(candidate) for candidate in self.expansions(namespace) for iri in self.iris)


def _definitions(context: Any, seen_urls: set[str]) -> Iterable[tuple[str, Any, dict[str, Any]]]:
    """(term, definition, the context object defining it) for a context value, scoped ones included."""
    items = context if isinstance(context, list) else [context]
    for item in items:
        if isinstance(item, str):
            if item in seen_urls or item not in context_index():
                continue
            seen_urls.add(item)
            yield from _definitions(load_bundled_context(item).get("@context"), seen_urls)
        elif isinstance(item, dict):
            for term, definition in item.items():
                yield term, definition, item
                if isinstance(definition, dict) and "@context" in definition:
                    yield from _definitions(definition["@context"], seen_urls)


def _collect(urls: Iterable[str]) -> BundledVocabulary:
    raw: list[tuple[str, Any, dict[str, Any]]] = []
    seen: set[str] = set()
    for url in urls:
        raw.extend(_definitions(url, seen))
    vocabs = {d for t, d, _ in raw if t == "@vocab" and isinstance(d, str)}
    prefixes: dict[str, set[str]] = {}
    for term, definition, _ in raw:
        iri = definition if isinstance(definition, str) else None
        if isinstance(definition, dict) and isinstance(definition.get("@id"), str):
            simple = set(definition) <= {"@id"}
            if simple or definition.get("@prefix") is True:
                iri = definition["@id"]
        # Over-approximated: JSON-LD 1.1 also wants a gen-delim at the end of a simple
        # term's IRI, but treating every simple term as a possible prefix is never less safe.
        if iri and not term.startswith("@") and ":" not in term and _SCHEME.match(iri):
            prefixes.setdefault(term, set()).add(iri)
    frozen_prefixes = {p: frozenset(v) for p, v in prefixes.items()}
    probe = BundledVocabulary(frozenset(), frozenset(), frozen_prefixes, frozenset(vocabs), {}, {})
    by_term: dict[str, set[str]] = {}
    aliases: dict[str, set[str]] = {}
    for term, definition, _ in raw:
        if term.startswith("@"):
            continue
        target = definition.get("@id", definition.get("@reverse")) if isinstance(definition, dict) else definition
        if isinstance(target, str) and target.startswith("@"):
            aliases.setdefault(term, set()).add(target)
            continue
        if isinstance(target, str):
            found = {i for i in probe.expansions(target) if _SCHEME.match(i)}
        elif ":" in term:
            found = {i for i in probe.expansions(term) if _SCHEME.match(i)}
        else:
            found = {vocab + term for vocab in vocabs}
        by_term.setdefault(term, set()).update(found)
    term_map = {t: frozenset(v) for t, v in by_term.items()}
    iris = frozenset(i for v in term_map.values() for i in v)
    return BundledVocabulary(iris, frozenset(term_map) | frozenset(aliases), frozen_prefixes, frozenset(vocabs),
                             {t: frozenset(v) for t, v in aliases.items()}, term_map)


@lru_cache(maxsize=1)
def bundled_vocabulary() -> BundledVocabulary:
    """The vocabulary of every bundled context (computed once)."""
    return _collect(context_index())
