"""base58btc (the Bitcoin alphabet), as multibase ``z`` values, did:key and publicKeyBase58 use it.

Why by hand, not the ``base58`` package: (1) bounded cost. Decoding base58 is quadratic in the
length of the text (each digit multiplies a growing integer), and the verifier decodes text
that attackers write: a 1 MiB ``proofValue`` (within the caps for long values) kept a worker
busy for minutes in the package's decoder. Nothing microcred decodes is longer than an RSA key
(under 800 characters), so :func:`b58decode` refuses text over :data:`MAX_TEXT` before any work.
(2) speed: signing and verifying encode or decode a signature each time, and converting
through Python's integers in chunks of ten digits is about twice as fast as the package's
digit-by-digit loop. ``tests/verifier/test_base58btc.py`` compares both with the package on
random input.
"""
from __future__ import annotations

__all__ = ["ALPHABET", "MAX_TEXT", "b58decode", "b58encode"]

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
MAX_TEXT = 2048  # characters: an RSA-4096 Multikey is about 750

_INDEX = {char: value for value, char in enumerate(ALPHABET)}
_NOT_A_DIGIT = 255
# byte -> its digit value (255: not in the alphabet), for bytes.translate: one C call per text
_DIGITS = bytes(_INDEX.get(chr(byte), _NOT_A_DIGIT) for byte in range(256))
_PAIRS = [ALPHABET[i // 58] + ALPHABET[i % 58] for i in range(58 * 58)]  # two digits at a time
_CHUNK = 58 ** 10  # ten digits per division of the big integer


def b58encode(data: bytes) -> str:
    """``data`` in base58btc: one ``1`` per leading zero byte, then the number's digits."""
    number = int.from_bytes(data, "big")
    pairs = []
    while number:
        number, chunk = divmod(number, _CHUNK)
        for _ in range(5):
            chunk, pair = divmod(chunk, 58 * 58)
            pairs.append(_PAIRS[pair])
    digits = "".join(reversed(pairs)).lstrip("1")  # the chunks' own leading zeros
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + digits


def b58decode(text: str) -> bytes:
    """The bytes ``text`` encodes.

    Raises:
        ValueError: a character outside the alphabet, or text longer than :data:`MAX_TEXT`.
    """
    if len(text) > MAX_TEXT:
        raise ValueError(f"longer than {MAX_TEXT} characters (longer than any key or signature)")
    digits = text.encode("ascii").translate(_DIGITS) if text.isascii() else None
    if digits is None or _NOT_A_DIGIT in digits:
        bad = next(char for char in text if char not in _INDEX)
        raise ValueError(f"{bad!r} is not a base58btc character")
    number = 0
    for digit in digits:
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")
