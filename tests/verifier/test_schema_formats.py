"""The schema's format checkers (``verifier.schema_bundle``) against plain reference definitions.

The checkers put RFC 3339's ranges into their patterns and check percent escapes apart from the
URI characters, for speed; these tests hold them to the straightforward definitions below (one
pattern, then the calendar) on derandomized generated text built to hit every boundary.
"""
from __future__ import annotations

import datetime as dt
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import schema_bundle as vs

try:
    import jsonschema_rs
    _RS_URI = jsonschema_rs.Draft201909Validator({"type": "string", "format": "uri"}, validate_formats=True)
except ImportError:  # pragma: no cover - a dependency; the fast validator is then not used either
    _RS_URI = None

_DATE_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$",
                        re.ASCII)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~:/?\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*"
                  r"(?:#(?:[A-Za-z0-9\-._~:/?@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)?$", re.ASCII)


def _exists(year: str, month: str, day: str) -> bool:
    try:
        dt.date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def reference_date_time(value: str) -> bool:
    m = _DATE_TIME.match(value)
    if not m or not _exists(*m.group(1, 2, 3)):
        return False
    hour, minute, second = (int(x) for x in m.group(4, 5, 6))
    if hour > 23 or minute > 59 or second > 60:
        return False
    return m.group(9) is None or (int(m.group(9)) <= 23 and int(m.group(10)) <= 59)


def reference_date(value: str) -> bool:
    m = _DATE.match(value)
    return m is not None and _exists(*m.groups())


def reference_uri(value: str) -> bool:
    return _URI.match(value) is not None


def _two(edges: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(edges), st.text("0123456789", min_size=0, max_size=3))


years = st.one_of(st.sampled_from(["0000", "0001", "1900", "2000", "2023", "2024", "9999"]),
                  st.text("0123456789", min_size=3, max_size=5))
months = _two(["00", "01", "02", "09", "10", "12", "13", "19", "20", "99"])
days = _two(["00", "01", "09", "10", "19", "28", "29", "30", "31", "32", "39", "40"])
hours = _two(["00", "09", "19", "20", "23", "24", "29", "30"])
sixty = _two(["00", "59", "60", "61", "69", "70"])
zones = st.one_of(st.sampled_from(["Z", "z", "", "Z\n", "+00:00", "-23:59", "+24:00", "+23:60", "+1:00", "+2a:00"]),
                  st.builds(lambda sign, h, m: f"{sign}{h}:{m}", st.sampled_from("+-"), hours, sixty))
date_times = st.builds(lambda y, mo, d, t, h, mi, s, frac, z: f"{y}-{mo}-{d}{t}{h}:{mi}:{s}{frac}{z}",
                       years, months, days, st.sampled_from(["T", "t", " ", "x"]), hours, sixty, sixty,
                       st.sampled_from(["", ".5", ".", ".123456", ",5"]), zones)


def _mutated(base: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(base, st.builds(lambda s, i, c: s[:i % (len(s) + 1)] + c + s[i % (len(s) + 1):],
                                     base, st.integers(0, 40), st.sampled_from(list("0:-T5\nZ"))))


@settings(max_examples=3000, derandomize=True, deadline=None)
@given(_mutated(date_times))
def test_date_time_agrees_with_the_reference(value):
    assert vs.is_date_time(value) == reference_date_time(value)


@settings(max_examples=1500, derandomize=True, deadline=None)
@given(_mutated(st.builds(lambda y, m, d, tail: f"{y}-{m}-{d}{tail}", years, months, days,
                          st.sampled_from(["", "", "\n", "x", "T00:00:00Z"]))))
def test_date_agrees_with_the_reference(value):
    assert vs.is_date(value) == reference_date(value)


uri_text = st.text(st.sampled_from(list("aZ09:/#%?[]@ -_.~!$&'()*+,;=fFG\u00e9\"<>\\^`{|}\n")), max_size=14)


@settings(max_examples=3000, derandomize=True, deadline=None)
@given(st.one_of(uri_text, uri_text.map(lambda s: "https:" + s), uri_text.map(lambda s: "urn:x%" + s)))
def test_uri_agrees_with_the_reference(value):
    assert vs.is_uri(value) == reference_uri(value)


@settings(max_examples=5000, derandomize=True, deadline=None)
@given(st.one_of(uri_text, uri_text.map(lambda s: "https:" + s), uri_text.map(lambda s: "urn:x%" + s),
                 st.builds(lambda scheme, rest: scheme + rest,
                           st.sampled_from(["http://", "https://[::1]", "did:key:", "a+b.c-d:", "1a:", ":", ""]),
                           uri_text)))
def test_the_fast_validators_own_uri_check_accepts_nothing_is_uri_refuses(value):
    """The jsonschema-rs validator that says "valid" quickly checks ``uri`` itself
    (schema_bundle._fast_validator_for_def): what it accepts, is_uri must accept too."""
    if _RS_URI is not None and _RS_URI.is_valid(value):
        assert vs.is_uri(value)


def test_the_boundaries_by_name():
    assert vs.is_date_time("2024-02-29T23:59:60.5+23:59")
    assert not vs.is_date_time("2023-02-29T00:00:00Z")  # no such day
    assert not vs.is_date_time("0000-01-01T00:00:00Z")  # no year 0 (as the calendar check said)
    assert not vs.is_date_time("2024-01-01T24:00:00Z") and not vs.is_date_time("2024-01-01T00:00:00+24:00")
    assert vs.is_uri("https://example.com/a%20b") and not vs.is_uri("https://example.com/a%2")
    assert not vs.is_uri("https://example.com/a%zz#x")
