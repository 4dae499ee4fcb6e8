"""The one strict JSON parser (``verifier.net.strict_json``): what it refuses, and that nesting is
measured on the parsed value (brackets inside strings do not count; very deep input is refused
with the same words, never a RecursionError)."""
from __future__ import annotations

import json

import pytest

from verifier.net.strict_json import MAX_JSON_DEPTH, strict_json_loads


def nested_arrays(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def nested_objects(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("make", [nested_arrays, nested_objects])
def test_nesting_up_to_the_limit_is_read_and_one_more_is_refused(make):
    assert strict_json_loads(make(MAX_JSON_DEPTH)) is not None
    with pytest.raises(ValueError, match=f"nests deeper than {MAX_JSON_DEPTH} levels"):
        strict_json_loads(make(MAX_JSON_DEPTH + 1))


@pytest.mark.parametrize("make", [nested_arrays, nested_objects])
def test_very_deep_input_is_refused_in_the_same_words(make):
    with pytest.raises(ValueError, match=f"nests deeper than {MAX_JSON_DEPTH} levels"):
        strict_json_loads(make(100_000))


def test_brackets_inside_strings_do_not_count():
    document = {"name": "[" * 500 + "{" * 500, "deep": nested_arrays(10).decode()}
    assert strict_json_loads(json.dumps(document).encode()) == document


def test_a_wide_shallow_document_is_read_whole():
    document = {"items": [{"id": str(i), "tags": [[i]]} for i in range(300)]}
    assert strict_json_loads(json.dumps(document).encode()) == document


@pytest.mark.parametrize("text,words", [
    (b'{"a": 1, "b": 2, "a": 3}', "duplicate member 'a'"),
    (b'{"x": {"id": 1, "id": 1}}', "duplicate member 'id'"),
    (b"[NaN]", "non-standard JSON constant NaN"),
    (b"[Infinity]", "non-standard JSON constant Infinity"),
    (b"\xef\xbb\xbf{}", "byte-order mark"),
    (b'{"a": "\\ud800"}', "lone surrogate"),
])
def test_ambiguous_json_is_refused(text, words):
    with pytest.raises(ValueError, match=words):
        strict_json_loads(text)


def test_an_escaped_surrogate_pair_is_text():
    assert strict_json_loads(b'{"a": "\\ud83d\\ude00"}') == {"a": "\U0001F600"}
