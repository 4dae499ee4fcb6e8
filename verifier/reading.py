"""One reading of a credential: the JSON the checks read means what the signature covers.

A Data Integrity proof such as ``eddsa-rdfc-2022`` signs RDF statements, not JSON. JSON-LD
has many spellings of one statement: a full IRI as a key, a compact IRI through a prefix,
an alias from an inline ``@context``, an ``@nest`` wrapper, ``@included`` nodes, ``@reverse``
properties. A holder can re-spell a signed ``credentialStatus`` or ``validUntil`` that way,
the signature still verifies, and checks that read ``credential["validUntil"]`` find nothing.

Decision: the credential must be in *compacted form under the bundled contexts*
(VC 2.0 §4.3 "type-specific credential processing"; JSON-LD 1.1 §6 compacted form), and this
module refuses, with a named reason, anything else — before any key is fetched or proof
checked. The alternative, reading every checked field from the expanded form, would mean two
readings of every field (the page and the API show JSON) and a second JSON-LD pass over
untrusted input; one strict shape keeps one reading, is linear in the document's size, and is
what type-specific processors in other verifiers assume. The rules:

1. **Keys** (``non_term_key``, ``keyword_not_allowed``, ``alias_of_checked_property``): every
   key is a plain term (no ``:``), or a full/compact IRI that cannot expand to vocabulary a
   bundled context already names (:class:`~verifier.vocabulary.BundledVocabulary`
   over-approximates every expansion). Keywords are refused except ``@context`` and, inside
   value objects, ``@value``/``@language``/``@direction``/``@type``: ``@nest``, ``@included``,
   ``@reverse``, ``@graph``, ``@id``/``@type`` (the contexts alias them as ``id``/``type``) and
   the rest move or hide statements. A term the bundled contexts map onto the same IRI as a
   property the checks read (``expiration`` for ``expires``) is refused too.
2. **Inline contexts** (``inline_context_alias``, ``inline_context_not_allowed``): an inline
   ``@context`` object may only *add* terms for new vocabulary, as VC 2.0 §4.2 allows (the W3C
   suite issues ``{"ExampleVerifiableCredential": "https://example.org/#ExampleVerifiableCredential"}``).
   Each term maps to an absolute IRI (a string, or ``{"@id", "@type"?, "@container"?}``) that
   does not end with a gen-delim (so it can never serve as a prefix, JSON-LD 1.1 §4.1.5). A term
   for vocabulary a bundled context names must carry the name that context gives it (VC 1.1
   credentials define ``name`` as schema:name, which VC 2.0 names the same way), and a name the
   checks read (``validUntil``, ``credentialStatus``...) may not be given another meaning. An
   ``@vocab`` may not cover bundled vocabulary. ``@base``, ``@import``, ``@propagate``,
   ``@prefix``, ``@reverse``, ``@nest``, scoped contexts and ``null`` are refused. Strings in
   ``@context`` must be bundled contexts (checked by the contexts check).
3. **Types** (``non_term_type``): a ``type`` value with a ``:`` may not expand to a class a
   bundled context names: it must use the term (``VerifiableCredential``, not
   ``cred:VerifiableCredential``).
4. **One description per checked node** (``node_described_twice``): the credential, its
   status entries and its subjects are each described by one JSON object; another object with
   the same ``id`` and properties beyond ``id``/``type`` would add statements about them that
   the checks do not see. (A bare ``{"id", "type"}`` elsewhere only adds a type, as the
   1EdTech complete example's ``refreshService`` does, and is accepted.)

All rules are checked on the JSON in one pass, in time linear in its size; nothing here
runs JSON-LD or touches the network.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import cache
from typing import Any

from .errors import CredentialError
from .vocabulary import GEN_DELIM_END, BundledVocabulary, bundled_vocabulary

# Keys the checks, the summary and the proof code read by name. A bundled term that maps onto
# the same IRI as one of these under another name is an alias the checks would not see.
CHECKED_KEYS = frozenset({
    "id", "type", "issuer", "name", "credentialSubject", "credentialStatus", "statusPurpose",
    "statusListIndex", "statusListCredential", "statusSize", "statusMessage", "validFrom",
    "validUntil", "issuanceDate", "expirationDate", "identifier", "identityHash", "identityType",
    "hashed", "salt", "achievement", "endorsement", "endorsementJwt", "proof", "created",
    "expires", "verificationMethod", "proofPurpose", "cryptosuite", "proofValue", "jws",
    "previousProof", "challenge", "domain", "relatedResource", "digestSRI", "digestMultibase",
    "credentialSchema", "encodedList", "evidence",
})
VALUE_OBJECT_KEYS = frozenset({"@value", "@language", "@direction", "@type"})
INLINE_CONTEXT_KEYWORDS = frozenset({"@version", "@protected", "@language", "@direction", "@vocab"})
INLINE_DEFINITION_KEYS = frozenset({"@id", "@type", "@container", "@protected"})
INLINE_CONTAINERS = frozenset({"@set", "@list", "@language", "@index"})


class ReadingError(CredentialError):
    """The credential's JSON would not mean what its signed statements say."""

    code = "non_term_key"


def _refuse(code: str, message: str, path: str) -> ReadingError:
    return ReadingError(f"{message} (at {path})", code=code, details={"path": path})


def check_single_reading(document: dict[str, Any], vocabulary: BundledVocabulary | None = None, *,
                         objects: Iterable[dict[str, Any]] | None = None) -> None:
    """Raise :class:`ReadingError` unless ``document`` has one reading (see the module docstring).

    One pass over the JSON objects, depth first; rules 1-3 per entry as it is met (plain names
    and types without a colon pass at once), rule 4 once every object has been counted.
    ``objects``: every JSON object of ``document`` (as :class:`verifier.limits.Survey` lists
    them; more do no harm), for the bundled vocabulary's shortcut :func:`_plainly_one_reading`."""
    if objects is not None and vocabulary is None and _plainly_one_reading(document, objects):
        return
    vocab = vocabulary or bundled_vocabulary()
    aliases = _alias_keys(vocab) if vocabulary is not None else _bundled_alias_keys()
    plain = _plain_terms(vocab, aliases) if vocabulary is not None else _bundled_plain_terms()
    checked_ids = _checked_node_ids(document)
    described: Counter[str] = Counter()
    # Where an object is comes as a chain ``(parent, step)`` that :func:`_path` writes out as
    # JSONPath only when a refusal needs it (most documents are read and never refused).
    stack: list[tuple[Any, Any]] = [("$", document)]
    push = stack.append
    while stack:
        here, item = stack.pop()
        if isinstance(item, dict):
            value_object = "@value" in item
            for key, child in item.items():
                if key in plain:  # the usual key: a bundled term no rule refuses
                    pass
                elif key == "type":  # a checked key: only its values can be refused
                    if (":" in child if isinstance(child, str) else
                            isinstance(child, list) and any(isinstance(t, str) and ":" in t for t in child)):
                        _check_types(child, f"{_path(here)}.type", vocab)
                elif key[:1] == "@" or ":" in key or key in aliases:
                    _check_entry(key, child, f"{_path(here)}.{key}", vocab, value_object)
                if isinstance(child, (dict, list)) and key != "@context":
                    push(((here, key), child))
            node_id = _described(item, checked_ids)
            if node_id is not None:
                described[node_id] += 1
        elif isinstance(item, list):
            for index, child in enumerate(item):
                if isinstance(child, (dict, list)):
                    push(((here, index), child))
    for node_id in checked_ids:
        if described[node_id] > 1:
            raise _refuse("node_described_twice",
                          f"{node_id[:200]!r} is described in more than one place, so part of what is signed "
                          "about it would not be checked", "$")


def _plainly_one_reading(document: dict[str, Any], objects: Iterable[dict[str, Any]]) -> bool:
    """True when rules 1-4 surely pass ``document`` under the bundled vocabulary, judged per
    object from its keys at once (the usual credential: plain terms, types without a colon,
    context URLs, each checked node described once); False sends the caller to the full walk,
    which refuses, naming the path, or passes.

    ``objects`` must hold every JSON object of ``document`` the full walk visits; one more (an
    inline context, say) can only make the answer False, never True where the walk refuses."""
    usual, aliases = _bundled_usual_keys(), _bundled_alias_keys()
    checked_ids = _checked_node_ids(document)
    described: set[str] = set()
    for item in objects:
        types = item.get("type")
        if types is not None:
            for type_ in types if isinstance(types, list) else (types,):
                if type(type_) is not str or ":" in type_:
                    return False
        if "@context" in item:
            context = item["@context"]
            if not (isinstance(context, str) or isinstance(context, list) and all(isinstance(c, str) for c in context)):
                return False
        if not usual.issuperset(item):  # a key the full walk looks at more closely
            for key in item:
                if key not in usual and (key[:1] == "@" or ":" in key or key in aliases):
                    return False
        if checked_ids:
            node_id = _described(item, checked_ids)
            if node_id is not None:
                if node_id in described:
                    return False
                described.add(node_id)
    return True


def _described(item: dict[str, Any], checked_ids: list[str]) -> str | None:
    """The checked node ``item`` describes (rule 4): its id, when it says more than id, type and
    @context; else None."""
    node_id = item.get("id")
    if node_id in checked_ids and len(item) > 1 + ("type" in item) + ("@context" in item):
        return str(node_id)
    return None


def _path(where: Any) -> str:
    """The JSONPath of a chain made by :func:`check_single_reading`."""
    parts: list[str] = []
    while isinstance(where, tuple):
        where, step = where
        parts.append(f"[{step}]" if isinstance(step, int) else "." + step)
    return str(where) + "".join(reversed(parts))


def _check_entry(key: str, value: Any, where: str, vocab: BundledVocabulary, value_object: bool) -> None:
    """One entry that may be refused (the caller skips plain names and types without a colon,
    which never are)."""
    if key == "@context":
        _check_context_value(value, where, vocab)
    elif key.startswith("@"):
        if not (value_object and key in VALUE_OBJECT_KEYS):
            raise _refuse("keyword_not_allowed",
                          f"the JSON-LD keyword {key} is not allowed in a credential: it can move or hide "
                          "signed statements", where)
    elif ":" in key:
        if key.startswith("_:") or vocab.names_known_vocabulary(key):
            raise _refuse("non_term_key",
                          f"the property {key[:200]!r} is spelled as an IRI instead of by its name", where)
    else:
        raise _refuse("alias_of_checked_property",
                      f"the property {key!r} is another name for a property the checks read", where)


def _check_types(value: Any, where: str, vocab: BundledVocabulary) -> None:
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str) and ":" in item and vocab.names_known_vocabulary(item):
            raise _refuse("non_term_type", f"the type {item[:200]!r} is spelled as an IRI instead of by its name",
                          where)


def _check_context_value(value: Any, where: str, vocab: BundledVocabulary) -> None:
    for index, item in enumerate(value if isinstance(value, list) else [value]):
        here = f"{where}[{index}]"
        if isinstance(item, str):
            continue  # the contexts check refuses any context that is not bundled
        if not isinstance(item, dict):
            raise _refuse("inline_context_not_allowed", "an @context entry is neither a URL nor an object", here)
        if set(item) == {"@context"}:
            # an embedded context document ({"@context": {...}}), unwrapped as JSON-LD processors do
            _check_context_value(item["@context"], f"{here}.@context", vocab)
            continue
        _check_inline_context(item, here, vocab)


def _check_inline_context(context: dict[str, Any], where: str, vocab: BundledVocabulary) -> None:
    for term, definition in context.items():
        here = f"{where}.{term}"
        if term.startswith("@"):
            if term not in INLINE_CONTEXT_KEYWORDS:
                raise _refuse("inline_context_not_allowed", f"an inline @context may not use {term}", here)
            if term == "@vocab" and (not isinstance(definition, str) or not _absolute(definition)
                                     or vocab.covers_namespace(definition)):
                raise _refuse("inline_context_alias",
                              "an inline @vocab may only name a new vocabulary, not one the bundled contexts define",
                              here)
            continue
        if ":" in term or term in vocab.keyword_aliases:
            raise _refuse("inline_context_alias",
                          f"an inline @context may only add plain terms; {term[:200]!r} is not one", here)
        iri = _check_inline_definition(definition, here, vocab)
        _check_inline_name(term, iri, here, vocab)


def _check_inline_name(term: str, iri: str, where: str, vocab: BundledVocabulary) -> None:
    """A term for known vocabulary must carry the name the bundled contexts give it (``name`` for
    schema:name, as VC 1.1 credentials without the VC 2.0 context define it), and a name the checks
    read must keep its meaning: anything else would make the JSON say one thing and the RDF another."""
    expansions = vocab.expansions(iri)
    own = vocab.term_iris.get(term, frozenset())
    if expansions & vocab.iris and not expansions & own:
        raise _refuse("inline_context_alias",
                      f"the inline term {term[:200]!r} renames {iri[:200]!r}, which the bundled contexts name "
                      "otherwise", where)
    if term in CHECKED_KEYS and not expansions & own:
        raise _refuse("inline_context_alias",
                      f"the inline term {term!r} gives a name the checks read another meaning ({iri[:200]!r})", where)


def _check_inline_definition(definition: Any, where: str, vocab: BundledVocabulary) -> str:
    if isinstance(definition, dict):
        if not set(definition) <= INLINE_DEFINITION_KEYS or "@id" not in definition:
            raise _refuse("inline_context_not_allowed",
                          "an inline term definition may only give @id, @type and @container", where)
        container = definition.get("@container")
        if container is not None and (not isinstance(container, str) or container not in INLINE_CONTAINERS):
            raise _refuse("inline_context_not_allowed", f"the container {container!r} is not allowed inline", where)
        datatype = definition.get("@type")
        if datatype is not None and not (datatype in ("@id", "@vocab", "@json") or
                                         (isinstance(datatype, str) and _absolute(datatype))):
            raise _refuse("inline_context_not_allowed", f"the type {datatype!r} is not allowed inline", where)
        iri = definition["@id"]
    else:
        iri = definition
    if not isinstance(iri, str) or not _absolute(iri):
        raise _refuse("inline_context_not_allowed", "an inline term must map to an absolute IRI", where)
    if GEN_DELIM_END.search(iri):
        raise _refuse("inline_context_alias",
                      "an inline term may not end with ':', '/', '#', '?', '[', ']' or '@' (it would be a prefix)",
                      where)
    return iri


def _absolute(iri: str) -> bool:
    scheme, colon, _ = iri.partition(":")
    return bool(colon) and scheme[:1].isalpha() and not iri.startswith("_:")


def _alias_keys(vocab: BundledVocabulary) -> frozenset[str]:
    """The terms, other than the checked keys, that map onto an IRI of a checked key somewhere:
    aliases the checks would not see (``expiration`` for ``expires``)."""
    checked_iris = frozenset(iri for key in CHECKED_KEYS for iri in vocab.term_iris.get(key, ()))
    return frozenset(term for term, iris in vocab.term_iris.items() if term not in CHECKED_KEYS and iris & checked_iris)


@cache
def _bundled_alias_keys() -> frozenset[str]:
    """:func:`_alias_keys` of the bundled vocabulary (fixed: computed once)."""
    return _alias_keys(bundled_vocabulary())


def _plain_terms(vocab: BundledVocabulary, aliases: frozenset[str]) -> frozenset[str]:
    """The terms of ``vocab`` that rules 1-3 never refuse as keys: no keyword, no colon, no alias
    (and not ``type``, whose values are checked)."""
    return frozenset(term for term in vocab.term_iris
                     if term[:1] != "@" and ":" not in term and term not in aliases and term != "type")


@cache
def _bundled_usual_keys() -> frozenset[str]:
    """The keys :func:`_plainly_one_reading` passes at once: the plain terms, ``id`` (the full
    walk passes it: no keyword, colon or alias), and ``type`` and ``@context``, whose values it
    looks at itself."""
    return _bundled_plain_terms() | ({"id"} - _bundled_alias_keys()) | {"type", "@context"}


@cache
def _bundled_plain_terms() -> frozenset[str]:
    """:func:`_plain_terms` of the bundled vocabulary (fixed: computed once)."""
    return _plain_terms(bundled_vocabulary(), _bundled_alias_keys())


def _checked_node_ids(document: dict[str, Any]) -> list[str]:
    """The ids of the nodes the checks read: the credential, its status entries, its subjects."""
    ids = [document.get("id")]
    for key in ("credentialStatus", "credentialSubject"):
        value = document.get(key)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                ids.append(item.get("id"))
    return [i for i in ids if isinstance(i, str)]
