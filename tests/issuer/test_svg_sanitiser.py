"""Uploaded SVG badge art passes an allow-list (issue 12 §5; research notes case 53).

Each attack is a named fixture: :func:`check_svg` refuses it, and :func:`sanitise_svg` gives an
SVG without it. A normal badge (the generated art and a richer hand-drawn one) passes
unchanged: the sanitised tree has the same elements, attributes and text.
"""
from __future__ import annotations

import base64
import io
from xml.etree import ElementTree

import pytest
from PIL import Image

from issuer.badge_art import default_badge_svg
from issuer.images import ImageError, check_svg, sanitise_svg

SVG = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
SVG_IN_DATA = base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>').decode()


def _png() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), "red").save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


ATTACKS = {
    "script element": f'<svg {SVG}><script>alert(1)</script><circle r="4"/></svg>',
    "onload": f'<svg {SVG} onload="alert(1)"><circle r="4"/></svg>',
    "onclick on a shape": f'<svg {SVG}><circle r="4" onclick="alert(1)"/></svg>',
    "animate href to javascript": f'<svg {SVG}><a><animate attributeName="href" to="javascript:alert(1)"/>'
                                  f'<text>x</text></a></svg>',
    "animate on a use": f'<svg {SVG}><use href="#a"><animate attributeName="href" values="javascript:alert(1)"/>'
                        f'</use></svg>',
    "set on href": f'<svg {SVG}><set attributeName="xlink:href" to="javascript:alert(1)"/></svg>',
    "external image": f'<svg {SVG}><image href="https://evil.example/t.png" width="4" height="4"/></svg>',
    "external image xlink": f'<svg {SVG}><image xlink:href="https://evil.example/t.png"/></svg>',
    "external use": f'<svg {SVG}><use href="http://evil.example/sprite.svg#a"/></svg>',
    "style url": f'<svg {SVG}><rect width="4" height="4" style="background:url(https://evil.example/t)"/></svg>',
    "fill url outside": f'<svg {SVG}><rect width="4" height="4" fill="url(https://evil.example/p.svg#g)"/></svg>',
    "style import": f'<svg {SVG}><style>@import url(https://evil.example/x.css);</style></svg>',
    "style url in sheet": f'<svg {SVG}><style>rect {{ fill: url("https://evil.example/a") }}</style></svg>',
    "css escape": f'<svg {SVG}><rect style="fill:u\\72l(https://evil.example/a)"/></svg>',
    "css image-set": f'<svg {SVG}><rect style="fill:image-set(\'https://evil.example/a\' 1x)"/></svg>',
    "xml-stylesheet": f'<?xml version="1.0"?><?xml-stylesheet href="https://evil.example/x.css"?><svg {SVG}/>',
    "xml-stylesheet inside": f'<svg {SVG}><?xml-stylesheet href="https://evil.example/x.css"?></svg>',
    "xlink javascript": f'<svg {SVG}><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "use javascript": f'<svg {SVG}><use xlink:href="javascript:alert(1)"/></svg>',
    "foreignObject": f'<svg {SVG}><foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div>'
                     f'</foreignObject></svg>',
    "xhtml script": f'<svg {SVG}><h:script xmlns:h="http://www.w3.org/1999/xhtml">alert(1)</h:script></svg>',
    "svg inside data image": f'<svg {SVG}><image href="data:image/svg+xml;base64,{SVG_IN_DATA}"/></svg>',
    "png label on svg bytes": f'<svg {SVG}><image href="data:image/png;base64,{SVG_IN_DATA}"/></svg>',
    "iframe": f'<svg {SVG}><iframe src="https://evil.example/"/></svg>',
    "unknown attribute": f'<svg {SVG}><rect formaction="javascript:alert(1)"/></svg>',
}


@pytest.fixture(params=sorted(ATTACKS), ids=sorted(ATTACKS))
def attack(request) -> tuple[str, bytes]:
    return request.param, ATTACKS[request.param].encode("utf-8")


def _all_text(svg: bytes) -> str:
    return svg.decode("utf-8").lower()


def test_every_attack_is_refused(attack):
    with pytest.raises(ImageError, match="not allowed in badge art"):
        check_svg(attack[1])


def test_every_attack_is_neutralised_or_refused_by_the_sanitiser(attack):
    name, svg = attack
    try:
        clean, removed = sanitise_svg(svg)
    except ImageError:
        return           # refused outright (a processing instruction outside the root element)
    assert removed, name
    check_svg(clean)     # what is left passes the allow-list
    text = _all_text(clean)
    for bad in ("script", "javascript:", "evil.example", "onload", "onclick", "animate", "<set",
                "foreignobject", "@import", "xml-stylesheet", "iframe", "formaction", "image/svg"):
        assert bad not in text, (name, bad, text)


@pytest.mark.parametrize("svg", [
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
    b'<!DOCTYPE svg SYSTEM "https://evil.example/x.dtd"><svg xmlns="http://www.w3.org/2000/svg"/>',
    b'<html xmlns="http://www.w3.org/1999/xhtml"/>',
    b'<svg>no namespace</svg>',
], ids=["xxe", "external dtd", "not svg", "no namespace"])
def test_what_is_not_an_svg_is_refused(svg):
    with pytest.raises(ImageError):
        sanitise_svg(svg)


RICH_BADGE = f"""<svg {SVG} viewBox="0 0 200 200" width="200" height="200" role="img" aria-label="SQL">
  <title>SQL fundamentals</title><desc>A round badge</desc>
  <defs>
    <linearGradient id="g" x1="0" y1="0" x2="0" y2="1" gradientUnits="objectBoundingBox">
      <stop offset="0" stop-color="#1d4e89"/><stop offset="1" stop-color="#00798c" stop-opacity="0.9"/>
    </linearGradient>
    <radialGradient id="r" xlink:href="#g" cx="0.5" cy="0.5" r="0.5"/>
    <clipPath id="c"><circle cx="100" cy="100" r="90"/></clipPath>
    <filter id="f"><feGaussianBlur in="SourceAlpha" stdDeviation="2" result="b"/><feOffset dx="1" dy="2"/>
      <feMerge><feMergeNode/><feMergeNode in="SourceGraphic"/></feMerge></filter>
    <symbol id="star" viewBox="0 0 10 10"><polygon points="5,0 6,4 10,4 7,6 8,10 5,7 2,10 3,6 0,4 4,4"/></symbol>
    <style>.ring {{ stroke: #fff; stroke-width: 4px; fill: none }} text {{ font-family: Helvetica, sans-serif }}</style>
  </defs>
  <g clip-path="url(#c)" filter="url(#f)" transform="translate(0 0) rotate(0 100 100)">
    <circle cx="100" cy="100" r="92" fill="url(#g)"/>
    <circle class="ring" cx="100" cy="100" r="78"/>
    <path d="M40 150 L160 150" stroke="rgba(255,255,255,0.5)" stroke-dasharray="4 2" style="opacity:0.8"/>
    <use href="#star" x="90" y="30" width="20" height="20" fill="#ffd700"/>
    <image href="data:image/png;base64,{_png()}" x="10" y="10" width="8" height="8"/>
    <text x="100" y="118" text-anchor="middle" font-size="56" font-weight="700" fill="#fff">SQL<tspan dx="2">!</tspan></text>
  </g>
</svg>"""


def _tree(svg: bytes) -> list[tuple]:
    """Every element as (tag, attributes, text, tail), namespaces and whitespace-only text normalised."""
    return [(e.tag, dict(e.attrib), (e.text or "").strip(), (e.tail or "").strip())
            for e in ElementTree.fromstring(svg).iter()]


@pytest.mark.parametrize("svg", [default_badge_svg("Data Analysis & SQL <fundamentals>").encode("utf-8"),
                                 RICH_BADGE.encode("utf-8")], ids=["generated", "hand-drawn"])
def test_a_normal_badge_passes_unchanged(svg):
    check_svg(svg)
    clean, removed = sanitise_svg(svg)
    assert removed == []
    assert _tree(clean) == _tree(svg)


def test_comments_are_dropped_but_not_refused():
    svg = f'<svg {SVG}><!-- made by hand --><circle r="4"/></svg>'.encode()
    check_svg(svg)
    clean, removed = sanitise_svg(svg)
    assert removed == ["a comment"] and b"made by hand" not in clean


def test_text_around_a_removed_element_stays():
    clean, _ = sanitise_svg(f'<svg {SVG}><text>Data <script>x</script>Analysis</text></svg>'.encode())
    assert ElementTree.fromstring(clean).find("{http://www.w3.org/2000/svg}text").text == "Data Analysis"
