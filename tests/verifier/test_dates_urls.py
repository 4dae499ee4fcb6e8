"""The shared date parser (verifier.dates), origin (verifier.urls) and type reader (verifier.accessors)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verifier.accessors import as_list, types_of
from verifier.dates import DateError, is_datetime_stamp, parse_datetime
from verifier.urls import origin


@pytest.mark.parametrize("text, expected", [
    ("2026-01-31T09:00:00Z", datetime(2026, 1, 31, 9, tzinfo=UTC)),
    ("2026-01-31T09:00:00.5Z", datetime(2026, 1, 31, 9, 0, 0, 500000, tzinfo=UTC)),
    ("2026-01-31T09:00:00.123456789Z", datetime(2026, 1, 31, 9, 0, 0, 123456, tzinfo=UTC)),
    ("2026-01-31T10:30:00+01:30", datetime(2026, 1, 31, 9, tzinfo=UTC)),
    ("2026-01-31T00:00:00-14:00", datetime(2026, 1, 31, 14, tzinfo=UTC)),
])
def test_date_time_stamps(text, expected):
    assert parse_datetime(text) == expected
    assert is_datetime_stamp(text)


@pytest.mark.parametrize("text", [
    "2026-01-31T09:00:00",           # no zone
    "2026-01-31",                     # no time
    "2026-01-31T09:00Z",              # no seconds
    "2026-01-31t09:00:00z",           # lower case
    "2026-01-31T09:00:00+0100",       # offset without colon
    "2026-01-31T09:00:00+15:00",      # offset beyond 14:00
    "2026-01-31T09:00:00+01:60",
    "2026-02-30T09:00:00Z",           # no such day
    "2026-01-31T24:00:00Z",
    " 2026-01-31T09:00:00Z",
    "２０２６-01-31T09:00:00Z",       # non-ASCII digits
    "2026-01-31T09:00:00Z\n",
])
def test_not_date_time_stamps(text):
    with pytest.raises(DateError):
        parse_datetime(text)
    assert not is_datetime_stamp(text)


@given(st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32), st.integers(0, 24), st.integers(0, 60),
       st.integers(0, 60), st.text("0123456789", max_size=9))
def test_utc_stamps_read_as_their_fields_say(year, month, day, hour, minute, second, fraction):
    """The usual ``...Z`` form (read by the C parser) means what its fields say, or is refused
    when they name no real moment, as every other form is read."""
    text = f"{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{'.' + fraction if fraction else ''}Z"
    micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
    try:
        expected = datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    except ValueError:
        with pytest.raises(DateError):
            parse_datetime(text)
        return
    assert parse_datetime(text) == expected
    assert parse_datetime(text).tzinfo is UTC


def test_zone_optional_reads_utc_and_non_strings_are_refused():
    assert parse_datetime("2026-01-31T09:00:00", require_zone=False) == datetime(2026, 1, 31, 9, tzinfo=UTC)
    for value in (None, 20260131, ["2026-01-31T09:00:00Z"]):
        with pytest.raises(DateError):
            parse_datetime(value, require_zone=False)


@pytest.mark.parametrize("text, offset", [
    ("1977-06-10T12:00:00Z", 0), ("1977-06-10T12:00:00+0800", 8 * 60), ("1977-06-10T12:00:00-0800", -8 * 60),
    ("1977-06-10T12:00:00+08", 8 * 60), ("1977-06-10T12:00:00+08:00", 8 * 60), ("1977-06-10t12:00z", 0),
    ("  1977-06-10T12:00:00.25Z\n", 0),
])
def test_lenient_open_badges_2_forms(text, offset):
    parsed = parse_datetime(text, lenient=True)
    assert parsed.utcoffset() == timedelta(minutes=offset)
    assert parsed.replace(microsecond=0, tzinfo=None) == datetime(1977, 6, 10, 12)


@pytest.mark.parametrize("text", ["1977-06-10T12:00:00", "notadatetime", "1977-06-10", "1977-06-10T12:00:00+8"])
def test_lenient_still_needs_a_zone_and_a_time(text):
    with pytest.raises(DateError):
        parse_datetime(text, lenient=True)


@pytest.mark.parametrize("url, expected", [
    ("https://Example.COM/a?b#c", "https://example.com"),
    ("https://example.com:443/x", "https://example.com"),
    ("HTTPS://example.com", "https://example.com"),
    ("http://example.com:80", "http://example.com"),
    ("http://example.com:443", "http://example.com:443"),
    ("https://example.com:8443", "https://example.com:8443"),
    ("https://[::1]:8443/", "https://[::1]:8443"),
    ("https://u:p@example.com/", None),
    ("https://example.com@evil.example/", None),
    ("ftp://example.com/", None),
    ("did:web:example.com", None),
    ("https:///path", None),
    ("https://example.com:99999/", None),
    ("https://example.com:port/", None),
    (None, None),
    (42, None),
])
def test_origin(url, expected):
    assert origin(url) == expected


def test_default_ports_are_the_same_origin():
    assert origin("https://h") == origin("https://h:443") == origin("https://H/path")
    assert origin("http://h") != origin("https://h")


def test_types_of_and_as_list():
    assert types_of({"type": "Assertion"}) == ["Assertion"]
    assert types_of({"type": ["A", 1, None, "B"]}) == ["A", "B"]
    assert types_of({"type": {"id": "x"}}) == [] and types_of({}) == [] and types_of("Assertion") == []
    assert as_list(None) == [] and as_list("a") == ["a"] and as_list(["a"]) == ["a"]
