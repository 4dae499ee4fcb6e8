"""Badge artwork uploaded by HR: PNG or SVG, checked, and embedded as a data: URI.

PNG is recognised by its signature. SVG goes through an **allow-list** (research notes,
case 53): it is parsed with defusedxml (no DTDs, no entities, so no XXE or billion laughs),
and only listed SVG elements and attributes are kept; everything else is active or unknown
content and is refused:

* no ``<script>``, ``<foreignObject>``, ``<a>``, ``<iframe>``/``<object>``/``<embed>``, and no
  animation elements at all (``<animate>``, ``<set>``, ... can set ``href`` to ``javascript:``);
* no event attributes (``on*``), no attribute outside the list, no element or attribute from
  another namespace (XHTML inside SVG would run), no processing instructions
  (``<?xml-stylesheet?>``);
* links (``href``, ``xlink:href``) only to a fragment in the same document (``#id``), and on
  ``<image>`` only to an embedded PNG, JPEG, GIF or WebP whose bytes are that kind of image
  (never an SVG, never a URL);
* CSS (``style`` attributes and ``<style>``) without at-rules (``@import``), escapes or
  markup, and only allow-listed functions: colours, transforms, filters and ``url(#id)``.

Why by hand: the Python sanitisers that exist are for HTML (``nh3``, ``bleach``) or SVG
prototypes; converting to PNG (cairosvg) needs the system cairo library and loses the vector
art. The lists below are short enough to read in one sitting.

:func:`check_svg` refuses art that is not clean (what the achievement rules and the badge pages
call on stored and uploaded art); :func:`sanitise_svg` returns the allowed parts only (comments
dropped) and lists what it removed.
"""
from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from xml.etree import ElementTree as StdElementTree

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from issuer.errors import InvalidInput

MAX_IMAGE_BYTES = 512 * 1024
MAX_SVG_ELEMENTS = 20_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
StdElementTree.register_namespace("xlink", XLINK_NS)

ALLOWED_ELEMENTS = frozenset([
    "svg", "g", "defs", "title", "desc", "symbol", "use", "switch", "path", "rect", "circle", "ellipse", "line",
    "polyline", "polygon", "text", "tspan", "textPath", "linearGradient", "radialGradient", "stop", "pattern",
    "clipPath", "mask", "marker", "image", "style", "filter", "feBlend", "feColorMatrix", "feComponentTransfer",
    "feComposite", "feDropShadow", "feFlood", "feFuncA", "feFuncB", "feFuncG", "feFuncR", "feGaussianBlur", "feMerge",
    "feMergeNode", "feMorphology", "feOffset"
])
ALLOWED_ATTRIBUTES = frozenset([
    "id", "class", "style", "lang", "role", "aria-label", "aria-labelledby", "aria-describedby", "aria-hidden",
    "focusable", "data-name", "version", "viewBox", "preserveAspectRatio", "width", "height", "x", "y", "x1", "y1",
    "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx", "fy", "fr", "d", "points", "pathLength", "transform", "dx", "dy",
    "rotate", "textLength", "lengthAdjust", "startOffset", "method", "spacing", "side", "fill", "fill-opacity",
    "fill-rule", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin", "stroke-miterlimit", "stroke-dasharray",
    "stroke-dashoffset", "stroke-opacity", "opacity", "color", "display", "visibility", "overflow", "clip-path",
    "clip-rule", "mask", "filter", "marker-start", "marker-mid", "marker-end", "markerWidth", "markerHeight",
    "markerUnits", "refX", "refY", "orient", "paint-order", "vector-effect", "shape-rendering", "text-rendering",
    "image-rendering", "color-interpolation", "color-interpolation-filters", "mix-blend-mode", "isolation",
    "font-family", "font-size", "font-size-adjust", "font-weight", "font-style", "font-variant", "font-stretch",
    "text-anchor", "dominant-baseline", "alignment-baseline", "baseline-shift", "letter-spacing", "word-spacing",
    "text-decoration", "writing-mode", "direction", "unicode-bidi", "offset", "stop-color", "stop-opacity",
    "gradientUnits", "gradientTransform", "spreadMethod", "patternUnits", "patternContentUnits", "patternTransform",
    "clipPathUnits", "maskUnits", "maskContentUnits", "filterUnits", "primitiveUnits", "in", "in2", "result",
    "stdDeviation", "mode", "operator", "k1", "k2", "k3", "k4", "values", "type", "tableValues", "slope", "intercept",
    "amplitude", "exponent", "flood-color", "flood-opacity", "radius", "href"
])
#: CSS functions allowed in style (url() only as url(#id), checked separately)
CSS_FUNCTIONS = frozenset([
    "url", "rgb", "rgba", "hsl", "hsla", "hwb", "lab", "lch", "color-mix", "calc", "min", "max", "clamp", "var",
    "matrix", "translate", "translatex", "translatey", "scale", "scalex", "scaley", "rotate", "skew", "skewx", "skewy",
    "blur", "brightness", "contrast", "drop-shadow", "grayscale", "hue-rotate", "invert", "opacity", "saturate",
    "sepia", "not", "is", "where", "nth-child", "nth-of-type", "nth-last-child", "nth-last-of-type", "cubic-bezier"
])
_CSS_FUNCTION = re.compile(r"([a-zA-Z_-][a-zA-Z0-9_-]*)\s*\(")
_CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.S)
_FRAGMENT = re.compile(r"#[A-Za-z_][A-Za-z0-9_.:-]{0,200}")
_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp);base64,([A-Za-z0-9+/\s]+={0,2})")
_MAGIC = {"png": (PNG_SIGNATURE,), "jpeg": (b"\xff\xd8\xff",), "gif": (b"GIF87a", b"GIF89a")}
_TEXT_ELEMENTS = frozenset({"title", "desc", "text", "tspan", "textPath", "style"})


class ImageError(InvalidInput):
    """Badge art that is refused (422, exit 2)."""

    default_code = "invalid_image"


def _split(name: str) -> tuple[str, str]:
    """(namespace, local name) of an ElementTree tag or attribute name."""
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        return namespace, local
    return "", name


def _css_problem(css: str) -> str | None:
    """Why this CSS is not allowed, or None."""
    if any(c in css for c in "@\\<>&") or "/*" in css or "javascript:" in css.lower():
        return "CSS with at-rules (@import), escapes, comments or markup"
    for match in _CSS_URL.finditer(css):
        if not _FRAGMENT.fullmatch(match.group(2).strip()):
            return "a CSS url() that is not a link inside the image"
    for match in _CSS_FUNCTION.finditer(css):
        if match.group(1).lower() not in CSS_FUNCTIONS:
            return f"the CSS function {match.group(1)}()"
    return None


def _embedded_raster(value: str) -> bool:
    match = _DATA_IMAGE.fullmatch(value.strip())
    if match is None:
        return False
    try:
        data = base64.b64decode(re.sub(r"\s+", "", match.group(2)), validate=True)
    except (binascii.Error, ValueError):
        return False
    kind = match.group(1)
    if kind == "webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    return data.startswith(_MAGIC[kind])


def _attribute_problem(element: str, name: str, value: str) -> str | None:
    """Why this attribute is not allowed on this element, or None."""
    namespace, local = _split(name)
    if namespace == XLINK_NS and local == "href":
        namespace = ""
    elif namespace == XML_NS and local in ("space", "lang"):
        return None
    if namespace or local not in ALLOWED_ATTRIBUTES:
        return f"the attribute {local!r}" + (" (an event handler)" if local.lower().startswith("on") else "")
    if local == "href":
        if element == "image":
            return None if _embedded_raster(value) else "an <image> that is not an embedded PNG, JPEG, GIF or WebP"
        return None if _FRAGMENT.fullmatch(value.strip()) else "a link to outside the image"
    if local == "style" or "(" in value or "javascript:" in value.lower():
        return _css_problem(value)
    return None


class _Builder(StdElementTree.TreeBuilder):
    """A tree builder that also notes processing instructions outside the root element."""

    def __init__(self) -> None:
        super().__init__(insert_comments=True, insert_pis=True)
        self.instructions = 0

    def pi(self, target, text=None):
        self.instructions += 1
        return super().pi(target, text)


def _parse(data: bytes) -> StdElementTree.Element:
    builder = _Builder()
    parser = ElementTree.DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True,
                                          forbid_external=True)
    try:
        parser.feed(data)
        root = parser.close()
    except (StdElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        raise ImageError(f"the SVG is not well-formed or uses DTDs/entities: {exc}") from exc
    if root.tag != f"{{{SVG_NS}}}svg":
        raise ImageError("the file is XML but not an SVG image")
    inside = sum(1 for node in root.iter() if node.tag is StdElementTree.ProcessingInstruction)
    if builder.instructions > inside:      # before or after the root: no tree keeps them, so refuse
        raise ImageError("the SVG contains a processing instruction (such as <?xml-stylesheet?>), "
                         "which is not allowed in badge art")
    return root


def _clean(parent: StdElementTree.Element, removed: list[tuple[str, bool]], count: list[int]) -> None:
    """Remove from ``parent``'s subtree everything not allowed; note each removal (what, harmless)."""
    for child in list(parent):
        count[0] += 1
        if count[0] > MAX_SVG_ELEMENTS:
            raise ImageError(f"the SVG has more than {MAX_SVG_ELEMENTS} elements")
        if child.tag is StdElementTree.Comment:
            removed.append(("a comment", True))
        elif child.tag is StdElementTree.ProcessingInstruction:
            removed.append(("a processing instruction (such as <?xml-stylesheet?>)", False))
        else:
            namespace, local = _split(child.tag)
            if namespace != SVG_NS or local not in ALLOWED_ELEMENTS:
                removed.append((f"<{local}>", False))
            elif local == "style" and (len(child) or _css_problem(child.text or "")):
                removed.append((f"a <style> with {_css_problem(child.text or '') or 'markup inside'}", False))
            else:
                _clean_attributes(child, removed)
                _clean(child, removed, count)
                if local not in _TEXT_ELEMENTS and (child.text or "").strip():
                    removed.append((f"text directly inside <{local}>", True))
                    child.text = None
                continue
        # the removed node goes; text that followed it stays where it was (inside <text>)
        index = list(parent).index(child)
        if child.tail and _split(parent.tag)[1] in _TEXT_ELEMENTS:
            if index:
                previous = parent[index - 1]
                previous.tail = (previous.tail or "") + child.tail
            else:
                parent.text = (parent.text or "") + child.tail
        parent.remove(child)


def _clean_attributes(element: StdElementTree.Element, removed: list[tuple[str, bool]]) -> None:
    local = _split(element.tag)[1]
    for name, value in list(element.attrib.items()):
        problem = _attribute_problem(local, name, value)
        if problem is not None:
            removed.append((f"{problem} on <{local}>", False))
            del element.attrib[name]


def _sanitised(data: bytes) -> tuple[StdElementTree.Element, list[tuple[str, bool]]]:
    root = _parse(data)
    removed: list[tuple[str, bool]] = []
    _clean_attributes(root, removed)
    _clean(root, removed, [1])
    return root, removed


def sanitise_svg(data: bytes) -> tuple[bytes, list[str]]:
    """The SVG with only its allowed parts (UTF-8, comments dropped), and what was removed.

    Raises :class:`ImageError` for something that is not an SVG at all (not well-formed, a DTD
    or entity, another root element, too many elements).
    """
    root, removed = _sanitised(data)
    for element in root.iter():          # only SVG elements are left: write them unprefixed
        element.tag = _split(element.tag)[1]
    root.set("xmlns", SVG_NS)
    text = StdElementTree.tostring(root, encoding="unicode")
    return text.encode("utf-8"), [what for what, _ in removed]


def check_svg(data: bytes) -> None:
    """Refuse (:class:`ImageError`) an SVG with anything outside the allow-list; comments are fine."""
    _, removed = _sanitised(data)
    refused = [what for what, harmless in removed if not harmless]
    if refused:
        raise ImageError(f"the SVG contains {refused[0]}, which is not allowed in badge art"
                         + (f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""))


def image_data_uri(path: str | Path) -> str:
    """A PNG or SVG file as a data: URI; an SVG is checked and stored as its sanitised form."""
    data = Path(path).read_bytes()
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageError(f"{path} is larger than {MAX_IMAGE_BYTES // 1024} KiB")
    if data.startswith(PNG_SIGNATURE):
        media_type = "image/png"
    elif data.lstrip()[:5] in (b"<?xml", b"<svg ", b"<svg>") or b"<svg" in data[:512]:
        check_svg(data)
        data = sanitise_svg(data)[0]
        media_type = "image/svg+xml"
    else:
        raise ImageError(f"{path} is neither a PNG nor an SVG image")
    return f"data:{media_type};base64," + base64.b64encode(data).decode("ascii")
