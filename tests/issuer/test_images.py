"""Uploaded badge art: PNG and safe SVG accepted, active or external SVG content refused (the
allow-list attack by attack: test_svg_sanitiser.py)."""
from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from issuer.images import ImageError, image_data_uri

SAFE_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/></svg>'


def test_png_and_safe_svg_become_data_uris(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="PNG")
    (tmp_path / "a.png").write_bytes(buffer.getvalue())
    (tmp_path / "a.svg").write_bytes(SAFE_SVG)
    assert image_data_uri(tmp_path / "a.png").startswith("data:image/png;base64,")
    uri = image_data_uri(tmp_path / "a.svg")      # stored as its sanitised form: the same drawing
    stored = base64.b64decode(uri.split(",", 1)[1])
    assert stored.startswith(b"<svg") and b'<circle cx="5" cy="5" r="4" />' in stored


@pytest.mark.parametrize("svg,message", [
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "<script>"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>', "event handler"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject/></svg>', "foreignObject"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
     b'<image x:href="https://evil.example/t.png"/></svg>', "not an embedded PNG"),
    (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     b'<svg xmlns="http://www.w3.org/2000/svg">&x;</svg>', "DTDs"),
    (b"<html><body>not an svg</body></html>", "neither a PNG nor an SVG"),
])
def test_unsafe_or_wrong_files_are_refused(tmp_path, svg, message):
    path = tmp_path / "bad.svg"
    path.write_bytes(svg)
    with pytest.raises(ImageError, match=message):
        image_data_uri(path)


def test_oversized_images_are_refused(tmp_path):
    path = tmp_path / "big.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 600_000)
    with pytest.raises(ImageError, match="larger than"):
        image_data_uri(path)
