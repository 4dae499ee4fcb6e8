"""Baked SVG badges: the credential in one ``<openbadges:credential>`` element (OB 3.0 §5.3).

OB 3.0 uses the element ``credential`` in namespace ``https://purl.imsglobal.org/ob/v3p0``, as
JSON in CDATA or, for a VC-JWT, in the ``verify`` attribute; Open Badges 2.0 uses
``<openbadges:assertion>`` (namespace ``http://openbadges.org``) with a ``verify`` attribute
and/or a CDATA body. The SVG is parsed with defusedxml and a streaming target (no tree is built)
before anything else: no entity declarations, no external references, and no DTD at all except
the bare W3C SVG 1.0/1.1 public DOCTYPE without an internal subset (which many drawing tools
write and which is never loaded). Two Open Badges elements are ambiguous and refused.

defusedxml (and the xml.dom / xml.etree modules under it, ~8 ms of a cold start) is imported
when an SVG is first read or baked (:func:`_safe_parser`), not with the module: every
verification imports this module, few read an SVG.
"""
from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from .common import MAX_IMAGE_BYTES, BakedImageError, BakedPayload, check_payload, classify

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


if TYPE_CHECKING:
    from defusedxml.ElementTree import DefusedXMLParser


@cache
def _safe_parser() -> type[DefusedXMLParser]:
    """The parser class, made on first use (defusedxml is imported here: module docstring)."""
    from defusedxml.ElementTree import DefusedXMLParser

    class SafeSvgParser(DefusedXMLParser):
        """defusedxml with entities and external references forbidden and DTDs limited
        to the bare W3C SVG DOCTYPE (no internal subset, never loaded)."""

        def __init__(self, target: _SvgScanner) -> None:
            super().__init__(target=target, forbid_dtd=True, forbid_entities=True, forbid_external=True)

        def defused_start_doctype_decl(self, name: str, sysid: str | None, pubid: str | None,
                                       has_internal_subset: bool) -> None:
            if name == "svg" and not has_internal_subset and (pubid, sysid) in _SVG_DOCTYPES:
                return
            raise BakedImageError(
                "The SVG declares a DOCTYPE other than the standard SVG one "
                f"(name={name!r}, system={sysid!r}, internal subset={bool(has_internal_subset)}); "
                "DTDs, entities and external references are refused.",
                code="unsafe_svg",
            )

    return SafeSvgParser


class _SvgScanner:
    """A streaming ElementTree target that only records the root and the OB elements."""

    def __init__(self) -> None:
        self.depth = 0
        self.root: str | None = None
        self.found: list[dict[str, Any]] = []
        self._open: dict[str, Any] | None = None

    def start(self, tag: str, attrib: dict[str, str]) -> None:
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

    def end(self, tag: str) -> None:
        self.depth -= 1
        if self._open is not None and self._open["depth"] == self.depth:
            self._open = None

    def data(self, text: str) -> None:
        if self._open is not None:
            self._open["text"].append(text)

    def close(self) -> _SvgScanner:
        return self


def _scan_svg(data: bytes) -> _SvgScanner:
    from defusedxml import DefusedXmlException  # lazy: module docstring
    from defusedxml.ElementTree import ParseError

    scanner = _SvgScanner()
    parser = _safe_parser()(scanner)
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


def extract_svg(data: bytes) -> BakedPayload:
    """The one credential baked into the SVG ``data`` (its safety policy checked first)."""
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
    kind, value = classify(text, version, f"SVG {name} element")
    return BakedPayload("svg", version, kind, value)


def bake_svg(svg: bytes, payload: str) -> bytes:
    """Return ``svg`` (UTF-8 XML) with one ``<openbadges:credential>`` as the root's first child.

    A compact JWS goes into the ``verify`` attribute; JSON goes into the body as
    CDATA. Any credential already baked in (OB 3.0 or OB 2.0) is removed first.
    """
    from xml.dom.minidom import Element  # lazy, as defusedxml (module docstring)

    from defusedxml import DefusedXmlException
    from defusedxml import minidom as safe_minidom
    from defusedxml.ElementTree import ParseError

    kind = check_payload(payload)
    value = payload.strip()
    data = bytes(svg)
    if len(data) > MAX_IMAGE_BYTES:
        raise BakedImageError("The SVG is larger than 10 MiB.", code="too_large")
    _scan_svg(data)  # the full safety policy, before any DOM is built
    try:
        # minidom parses bytes (honouring the XML declaration's encoding); the stubs say str only
        doc = safe_minidom.parseString(data, forbid_dtd=False, forbid_entities=True,  # type: ignore[arg-type]
                                       forbid_external=True)
    except (DefusedXmlException, ParseError, ValueError) as exc:  # pragma: no cover - _scan_svg guards
        raise BakedImageError(f"The SVG cannot be parsed: {exc}", code="bad_svg") from exc
    root = doc.documentElement
    if root is None:  # pragma: no cover - _scan_svg found the root element
        raise BakedImageError("The SVG has no root element.", code="bad_svg")
    for ns, local in ((OB3_SVG_NS, "credential"), (OB2_SVG_NS, "assertion")):
        for old in list(root.getElementsByTagNameNS(ns, local)):
            after = old.nextSibling
            parent = old.parentNode
            if not isinstance(parent, Element):  # pragma: no cover - found under the root: its parent is one
                continue
            if after is not None and after.nodeType == after.TEXT_NODE and not after.data.strip():
                parent.removeChild(after)
            parent.removeChild(old)

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
