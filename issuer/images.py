"""Badge artwork uploaded by HR: PNG or SVG, checked, and embedded as a data: URI.

PNG is recognised by its signature. SVG is parsed with defusedxml (no DTDs, no
entities) and refused if it carries active or external content: ``<script>``,
``<foreignObject>``, event-handler attributes (``on*``), or links other than
in-document fragments and embedded raster images.
"""
from __future__ import annotations

import base64
from pathlib import Path

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from verifier.errors import CredentialError

MAX_IMAGE_BYTES = 512 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_FORBIDDEN_ELEMENTS = {"script", "foreignobject", "iframe", "embed", "object", "audio", "video"}


class ImageError(CredentialError):
    code = "invalid_image"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def check_svg(data: bytes) -> None:
    try:
        root = ElementTree.fromstring(data, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        raise ImageError(f"the SVG is not well-formed or uses DTDs/entities: {exc}") from exc
    if _local(root.tag) != "svg":
        raise ImageError("the file is XML but not an SVG image")
    for element in root.iter():
        if _local(element.tag) in _FORBIDDEN_ELEMENTS:
            raise ImageError(f"the SVG contains <{_local(element.tag)}>, which is not allowed in badge art")
        for name, value in element.attrib.items():
            attr = _local(name)
            if attr.startswith("on"):
                raise ImageError(f"the SVG has an event handler ({attr}), which is not allowed")
            if attr == "href" and not (value.startswith("#") or value.startswith("data:image/png")
                                       or value.startswith("data:image/jpeg")):
                raise ImageError("the SVG links to external content, which is not allowed in badge art")


def image_data_uri(path: str | Path) -> str:
    data = Path(path).read_bytes()
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageError(f"{path} is larger than {MAX_IMAGE_BYTES // 1024} KiB")
    if data.startswith(PNG_SIGNATURE):
        media_type = "image/png"
    elif data.lstrip()[:5] in (b"<?xml", b"<svg ", b"<svg>") or b"<svg" in data[:512]:
        check_svg(data)
        media_type = "image/svg+xml"
    else:
        raise ImageError(f"{path} is neither a PNG nor an SVG image")
    return f"data:{media_type};base64," + base64.b64encode(data).decode("ascii")
