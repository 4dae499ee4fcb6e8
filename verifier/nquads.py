"""Canonical N-Quads serialization as RDFC-1.0 and jsonld.js/rdf-canonize write it.

pyld 3.3 escapes only ``\\t \\n \\r " \\\\`` in literals. RDFC-1.0 output (and
rdf-canonize, which every JavaScript verifier uses) also escapes ``\\b`` and ``\\f``
as ECHARs and every other control character U+0000-U+001F and U+007F as an
upper-case ``\\uXXXX`` UCHAR. IRIs escape U+0000-U+0020 and ``<>"{}|^`\\`` as UCHARs.
A badge name containing such a character must sign to the same bytes everywhere,
so this module is the only place quads are turned into text.

A quad here is pyld's dataset form: ``{"subject": term, "predicate": term,
"object": term, "name": term?}`` where a term is ``{"type": "IRI" | "blank node" |
"literal", "value": str, "datatype": str?, "language": str?}``.
"""
from __future__ import annotations

import re
from typing import Any

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

_ECHARS = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}
_LITERAL_SPECIAL = re.compile(r'[\x00-\x1f\x7f"\\]')
_IRI_SPECIAL = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def _uchar(ch: str) -> str:
    return f"\\u{ord(ch):04X}"


#: whether a literal's text needs escaping (a match, or None): for callers that skip the call when not
literal_needs_escape = _LITERAL_SPECIAL.search


def escape_literal(value: str) -> str:
    if not _LITERAL_SPECIAL.search(value):
        return value
    return _LITERAL_SPECIAL.sub(lambda m: _ECHARS.get(m.group()) or _uchar(m.group()), value)


def escape_iri(value: str) -> str:
    if not _IRI_SPECIAL.search(value):
        return value
    return _IRI_SPECIAL.sub(lambda m: _uchar(m.group()), value)


def term_to_nquads(term: dict[str, Any]) -> str:
    kind = term["type"]
    value: str = term["value"]
    if kind == "IRI":
        return "<" + escape_iri(value) + ">"
    if kind == "blank node":
        return value
    text = '"' + escape_literal(value) + '"'
    datatype = term.get("datatype")
    if datatype == RDF_LANGSTRING:
        language: str = term["language"]
        return text + "@" + language
    if datatype and datatype != XSD_STRING:
        return text + "^^<" + escape_iri(datatype) + ">"
    return text


def quad_to_nquads(quad: dict[str, Any]) -> str:
    """One quad as a canonical N-Quads line, newline included."""
    line = (term_to_nquads(quad["subject"]) + " " + term_to_nquads(quad["predicate"]) + " "
            + term_to_nquads(quad["object"]))
    name = quad.get("name")
    if name is not None:
        line += " " + term_to_nquads(name)
    return line + " .\n"
