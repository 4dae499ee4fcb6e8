"""Baked badges: Open Badges credentials carried inside PNG and SVG images.

OB 3.0 §5.3 (docformat): a PNG carries the credential in one uncompressed ``iTXt``
chunk with keyword ``openbadgecredential``; an SVG carries it in one
``<openbadges:credential>`` element (namespace ``https://purl.imsglobal.org/ob/v3p0``),
as JSON in CDATA or, for a VC-JWT, in the ``verify`` attribute. Open Badges 2.0
baking uses the PNG keyword ``openbadges`` (``iTXt``, or legacy ``tEXt`` holding the
assertion URL) and the SVG element ``<openbadges:assertion>`` (namespace
``http://openbadges.org``) with a ``verify`` attribute and/or a CDATA body.

Images are untrusted input, so:

* PNG chunks are walked by hand (no pixel decoding): signature, lengths (one chunk
  at most 4 MiB), CRCs and the IHDR...IEND framing are all checked, and a
  compressed credential chunk is refused without ever being decompressed.
* SVG is parsed with defusedxml and a streaming target (no tree is built): no
  entity declarations, no external references, and no DTD at all except the
  bare W3C SVG 1.0/1.1 public DOCTYPE without an internal subset (which many
  drawing tools write and which is never loaded).
* Two credentials in one image (two chunks, an OB 2.0 and an OB 3.0 one, a chunk
  hidden after IEND, two elements) are ambiguous and refused.

Nothing extracted here is trusted: the caller verifies the returned payload like
any other credential. Every rejection is a :class:`BakedImageError` whose ``code``
is one of ``not_an_image``, ``too_large``, ``bad_png``, ``bad_svg``,
``no_credential_in_image``, ``ambiguous_baking``, ``compressed_credential_chunk``,
``unsafe_svg`` (and ``invalid_input`` for a payload that cannot be baked).
"""
from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass

from defusedxml import DefusedXmlException
from defusedxml import minidom as safe_minidom
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from .errors import CredentialError
from .jws import strict_json_loads

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_CHUNK_BYTES = 4 * 1024 * 1024

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OB3_PNG_KEYWORD = b"openbadgecredential"
OB2_PNG_KEYWORD = b"openbadges"
_PNG_KEYWORDS = {OB3_PNG_KEYWORD: "ob3", OB2_PNG_KEYWORD: "ob2"}
_TEXT_CHUNKS = (b"tEXt", b"iTXt", b"zTXt")

SVG_NS = "http://www.w3.org/2000/svg"
OB3_SVG_NS = "https://purl.imsglobal.org/ob/v3p0"
OB2_SVG_NS = "http://openbadges.org"
_OB3_TAG = f"{{{OB3_SVG_NS}}}credential"
_OB2_TAG = f"{{{OB2_SVG_NS}}}assertion"
_SVG_TAGS = {_OB3_TAG: "ob3", _OB2_TAG: "ob2"}
_XMLNS_NS = "http://www.w3.org/2000/xmlns/"

#: The only DOCTYPEs accepted: the W3C SVG public identifiers, never loaded.
_SVG_DOCTYPES = {
    (None, None),
    ("-//W3C//DTD SVG 1.0//EN", "http://www.w3.org/TR/2001/REC-SVG-20010904/DTD/svg10.dtd"),
    ("-//W3C//DTD SVG 1.1//EN", "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"),
    ("-//W3C//DTD SVG 1.1 Basic//EN", "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11-basic.dtd"),
    ("-//W3C//DTD SVG 1.1 Tiny//EN", "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11-tiny.dtd"),
}

_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_URL = re.compile(r"https?://\S+", re.IGNORECASE)


class BakedImageError(CredentialError):
    """An image that does not carry exactly one usable, safely extractable credential."""

    code = "bad_image"


@dataclass(frozen=True)
class BakedPayload:
    """What an image carries. Nothing about it is verified yet."""

    format: str  # "png" | "svg"
    version: str  # "ob3" | "ob2"
    kind: str  # "json" | "jwt" | "url"
    value: str  # the JSON text, the compact JWS or the URL


# --------------------------------------------------------------------------- #
# Sniffing and classification
# --------------------------------------------------------------------------- #
def sniff_image(data: bytes) -> str | None:
    """``"png"`` or ``"svg"`` judged by the leading bytes only (never the file name)."""
    data = bytes(data[:65536])
    if data.startswith(PNG_SIGNATURE):
        return "png"
    head = data.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    lowered = head.lower()
    if not lowered.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype")):
        return None
    if b"<svg" not in head or b"<html" in lowered:
        return None
    return "svg"


def _classify(text: str, version: str, where: str) -> tuple[str, str]:
    value = text.strip()
    if value.startswith("{"):
        return "json", value
    if _COMPACT_JWS.fullmatch(value):
        return "jwt", value
    if version == "ob2" and _URL.fullmatch(value):
        return "url", value
    allowed = "JSON, a compact JWS or an assertion URL" if version == "ob2" else "JSON or a compact JWS"
    raise BakedImageError(
        f"The {where} holds neither {allowed}.", code="no_credential_in_image"
    )


def _check_payload(payload: str) -> str:
    """A payload to bake must be a JSON object or a compact JWS."""
    if not isinstance(payload, str):
        raise BakedImageError("The payload to bake must be a string.", code="invalid_input")
    value = payload.strip()
    if _COMPACT_JWS.fullmatch(value):
        return "jwt"
    try:
        parsed = strict_json_loads(value.encode("utf-8"))
    except (UnicodeError, ValueError) as exc:
        raise BakedImageError(
            f"The payload to bake is neither a compact JWS nor valid JSON: {exc}",
            code="invalid_input",
        ) from exc
    if not isinstance(parsed, dict):
        raise BakedImageError("The JSON payload to bake is not an object.", code="invalid_input")
    return "json"


# --------------------------------------------------------------------------- #
# PNG
# --------------------------------------------------------------------------- #
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


def _extract_png(data: bytes) -> BakedPayload:
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
    version, ctype, text = found[0]
    kind, value = _classify(text, version, f"PNG {ctype} chunk")
    return BakedPayload("png", version, kind, value)


def _png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def bake_png(png: bytes, payload: str) -> bytes:
    """Return ``png`` with ``payload`` in one uncompressed ``openbadgecredential`` iTXt chunk.

    Any credential already baked in (OB 3.0 or OB 2.0, in tEXt/iTXt/zTXt) is
    removed, so the result always carries exactly one; the new chunk goes right
    before IEND. Bytes after IEND are dropped.
    """
    _check_payload(payload)
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


# --------------------------------------------------------------------------- #
# SVG
# --------------------------------------------------------------------------- #
class _SafeSvgParser(DefusedXMLParser):
    """defusedxml with entities and external references forbidden and DTDs limited
    to the bare W3C SVG DOCTYPE (no internal subset, never loaded)."""

    def __init__(self, target):
        super().__init__(target=target, forbid_dtd=True, forbid_entities=True, forbid_external=True)

    def defused_start_doctype_decl(self, name, sysid, pubid, has_internal_subset):
        if name == "svg" and not has_internal_subset and (pubid, sysid) in _SVG_DOCTYPES:
            return
        raise BakedImageError(
            "The SVG declares a DOCTYPE other than the standard SVG one "
            f"(name={name!r}, system={sysid!r}, internal subset={bool(has_internal_subset)}); "
            "DTDs, entities and external references are refused.",
            code="unsafe_svg",
        )


class _SvgScanner:
    """A streaming ElementTree target that only records the root and the OB elements."""

    def __init__(self) -> None:
        self.depth = 0
        self.root: str | None = None
        self.found: list[dict] = []
        self._open: dict | None = None

    def start(self, tag, attrib):
        if self.depth == 0:
            self.root = tag
        if self._open is not None:
            self._open["children"] = True
        if tag in _SVG_TAGS:
            element = {"version": _SVG_TAGS[tag], "attrib": dict(attrib), "text": [],
                       "children": False, "depth": self.depth}
            self.found.append(element)
            if self._open is None:
                self._open = element
        self.depth += 1

    def end(self, tag):
        self.depth -= 1
        if self._open is not None and self._open["depth"] == self.depth:
            self._open = None

    def data(self, text):
        if self._open is not None:
            self._open["text"].append(text)

    def close(self):
        return self


def _scan_svg(data: bytes) -> _SvgScanner:
    scanner = _SvgScanner()
    parser = _SafeSvgParser(scanner)
    try:
        parser.feed(data)
        parser.close()
    except BakedImageError:
        raise
    except DefusedXmlException as exc:
        raise BakedImageError(
            f"The SVG uses DTDs, entities or external references ({type(exc).__name__}); refused.",
            code="unsafe_svg",
        ) from exc
    except (ParseError, ValueError, UnicodeError, LookupError) as exc:
        raise BakedImageError(f"The SVG is not well-formed XML: {exc}", code="bad_svg") from exc
    if scanner.root not in (f"{{{SVG_NS}}}svg", "svg"):
        raise BakedImageError(
            f"The XML root element is {scanner.root!r}, not an SVG <svg> element.", code="bad_svg"
        )
    return scanner


def _extract_svg(data: bytes) -> BakedPayload:
    found = _scan_svg(data).found
    if not found:
        raise BakedImageError(
            "The SVG has no <openbadges:credential> (or OB 2.0 <openbadges:assertion>) element.",
            code="no_credential_in_image",
        )
    if len(found) > 1:
        raise BakedImageError(
            f"The SVG carries {len(found)} Open Badges elements; exactly one is allowed.",
            code="ambiguous_baking",
        )
    element = found[0]
    version = element["version"]
    name = "<openbadges:credential>" if version == "ob3" else "<openbadges:assertion>"
    if element["children"]:
        raise BakedImageError(f"The SVG {name} element has child elements.", code="bad_svg")
    body = "".join(element["text"]).strip()
    verify = (element["attrib"].get("verify") or "").strip()
    if version == "ob3" and body and verify:
        raise BakedImageError(
            f"The SVG {name} element has both a 'verify' attribute and a body; "
            "which one is the credential is ambiguous.",
            code="ambiguous_baking",
        )
    # OB 2.0: a body (the assertion JSON) wins over 'verify' (its URL).
    text = body or verify
    if not text:
        raise BakedImageError(f"The SVG {name} element is empty.", code="no_credential_in_image")
    kind, value = _classify(text, version, f"SVG {name} element")
    return BakedPayload("svg", version, kind, value)


def bake_svg(svg: bytes, payload: str) -> bytes:
    """Return ``svg`` (UTF-8 XML) with one ``<openbadges:credential>`` as the root's first child.

    A compact JWS goes into the ``verify`` attribute; JSON goes into the body as
    CDATA. Any credential already baked in (OB 3.0 or OB 2.0) is removed first.
    """
    kind = _check_payload(payload)
    value = payload.strip()
    data = bytes(svg)
    if len(data) > MAX_IMAGE_BYTES:
        raise BakedImageError("The SVG is larger than 10 MiB.", code="too_large")
    _scan_svg(data)  # the full safety policy, before any DOM is built
    try:
        doc = safe_minidom.parseString(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ParseError, ValueError) as exc:  # pragma: no cover - _scan_svg guards
        raise BakedImageError(f"The SVG cannot be parsed: {exc}", code="bad_svg") from exc
    root = doc.documentElement
    for ns, local in ((OB3_SVG_NS, "credential"), (OB2_SVG_NS, "assertion")):
        for old in list(root.getElementsByTagNameNS(ns, local)):
            after = old.nextSibling
            if after is not None and after.nodeType == after.TEXT_NODE and not after.data.strip():
                after.parentNode.removeChild(after)
            old.parentNode.removeChild(old)

    element = doc.createElementNS(OB3_SVG_NS, "openbadges:credential")
    declared = root.getAttributeNS(_XMLNS_NS, "openbadges") if root.hasAttributeNS(_XMLNS_NS, "openbadges") else None
    if declared is None:
        root.setAttributeNS(_XMLNS_NS, "xmlns:openbadges", OB3_SVG_NS)
    elif declared != OB3_SVG_NS:
        # the prefix is bound to something else (e.g. OB 2.0): redeclare it locally
        element.setAttributeNS(_XMLNS_NS, "xmlns:openbadges", OB3_SVG_NS)
    if kind == "jwt":
        element.setAttribute("verify", value)
    else:
        parts = value.split("]]>")  # "]]>" cannot appear inside one CDATA section
        for i, part in enumerate(parts):
            text = (part + "]]" if i < len(parts) - 1 else part)
            text = text if i == 0 else ">" + text
            element.appendChild(doc.createCDATASection(text))
    root.insertBefore(doc.createTextNode("\n"), root.firstChild)
    root.insertBefore(element, root.firstChild)
    return doc.toxml(encoding="utf-8")


# --------------------------------------------------------------------------- #
# Entry point
# --------------------------------------------------------------------------- #
def extract_baked(data: bytes, *, max_bytes: int = MAX_IMAGE_BYTES) -> BakedPayload:
    """Find the one credential baked into a PNG or SVG image."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise BakedImageError("The image must be bytes.", code="not_an_image")
    if len(data) > max_bytes:
        raise BakedImageError(
            f"The image is {len(data)} bytes; at most {max_bytes} are accepted.", code="too_large"
        )
    data = bytes(data)
    kind = sniff_image(data)
    if kind == "png":
        return _extract_png(data)
    if kind == "svg":
        return _extract_svg(data)
    raise BakedImageError(
        "The file is neither a PNG nor an SVG image (judged by its content).", code="not_an_image"
    )


__all__ = [
    "BakedImageError",
    "BakedPayload",
    "bake_png",
    "bake_svg",
    "extract_baked",
    "sniff_image",
]
