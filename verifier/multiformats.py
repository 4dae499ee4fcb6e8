"""Multibase (base58btc only) and multicodec key prefixes, as used by Multikey
``publicKeyMultibase`` / ``secretKeyMultibase`` values and did:key identifiers.

Everything here is strict: only the ``z`` (base58btc) multibase prefix, minimal
unsigned varints, a fixed table of key codecs, and exact payload lengths where
the codec defines one. Any violation raises :class:`KeyFormatError`.
"""
from __future__ import annotations

from .base58btc import b58decode, b58encode
from .errors import KeyFormatError

ED25519_PUB = "ed25519-pub"
P256_PUB = "p256-pub"
RSA_PUB = "rsa-pub"
ED25519_PRIV = "ed25519-priv"
P256_PRIV = "p256-priv"

#: codec name -> multicodec code
CODECS: dict[str, int] = {
    ED25519_PUB: 0xED,
    P256_PUB: 0x1200,
    RSA_PUB: 0x1205,
    ED25519_PRIV: 0x1300,
    P256_PRIV: 0x1306,
}
_NAMES = {code: name for name, code in CODECS.items()}

#: exact payload length per codec; RSA (DER) is variable and checked by the key parser
PAYLOAD_LENGTHS: dict[str, int] = {
    ED25519_PUB: 32,
    P256_PUB: 33,
    ED25519_PRIV: 32,
    P256_PRIV: 32,
}

_MAX_VARINT_BYTES = 9  # the unsigned-varint spec caps values at 63 bits


def multibase_encode(data: bytes) -> str:
    """Encode bytes as a base58btc multibase string (``z`` prefix)."""
    return "z" + b58encode(data)


def multibase_decode(value: str) -> bytes:
    """Decode a base58btc multibase string; any other base or bad character is rejected."""
    if not isinstance(value, str) or not value:
        raise KeyFormatError("multibase value must be a non-empty string")
    if value[0] != "z":
        raise KeyFormatError(
            f"unsupported multibase prefix {value[0]!r}: only 'z' (base58btc) is accepted"
        )
    if len(value) == 1:
        raise KeyFormatError("multibase value has no data after the 'z' prefix")
    try:
        return b58decode(value[1:])
    except ValueError as exc:
        raise KeyFormatError(f"multibase value is not valid base58btc: {exc}") from exc


def varint_encode(number: int) -> bytes:
    """Encode a non-negative integer as an unsigned LEB128 varint."""
    if number < 0 or number >= 1 << 63:
        raise ValueError("varint must be in [0, 2**63)")
    out = bytearray()
    while True:
        byte = number & 0x7F
        number >>= 7
        if number:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def varint_decode(data: bytes) -> tuple[int, int]:
    """Decode a minimal unsigned varint at the start of ``data``.

    Returns ``(value, bytes_consumed)``.
    """
    value = 0
    for index, byte in enumerate(data[:_MAX_VARINT_BYTES]):
        value |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            if byte == 0 and index > 0:
                raise KeyFormatError("multicodec prefix is not a minimal varint")
            return value, index + 1
    raise KeyFormatError("multicodec prefix is truncated or longer than 9 bytes")


def multicodec_wrap(codec: str, payload: bytes) -> bytes:
    """Prefix ``payload`` with the varint code of ``codec``."""
    if codec not in CODECS:
        raise KeyFormatError(f"unknown multicodec {codec!r}")
    return varint_encode(CODECS[codec]) + payload


def multicodec_unwrap(data: bytes) -> tuple[str, bytes]:
    """Split ``data`` into ``(codec name, payload)``; unknown codes and bad lengths are rejected."""
    code, used = varint_decode(data)
    codec = _NAMES.get(code)
    if codec is None:
        raise KeyFormatError(f"unknown or unsupported multicodec 0x{code:x}")
    payload = data[used:]
    expected = PAYLOAD_LENGTHS.get(codec)
    if expected is not None and len(payload) != expected:
        raise KeyFormatError(
            f"{codec} key must be {expected} bytes, got {len(payload)}"
        )
    if not payload:
        raise KeyFormatError(f"{codec} key is empty")
    return codec, payload


def encode_multikey(codec: str, payload: bytes) -> str:
    """Encode key bytes as a Multikey multibase string (codec prefix + base58btc)."""
    return multibase_encode(multicodec_wrap(codec, payload))


def decode_multikey(value: str) -> tuple[str, bytes]:
    """Decode a Multikey multibase string into ``(codec name, key bytes)``."""
    return multicodec_unwrap(multibase_decode(value))
