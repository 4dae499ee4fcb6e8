"""The JSON-LD node map (JSON-LD 1.1 API 7.2), linear in the values of a property.

Written by hand because pyld's node map is quadratic on hostile input: every value it
adds to a property goes through ``add_value``, which scans the values already there
for a duplicate (``compare_values``), so one node with n values of one property costs
n² comparisons. :class:`LinearNodeMap` follows pyld 3.3's ``_create_node_map`` step for
step but finds duplicates in a set of :func:`value_key` keys, which are equal exactly
when ``compare_values`` calls two values equal; the output is the same (tests compare
it with plain pyld).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .pyld_loaded import jsonld as _pyld


def value_key(value: Any) -> Any:
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


def _primitive_key(value: Any) -> tuple[Any, ...]:
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


class LinearNodeMap:
    """Mixin for a pyld ``JsonLdProcessor``: its ``_create_node_map``, linear in the values.

    The class using it calls :meth:`_reset_node_map` before and after every public
    operation and provides ``_tick()`` (the deadline check), called at every node object,
    and at every value too when ``_per_value`` is true.
    """

    _per_value = False  # deadline checks at every value, not only at every node object
    _tick: Callable[[], None]  # the processor's

    def _reset_node_map(self) -> None:
        self._seen: dict[tuple[int, str], set[Any]] = {}  # (id(subject), property) -> value keys

    def _add(self, subject: dict[str, Any], prop: str, value: Any, allow_duplicate: bool) -> None:
        """``JsonLdProcessor.add_value(subject, prop, value, {'propertyIsArray': True, ...})``
        for one non-array value, with duplicates found in a set instead of a scan."""
        if self._per_value:
            self._tick()
        key = None if allow_duplicate else value_key(value)
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

    def _create_node_map(self, input_: Any, graph_map: dict[str, dict[str, Any]], active_graph: str, issuer: Any,
                         active_subject: Any = None, active_property: Any = None,
                         list_: dict[str, Any] | None = None) -> None:
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
            o: dict[str, Any] = {"@list": []}
            self._create_node_map(input_["@list"], graph_map, active_graph, issuer, active_subject,
                                  active_property, o)
            if list_:
                list_["@list"].append(o)
            elif subject_node:
                self._add(subject_node, active_property, o, True)
            return
        self._node_map_node(input_, graph_map, active_graph, issuer, active_subject, active_property,
                            list_, subject_node)

    def _node_map_node(self, input_: Any, graph_map: dict[str, dict[str, Any]], active_graph: str,
                       issuer: Any, active_subject: Any, active_property: Any, list_: dict[str, Any] | None,
                       subject_node: dict[str, Any] | None) -> None:
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
