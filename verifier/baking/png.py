"""Baked PNG badges: the credential in one uncompressed ``iTXt`` chunk (OB 3.0 §5.3).

OB 3.0 uses the keyword ``openbadgecredential``; Open Badges 2.0 uses ``openbadges`` (``iTXt``,
or legacy ``tEXt`` holding the assertion URL). PNG chunks are walked by hand (no pixel decoding):
signature, lengths (one chunk at most ``MAX_CHUNK_BYTES``), CRCs and the IHDR...IEND framing are
all checked, and a compressed credential chunk is refused without ever being decompressed. Two
credential chunks, or an Open Badges keyword hidden after IEND, are ambiguous and refused.
"""
from __future__ import annotations

import struct
import zlib

from .common import PNG_SIGNATURE, BakedImageError, BakedPayload, check_payload, classify

MAX_CHUNK_BYTES = 4 * 1024 * 1024

OB3_PNG_KEYWORD = b"openbadgecredential"
OB2_PNG_KEYWORD = b"openbadges"
_PNG_KEYWORDS = {OB3_PNG_KEYWORD: "ob3", OB2_PNG_KEYWORD: "ob2"}
_TEXT_CHUNKS = (b"tEXt", b"iTXt", b"zTXt")


def _bad_png(message: str) -> BakedImageError:
    return BakedImageError(message, code="bad_png")


def _walk_png(data: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Validate the chunk structure; return ``([(type, body), ...], bytes after IEND)``."""
    if not data.startswith(PNG_SIGNATURE):
        raise _bad_png("The file does not start with the PNG signature.")
    chunks: list[tuple[bytes, bytes]] = []
    pos = len(PNG_SIGNATURE)
    size = len(data)
    while True:
        if pos + 8 > size:
            raise _bad_png("The PNG is truncated (it ends before the IEND chunk).")
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        if length > 0x7FFFFFFF:
            raise _bad_png(f"A PNG chunk declares an invalid length ({length}).")
        if length > MAX_CHUNK_BYTES:
            raise BakedImageError(
                f"A PNG chunk declares {length} bytes; at most {MAX_CHUNK_BYTES} are accepted.",
                code="too_large",
                details={"chunk": ctype.decode("latin-1"), "length": length},
            )
        if not ctype.isalpha():
            raise _bad_png(f"A PNG chunk has an invalid type {ctype!r}.")
        end = pos + 12 + length
        if end > size:
            raise _bad_png(f"The PNG is truncated inside the {ctype.decode('ascii')} chunk.")
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:end])
        if zlib.crc32(ctype + body) != crc:
            raise _bad_png(f"The {ctype.decode('ascii')} chunk has a wrong CRC (corrupted or edited).")
        if not chunks and ctype != b"IHDR":
            raise _bad_png("The first PNG chunk is not IHDR.")
        chunks.append((ctype, body))
        pos = end
        if ctype == b"IEND":
            return chunks, data[pos:]


def _chunk_keyword(ctype: bytes, body: bytes) -> bytes | None:
    if ctype not in _TEXT_CHUNKS:
        return None
    keyword, sep, _ = body.partition(b"\0")
    return keyword if sep else None


def _png_text(ctype: bytes, body: bytes) -> str:
    """The text of a tEXt/iTXt/zTXt chunk whose keyword is an Open Badges keyword."""
    keyword, _, rest = body.partition(b"\0")
    name = keyword.decode("latin-1")
    if ctype == b"zTXt":
        raise BakedImageError(
            f"The '{name}' credential is in a compressed zTXt chunk; baked credentials "
            "must not be compressed.",
            code="compressed_credential_chunk",
        )
    if ctype == b"tEXt":
        return rest.decode("latin-1")
    if len(rest) < 2:
        raise _bad_png(f"The '{name}' iTXt chunk is truncated.")
    flag = rest[0]
    if flag == 1:
        raise BakedImageError(
            f"The '{name}' iTXt chunk is compressed; OB baking forbids compression "
            "(the chunk is refused without being decompressed).",
            code="compressed_credential_chunk",
        )
    if flag != 0:
        raise _bad_png(f"The '{name}' iTXt chunk has an invalid compression flag {flag}.")
    fields = rest[2:].split(b"\0", 2)  # language tag, translated keyword, text
    if len(fields) != 3:
        raise _bad_png(f"The '{name}' iTXt chunk is malformed.")
    try:
        return fields[2].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad_png(f"The '{name}' iTXt chunk text is not valid UTF-8.") from exc


def extract_png(data: bytes) -> BakedPayload:
    """The one credential baked into the PNG ``data`` (its chunk structure checked first)."""
    chunks, trailing = _walk_png(data)
    if any(keyword in trailing for keyword in _PNG_KEYWORDS):
        raise BakedImageError(
            "Data after the PNG's IEND chunk mentions an Open Badges keyword; "
            "a hidden second credential makes the image ambiguous.",
            code="ambiguous_baking",
        )
    found: list[tuple[str, str, str]] = []  # (version, chunk type, text)
    for ctype, body in chunks:
        keyword = _chunk_keyword(ctype, body)
        if keyword in _PNG_KEYWORDS:
            found.append((_PNG_KEYWORDS[keyword], ctype.decode("ascii"), _png_text(ctype, body)))
    if not found:
        raise BakedImageError(
            "The PNG has no 'openbadgecredential' (or OB 2.0 'openbadges') chunk.",
            code="no_credential_in_image",
        )
    if len(found) > 1:
        described = ", ".join(
            f"{c} {'openbadgecredential' if v == 'ob3' else 'openbadges'}" for v, c, _ in found
        )
        raise BakedImageError(
            f"The PNG carries {len(found)} credential chunks ({described}); "
            "exactly one is allowed.",
            code="ambiguous_baking",
            details={"chunks": [c for _, c, _ in found]},
        )
    version, chunk_type, text = found[0]
    kind, value = classify(text, version, f"PNG {chunk_type} chunk")
    return BakedPayload("png", version, kind, value)


def _png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def bake_png(png: bytes, payload: str) -> bytes:
    """Return ``png`` with ``payload`` in one uncompressed ``openbadgecredential`` iTXt chunk.

    Any credential already baked in (OB 3.0 or OB 2.0, in tEXt/iTXt/zTXt) is
    removed, so the result always carries exactly one; the new chunk goes right
    before IEND. Bytes after IEND are dropped.
    """
    check_payload(payload)
    text = payload.strip().encode("utf-8")
    if len(text) > MAX_CHUNK_BYTES - 64:
        raise BakedImageError("The payload is too large to bake into a PNG chunk.", code="too_large")
    chunks, _trailing = _walk_png(bytes(png))
    body = OB3_PNG_KEYWORD + b"\0" + b"\0\0" + b"\0" + b"\0" + text
    out = [PNG_SIGNATURE]
    for ctype, chunk_body in chunks:
        if _chunk_keyword(ctype, chunk_body) in _PNG_KEYWORDS:
            continue
        if ctype == b"IEND":
            out.append(_png_chunk(b"iTXt", body))
        out.append(_png_chunk(ctype, chunk_body))
    return b"".join(out)
