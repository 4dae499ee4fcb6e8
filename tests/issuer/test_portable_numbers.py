"""The issuer never signs numbers that JavaScript verifiers read differently."""
from __future__ import annotations

import pytest

from issuer.portable_numbers import UnportableNumberError, check_portable_numbers


@pytest.mark.parametrize("value", [0, 1, -1, 2**53 - 1, -(2**53 - 1), 1.0, 1.5, 0.1, 1.5e-7, 1e21, 2e300, True])
def test_portable_numbers_pass(value):
    check_portable_numbers({"a": [{"b": value}]})


@pytest.mark.parametrize("value,why", [
    (2**53, "too large"), (-(2**53) - 5, "too large"), (9007199254740993.0 * 10, "too large"),
    (1e-7, "read as an integer"), (5e-324, "read as an integer"), (-3e-9, "read as an integer"),
    (float("nan"), "not a finite"), (float("inf"), "not a finite"),
])
def test_unportable_numbers_are_named_with_their_path(value, why):
    with pytest.raises(UnportableNumberError, match=why) as info:
        check_portable_numbers({"credentialSubject": {"result": [{"value": value}]}})
    assert info.value.details["path"] == "/credentialSubject/result/0/value"
    assert info.value.code == "unportable_number"
