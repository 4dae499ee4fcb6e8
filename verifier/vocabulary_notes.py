"""Notes about the vocabularies a credential uses that a verifier should pass on to a person.

The W3C examples vocabulary (``https://www.w3.org/ns/credentials/examples/v2``) is bundled so
that the W3C specifications' examples and test suites can be issued and verified, but it is
one ``@vocab`` mapping: *every* term it does not otherwise know becomes
``https://www.w3.org/ns/credentials/examples#<term>``. A credential using it is covered by the
signature, but its terms mean nothing outside the specifications' examples; it is not for
production credentials, and a report should say so.

Pure functions over the credential as received (no JSON-LD processing).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
EXAMPLES_V1 = "https://www.w3.org/2018/credentials/examples/v1"
EXAMPLES_VOCABULARY = "https://www.w3.org/ns/credentials/examples#"
EXAMPLES_CONTEXTS = frozenset({EXAMPLES_V2, EXAMPLES_V1})

#: reason code -> plain-language explanation, for a report warning
EXPLANATIONS = {
    "examples_vocabulary": "The credential uses the W3C examples vocabulary, which is meant for the "
                           "specifications' examples and tests, not for real credentials: its terms have "
                           "no agreed meaning.",
}

_MAX_NODES = 100_000  # the credential was size-checked before; this only bounds the walk


def _context_uses_examples(context: Any) -> bool:
    """True if one @context value names an examples context or maps @vocab to the examples vocabulary."""
    pending = [context]
    seen = 0
    while pending and seen < _MAX_NODES:
        item = pending.pop()
        seen += 1
        if isinstance(item, str):
            if item in EXAMPLES_CONTEXTS:
                return True
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            vocab = item.get("@vocab")
            if isinstance(vocab, str) and vocab.startswith(EXAMPLES_VOCABULARY):
                return True
            # scoped contexts (a term's own "@context") and nested definitions
            pending.extend(value for value in item.values() if isinstance(value, (dict, list)))
            if isinstance(item.get("@context"), str):
                pending.append(item["@context"])
    return False


def contexts_use_examples(context_values: Iterable[Any]) -> bool:
    """Whether any of these ``@context`` values uses the W3C examples vocabulary: the answer of
    :func:`uses_examples_vocabulary` from the values a walk already collected (every
    ``@context`` value of the document, as :class:`verifier.limits.Survey` has them)."""
    return any(_context_uses_examples(value) for value in context_values)


def uses_examples_vocabulary(credential: Any) -> bool:
    """Whether ``credential`` (or anything embedded in it) uses the W3C examples vocabulary.

    Looks at every ``@context`` in the document: the top-level one, those of embedded
    credentials (presentations, endorsements) and scoped contexts inside inline context
    objects. A context is the examples vocabulary when it is the examples URL (v2, or v1 of
    VC 1.1) or an inline object whose ``@vocab`` is ``https://www.w3.org/ns/credentials/examples#``.

    Args:
        credential: the parsed JSON (any type; non-objects use nothing).

    Returns:
        True when the examples vocabulary is used anywhere.
    """
    pending = [credential]
    push = pending.append
    seen = 0
    while pending and seen < _MAX_NODES:
        node = pending.pop()
        seen += 1
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "@context":
                    if _context_uses_examples(value):
                        return True
                elif isinstance(value, (dict, list)):
                    push(value)
        elif isinstance(node, list):
            for item in node:
                if isinstance(item, (dict, list)):
                    push(item)
    return False
