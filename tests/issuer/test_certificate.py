"""The printable certificate (issuer.certificate): one A4 page, its text, its QR code, untrusted names.

Each PDF is read back with pypdf (pages, page size, text, images) and rendered with PDFium
(pypdfium2), whose pixels zxing-cpp decodes: the QR code is checked as a phone would see it.
"""
from __future__ import annotations

import io
import os
from datetime import UTC, datetime

import pypdfium2
import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from issuer.certificate import LATIN_1, CertificateContent, Fonts, certificate_pdf, drawable, system_fonts
from issuer.sharing import png_badge

URL = "https://hr.example.com/credentials/0b5e7f5c-1c1e-4d7a-9a55-3f1d2a0b9c11"
CREATED = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
FOOTNOTE = "Some characters could not be printed"


def content(**changes) -> CertificateContent:
    values = {"achievement": "Team Leadership", "issuer": "Example Corp People Team", "url": URL,
              "award_id": URL.rsplit("/", 1)[1], "issued": datetime(2026, 3, 5, tzinfo=UTC),
              "valid_until": datetime(2028, 3, 5, tzinfo=UTC), "recipient": None,
              "image_png": png_badge("Team Leadership")}
    values.update(changes)
    return CertificateContent(**values)


def read(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def render(pdf: bytes, scale: float = 2.0) -> Image.Image:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return document[0].render(scale=scale).to_pil().convert("RGB")
    finally:
        document.close()


def decoded(pdf: bytes) -> list[str]:
    return [code.text for code in zxingcpp.read_barcodes(render(pdf))]


def unicode_fonts() -> Fonts:
    fonts = system_fonts()
    if fonts.regular is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no TrueType font installed (fonts-dejavu-core comes with Chromium; see .ci/run)")
        pytest.skip("no TrueType font installed: apt-get install fonts-dejavu-core")
    return fonts


def test_one_a4_page_with_the_name_issuer_dates_url_and_no_recipient_by_default():
    pdf = certificate_pdf(content(), created=CREATED)
    reader, text = read(pdf)
    assert pdf.startswith(b"%PDF-") and len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)       # A4 in points
    assert "Team Leadership" in text and "Example Corp People Team" in text
    assert URL in text
    assert "Awarded on 5 March 2026, valid until 5 March 2028" in text
    assert "awarded to" not in text                                                 # the name was not shown
    assert FOOTNOTE not in text
    assert reader.metadata.title == "Team Leadership" and reader.metadata.creator == "microcred"


def test_the_qr_code_on_the_page_decodes_to_the_badge_url():
    assert decoded(certificate_pdf(content(), created=CREATED)) == [URL]


def test_the_recipient_name_is_printed_when_given_and_unicode_survives():
    unicode_fonts()
    pdf = certificate_pdf(content(recipient="Zoë Ünal-Łukasiewicz", issued=None, valid_until=None), created=CREATED)
    _, text = read(pdf)
    assert "awarded to" in text and "Zoë Ünal-Łukasiewicz" in text
    assert "No expiry date" in text and FOOTNOTE not in text


def test_the_badge_art_is_placed_once_and_a_broken_image_leaves_the_rest_intact():
    reader, _ = read(certificate_pdf(content(), created=CREATED))
    assert len(reader.pages[0].images) == 1
    reader, text = read(certificate_pdf(content(image_png=b"\x89PNG\r\n\x1a\nnot really"), created=CREATED))
    assert len(reader.pages) == 1 and len(reader.pages[0].images) == 0 and URL in text
    reader, _ = read(certificate_pdf(content(image_png=None), created=CREATED))
    assert len(reader.pages[0].images) == 0


def test_a_very_long_name_shrinks_and_is_cut_on_the_same_page():
    name = "Advanced " * 60
    pdf = certificate_pdf(content(achievement=name.strip(), recipient="R" * 255), created=CREATED)
    reader, text = read(pdf)
    assert len(reader.pages) == 1 and "…" in text and URL in text
    assert decoded(pdf) == [URL]


def test_control_and_format_characters_are_dropped_and_unknown_glyphs_marked():
    unicode_fonts()
    hostile = "Mallory \u202eevil\u0007 \U000e0041\U0010fffd \U00013000"   # bidi override, bell, tag, private
    pdf = certificate_pdf(content(recipient=hostile), created=CREATED)        # use, a hieroglyph no font has
    _, text = read(pdf)
    assert "Mallory evil ?" in text
    assert not {"\u202e", "\u0007", "\U000e0041", "\U0010fffd"} & set(text)
    assert FOOTNOTE in text


def test_without_a_truetype_font_latin_1_prints_and_the_rest_is_marked():
    core = Fonts(None, None)
    assert core.covered() == LATIN_1
    pdf = certificate_pdf(content(achievement="Café 日本語", recipient="José"), created=CREATED, fonts=core)
    reader, text = read(pdf)
    assert len(reader.pages) == 1
    assert "Café ???" in text and "José" in text and FOOTNOTE in text
    assert decoded(pdf) == [URL]


def test_drawable_keeps_covered_text_and_reports_replacements():
    assert drawable("  Ada   Lovelace ", LATIN_1) == ("Ada Lovelace", False)
    assert drawable("Ada\u200b Łove", LATIN_1) == ("Ada ?ove", True)     # zero-width space dropped, Ł not Latin-1
    assert drawable("e\u0301", LATIN_1) == ("é", False)                  # NFC first: e + accent is é


def test_the_pdf_is_the_same_for_the_same_input():
    assert certificate_pdf(content(), created=CREATED) == certificate_pdf(content(), created=CREATED)
