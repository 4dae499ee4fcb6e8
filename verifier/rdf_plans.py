"""Node plans: what the term tables say about one shape of node, worked out once per shape.

Role: the memory of the fast path (:mod:`verifier.rdf_walk`). Every award of one achievement,
every credential of one issuer, has the same shape: the same keys in the same places, the same
types. Which context is in force in a node, and what each of its keys means there, depends on
nothing else (JSON-LD 1.1 §5.1.2: the parent's context and the key that led here, the node's
own ``@context`` URLs, its keys and its types). A :class:`Plan` holds that answer: for each key
of the node, in the node's own order, whether it is the node identifier, its types (already
written as N-Quads terms), or a property (with its rule and the context its value is read
under). The walk then only converts values.

Two steps, because which keys mean ``@type`` is known only once the node's context is:
a :class:`Shape` (parent context, parent key, keys, ``@context``) gives the context before the
types and the type keys; its plans are keyed by the type values.

The shapes live in one store per engine (``ContextTables.shapes``, shared by all the tables of
that engine), so they go when the engine goes. Bounded: shapes and plans are keyed by what
documents contain, so both stores start afresh when full (:data:`MAX_SHAPES`,
:data:`MAX_PLANS_PER_SHAPE`) and only small keys are kept (:data:`MAX_SHAPE_CHARS`): at most
about 4,096 x 1 KB of keys and 16 x 1 KB of types per shape.
A flood of odd shapes costs the time of working plans out again, never unbounded memory.
Entries hold the objects their keys were built from, and a hit is taken only when those are
the very same objects.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, cast

from .limits import JsonLdLimits
from .rdf_tables import ID, PROPERTY, TYPE, ContextTables, NotCovered, Rule, iri_term

__all__ = ["ENTRY_ID", "ENTRY_PROPERTY", "ENTRY_SKIP", "ENTRY_TYPE", "Entry", "Plan", "plan_for", "type_strings"]

MAX_SHAPES = 4096
MAX_PLANS_PER_SHAPE = 16
MAX_SHAPE_CHARS = 1024  # a shape (its keys) or a plan (its types) longer than this is not kept

RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"

ENTRY_SKIP = 0      # "@context": read already
ENTRY_ID = 1        # the node identifier
ENTRY_TYPE = 2      # the node's types
ENTRY_PROPERTY = 3  # a property


_NO_RULE = Rule(0)
_NO_CONTEXT = cast(ContextTables, None)


@dataclass(frozen=True, slots=True)
class Entry:
    """What one key of a node is, and how its value is read (the walk reads only its kind's fields)."""

    kind: int
    rule: Rule = _NO_RULE                    # PROPERTY: the rule under the node's context
    term_ctx: ContextTables = _NO_CONTEXT    # PROPERTY: the context its value is read under
    term_rule: Rule = _NO_RULE               # PROPERTY: the rule under that context
    type_objects: tuple[tuple[str, str], ...] = ()  # TYPE: (rdf:type, each type as an N-Quads term)
    type_rests: tuple[str, ...] = ()         # TYPE: the same statements as lines after the subject
    string_suffix: str | None = None         # PROPERTY: how a lone string value ends (None: the long way)
    opening: str = ""                        # PROPERTY: its line after the subject, up to a literal's text


@dataclass(frozen=True, slots=True)
class Plan:
    active: ContextTables       # the node's context (after its type-scoped contexts)
    entries: tuple[Entry, ...]  # one per key, in the node's order
    key_chars: int              # characters of the node's keys and type values (for the caps)
    type_values: int            # JSON values its @type entries hold
    distinct: bool              # no two keys give one predicate (nor a type repeated): their statements differ


class Shape:
    """A node's context before its types, and which of its keys are types (§5.1.2 steps 7-11)."""

    __slots__ = ("active_in", "base", "plans", "property_rule", "type_keys")

    def __init__(self, active_in: ContextTables, property_rule: Rule | None, keys: tuple[str, ...],
                 local: Any) -> None:
        self.active_in = active_in
        self.property_rule = property_rule
        base = active_in
        # steps 7-8: a type-scoped context is reverted, except for a subject reference
        if base.previous is not None and not (len(keys) == 1 and base.means(keys[0], "@id")):
            base = base.reverted()
        if property_rule is not None and property_rule.scoped is not None:
            base = base.after(property_rule.scoped, override_protected=True)
        # step 9: the node's own @context (URLs of contexts the engine serves)
        if local is not None:
            base = base.after(local)
        self.base = base
        # step 11: the keys that mean @type, in lexicographic order
        self.type_keys = tuple(sorted(key for key in keys if base.means(key, "@type")))
        self.plans: dict[tuple[tuple[str, ...], ...], Plan] = {}

    def plan(self, keys: tuple[str, ...], types: tuple[tuple[str, ...], ...]) -> Plan:
        plan = self.plans.get(types)
        if plan is None:
            plan = self._make(keys, types)
            if sum(len(t) for values in types for t in values) <= MAX_SHAPE_CHARS:  # kept only when small
                if len(self.plans) >= MAX_PLANS_PER_SHAPE:
                    self.plans.clear()
                self.plans[types] = plan
        return plan

    def _make(self, keys: tuple[str, ...], types: tuple[tuple[str, ...], ...]) -> Plan:
        base = self.base
        active = base
        # step 11: type-scoped contexts, for each type key its values in lexicographic order
        for values in types:
            for type_ in sorted(values):
                mapping = base.mappings.get(type_)
                scoped = mapping.get("@context") if mapping is not None else None
                if scoped is not None and scoped is not False:
                    active = active.after(scoped, propagate=False)
        entries = []
        for key in keys:
            if key == "@context":
                entries.append(Entry(ENTRY_SKIP))
                continue
            rule = active.rule(key)
            if rule.kind == ID:
                entries.append(Entry(ENTRY_ID))
            elif rule.kind == TYPE:
                if key not in self.type_keys:
                    raise NotCovered("a key that means @type only under a type-scoped context")
                values = types[self.type_keys.index(key)]
                if any(active.expand_vocab(type_) == "@json" for type_ in values):
                    raise NotCovered("a JSON literal")
                # step 13.4.4: types are expanded under the context before their own scoped contexts
                objects = tuple(iri_term(base.expand_vocab(t)) for t in values)
                entries.append(Entry(ENTRY_TYPE, type_objects=tuple((RDF_TYPE, o) for o in objects),
                                     type_rests=tuple(f" {RDF_TYPE} {o} .\n" for o in objects)))
            else:
                # step 13.7: a term's scoped context applies to its value
                term_ctx = active.after(rule.scoped, override_protected=True) if rule.scoped is not None else active
                term_rule = term_ctx.value_rule(key) if term_ctx is not active else rule
                if term_rule.kind != PROPERTY or term_rule.list != rule.list:
                    raise NotCovered(f"{key!r} means something else under its own scoped context")
                suffix = term_rule.string_suffix if not (rule.graph or rule.list) else None
                entries.append(Entry(ENTRY_PROPERTY, rule, term_ctx, term_rule, string_suffix=suffix,
                                     opening=f' {rule.predicate} "'))
        type_chars = sum(len(t) for values in types for t in values)
        predicates = [entry.rule.predicate for entry in entries if entry.kind == ENTRY_PROPERTY]
        types_met = [obj for entry in entries for _, obj in entry.type_objects]
        distinct = (len(set(predicates)) == len(predicates) and len(set(types_met)) == len(types_met)
                    and not (types_met and RDF_TYPE in predicates))
        return Plan(active, tuple(entries), sum(len(key) for key in keys) + type_chars,
                    sum(len(values) + 1 for values in types), distinct)


_lock = threading.Lock()


def type_strings(value: Any, limits: JsonLdLimits) -> tuple[str, ...]:
    """The values of a ``@type`` entry (a string or a list of strings), within the caps."""
    if isinstance(value, str):
        values: tuple[str, ...] = (value,)
    elif isinstance(value, list) and len(value) <= limits.max_array:
        values = tuple(value)
    else:
        raise NotCovered("@type is not a string or a list of strings, or holds too many")
    cap = limits.max_string
    for item in values:
        if not isinstance(item, str):
            raise NotCovered("@type is not a string or a list of strings, or holds too many")
        if len(item) > cap:
            raise NotCovered("a type over the length cap")
    return values


def plan_for(active: ContextTables, property_rule: Rule | None, element: dict[str, Any],
             limits: JsonLdLimits) -> Plan:
    """The plan of the node ``element`` reached under ``active`` through ``property_rule``.

    NotCovered for a key, type or context list over the caps of ``limits`` (the general path
    checks them in full) and for what the tables do not cover.
    """
    keys = tuple(element)
    local = element.get("@context")
    if local is None:
        local_key: Any = None
    elif isinstance(local, str):
        local_key = local
    elif isinstance(local, list) and all(isinstance(item, str) for item in local):
        if len(local) > limits.max_contexts:
            raise NotCovered("more context entries than the cap")
        local_key = tuple(local)
    else:
        raise NotCovered("an inline @context object")
    key = (id(active), id(property_rule), keys, local_key)
    shapes = active.shapes  # the engine's store (every table of one engine shares it)
    shape = shapes.get(key)
    if shape is None or shape.active_in is not active or shape.property_rule is not property_rule:
        if any(len(k) > limits.max_string for k in keys):
            raise NotCovered("a key over the length cap")
        shape = Shape(active, property_rule, keys, local)
        if sum(len(k) for k in keys) <= MAX_SHAPE_CHARS:  # shapes hold their keys: only small ones are kept
            with _lock:
                if len(shapes) >= MAX_SHAPES:
                    shapes.clear()
                shapes[key] = shape
    type_keys = shape.type_keys
    if len(type_keys) == 1:  # the usual node: one "type" key
        types: tuple[tuple[str, ...], ...] = (type_strings(element[type_keys[0]], limits),)
    else:
        types = tuple(type_strings(element[type_key], limits) for type_key in type_keys)
    return shape.plan(keys, types)
