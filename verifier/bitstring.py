"""Bitstring Status List bitstrings: encode, decode within a memory bound, read one entry.

W3C Bitstring Status List v1.0 §3.2 (the ``encodedList`` is the multibase ``u`` base64url of the
GZIP of the bitstring; entry 0 is the most significant bit of byte 0). Written here because
decoding must stop a gzip bomb at a fixed number of output bytes, which ``gzip.decompress`` does
not: inflation runs in 1 MiB steps and fails past :data:`MAX_LIST_BYTES`. The issuer encodes
with :func:`encode_bitstring`; :mod:`verifier.status` decodes with :func:`decode_bitstring`.
"""
from __future__ import annotations

import base64
import binascii
import gzip
import re
import zlib

from .errors import CredentialError

__all__ = ["MAX_LIST_BYTES", "StatusListError", "bit_at", "decode_bitstring", "encode_bitstring"]

MAX_LIST_BYTES = 16 * 1024 * 1024      # bounded inflate


class StatusListError(CredentialError):
    """An ``encodedList`` that cannot be expanded safely; ``details["problem"]`` says why."""

    code = "malformed_status_list"


_BASE64URL = re.compile(r"[A-Za-z0-9_-]*\Z")
_INFLATE_STEP = 1 << 20  # inflate in 1 MiB steps so peak memory stays near max_bytes


def encode_bitstring(bits: bytes) -> str:
    """GZIP + base64url (no padding) with the multibase ``u`` prefix.

    Deterministic (gzip mtime 0). Does not pad: a list published to verifiers must
    hold at least 16 KB (131,072 entries); that is the caller's job.
    """
    compressed = gzip.compress(bytes(bits), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode("ascii").rstrip("=")


def decode_bitstring(encoded_list: object, *, multibase: bool = True, max_bytes: int = MAX_LIST_BYTES) -> bytes:
    """Expand an ``encodedList``: (multibase ``u``) base64url, then GZIP, at most ``max_bytes``.

    ``multibase=True`` requires the ``u`` prefix and no padding (Bitstring Status
    List); ``multibase=False`` takes plain base64url, padding tolerated
    (StatusList2021 as commonly published). Inflation stops as soon as the output
    would exceed ``max_bytes``, so a gzip bomb costs at most ``max_bytes`` of
    memory. Raises :class:`StatusListError`.
    """
    def bad(problem: str, message: str) -> StatusListError:
        return StatusListError(f"encodedList {message}", details={"problem": problem})

    if not isinstance(encoded_list, str):
        raise bad("not_a_string", "is not a string")
    if multibase:
        if not encoded_list.startswith("u"):
            raise bad("not_multibase", "lacks the multibase base64url prefix 'u'")
        body = encoded_list[1:]
    else:
        body = encoded_list
        if body.endswith("=="):
            body = body[:-2]
        elif body.endswith("="):
            body = body[:-1]
    # Incompressible data grows by < 1% under deflate, and 4/3 under base64.
    if len(body) > (max_bytes + max_bytes // 100 + 1024) * 4 // 3 + 4:
        raise bad("too_large", "is larger than any list this verifier accepts")
    if not body or not _BASE64URL.match(body) or len(body) % 4 == 1:
        raise bad("not_base64url", "is not base64url (without padding)")
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise bad("not_base64url", "is not base64url") from None
    if compressed[:3] != b"\x1f\x8b\x08":
        raise bad("not_gzip", "is not GZIP-compressed")

    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # GZIP only, header and CRC checked
    out = bytearray()
    data = compressed
    try:
        while True:
            out += inflater.decompress(data, min(_INFLATE_STEP, max_bytes + 1 - len(out)))
            if len(out) > max_bytes:
                raise bad("too_large", f"expands to more than {max_bytes} bytes")
            data = inflater.unconsumed_tail
            if inflater.eof or not data:
                break
    except zlib.error:
        raise bad("not_gzip", "is not valid GZIP data") from None
    if not inflater.eof:
        raise bad("not_gzip", "is truncated GZIP data")
    if inflater.unused_data:
        raise bad("not_gzip", "has data after the GZIP stream")
    if not out:
        raise bad("empty", "is empty")
    return bytes(out)


def bit_at(bitstring: bytes, index: int, size: int = 1) -> int:
    """The ``size``-bit value of entry ``index``; index 0 is the most significant bit of byte 0.

    Raises :class:`IndexError` past the end (RANGE_ERROR), :class:`ValueError` for a
    negative index or a size below 1.
    """
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError("a status index is an integer >= 0")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError("a status size is an integer >= 1")
    start = index * size
    end = start + size
    if end > len(bitstring) * 8:
        raise IndexError(f"status index {index} is outside a list of {len(bitstring) * 8 // size} entries")
    first, last = start // 8, (end - 1) // 8
    span = int.from_bytes(bitstring[first:last + 1], "big")
    shift = (last + 1) * 8 - end
    return (span >> shift) & ((1 << size) - 1)
