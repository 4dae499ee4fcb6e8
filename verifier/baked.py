"""Baked badges: Open Badges credentials carried inside PNG and SVG images.

OB 3.0 §5.3 (docformat): a PNG carries the credential in one uncompressed ``iTXt``
chunk with keyword ``openbadgecredential``; an SVG carries it in one
``<openbadges:credential>`` element (namespace ``https://purl.imsglobal.org/ob/v3p0``),
as JSON in CDATA or, for a VC-JWT, in the ``verify`` attribute. Open Badges 2.0
baking uses the PNG keyword ``openbadges`` (``iTXt``, or legacy ``tEXt`` holding the
assertion URL) and the SVG element ``<openbadges:assertion>`` (namespace
``http://openbadges.org``) with a ``verify`` attribute and/or a CDATA body.

This module is the entry point: :func:`extract_baked` finds the one credential in an
image of either kind, :func:`bake_png` / :func:`bake_svg` bake one in. The formats live in
:mod:`verifier.baking` (:mod:`~verifier.baking.png`, :mod:`~verifier.baking.svg`, and
:mod:`~verifier.baking.common` for what they share). Images are untrusted input, so:

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

from .baking.common import MAX_IMAGE_BYTES, PNG_SIGNATURE, BakedImageError, BakedPayload, sniff_image
from .baking.png import MAX_CHUNK_BYTES, OB2_PNG_KEYWORD, OB3_PNG_KEYWORD, bake_png, extract_png
from .baking.svg import OB2_SVG_NS, OB3_SVG_NS, SVG_NS, bake_svg, extract_svg

__all__ = [
    "MAX_CHUNK_BYTES",
    "MAX_IMAGE_BYTES",
    "OB2_PNG_KEYWORD",
    "OB2_SVG_NS",
    "OB3_PNG_KEYWORD",
    "OB3_SVG_NS",
    "PNG_SIGNATURE",
    "SVG_NS",
    "BakedImageError",
    "BakedPayload",
    "bake_png",
    "bake_svg",
    "extract_baked",
    "sniff_image",
]


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
        return extract_png(data)
    if kind == "svg":
        return extract_svg(data)
    raise BakedImageError(
        "The file is neither a PNG nor an SVG image (judged by its content).", code="not_an_image"
    )
