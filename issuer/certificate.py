"""The printable certificate: one A4 page with the badge, its name, issuer, dates and a QR code.

:func:`certificate_pdf` turns a :class:`CertificateContent` (plain values, read from the
credential as issued by :class:`issuer.sharing_service.SharingService`) into PDF bytes. It is
pure and deterministic: no database, no clock (the creation date is passed in: the service
passes the award date, so the same badge always gives the same bytes and can be cached), no
network. Making one costs about half a second of CPU (mostly embedding and subsetting the
font), which is why the service caches and the route is rate-limited per client.

Why fpdf2: a well-kept, pure-Python PDF writer (no C library to install), small enough to
read, that embeds and subsets TrueType fonts (so any script a font covers prints), draws
vector shapes (the QR code stays sharp at any print size) and places PNG images. ReportLab
does as much but is larger and its Unicode font handling is more work; nothing here needs
its flowables.

Decisions:

* One page, always: automatic page breaks are off and every block has a fixed box; a long
  achievement name shrinks (down to 16 pt) and is cut with "…" after three lines.
* Untrusted text (names typed by HR or the employee) is drawn as text, never interpreted
  (fpdf2's markdown is off). Control characters are dropped. Fonts: the first TrueType
  family found of :data:`FONT_FAMILIES` (DejaVu Sans: Debian's ``fonts-dejavu-core``, which
  fontconfig and Chromium already pull in), embedded and subset, plus any of
  :data:`FALLBACK_FONTS` that is installed (e.g. CJK). A character no font has is printed as
  "?" and the page says so in a footnote (the badge page online shows it exactly); without
  any TrueType font the PDF core font Helvetica (Latin-1 only) is used the same way. No
  right-to-left shaping (fpdf2 needs uharfbuzz for that): such names print in logical order.
* The QR code (error correction M, 4-module quiet zone) encodes the badge's public URL, which
  is also printed in full, so the certificate can be checked by scanning or by typing.
* The badge art: the PNG the credential carries, else the generated raster art (an SVG is
  never rasterised from untrusted markup; :func:`issuer.sharing.badge_png`).
"""
from __future__ import annotations

import io
import logging
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import cast

import qrcode
import qrcode.constants
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

log = logging.getLogger(__name__)

FONT_DIRS = (Path("/usr/share/fonts/truetype"), Path("/usr/local/share/fonts"))
#: (regular, bold) file names, searched in order under FONT_DIRS (one level of sub-folders)
FONT_FAMILIES = (("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"), ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
                 ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"))
#: extra fonts for characters the family lacks (used when installed)
FALLBACK_FONTS = ("DroidSansFallbackFull.ttf", "NotoSansArabic-Regular.ttf", "NotoSansHebrew-Regular.ttf",
                  "NotoSansDevanagari-Regular.ttf")
LATIN_1 = frozenset(range(0x20, 0x7F)) | frozenset(range(0xA0, 0x100))
PAGE_W, PAGE_H, MARGIN = 210.0, 297.0, 18.0          # A4, millimetres
INK, MUTED, ACCENT = (16, 24, 40), (71, 84, 103), (21, 94, 117)
MAX_NAME_LINES = 3


@dataclass(frozen=True)
class CertificateContent:
    """What the certificate says; ``recipient`` only when the employee chose to show their name."""

    achievement: str
    issuer: str
    url: str                        # the badge's public page (QR code and printed)
    award_id: str
    issued: datetime | None
    valid_until: datetime | None
    recipient: str | None
    image_png: bytes | None         # the badge art as PNG


@dataclass(frozen=True)
class Fonts:
    """The embedded fonts: ``None`` paths mean the PDF core font (Latin-1)."""

    regular: Path | None
    bold: Path | None
    fallbacks: tuple[Path, ...] = ()

    def covered(self) -> frozenset[int]:
        if self.regular is None:
            return LATIN_1
        return frozenset().union(*(_cmap(path) for path in (self.regular, *self.fallbacks)))


@lru_cache(maxsize=16)
def _cmap(path: Path) -> frozenset[int]:
    font = TTFont(str(path), lazy=True)
    try:
        return frozenset(font.getBestCmap() or ())
    finally:
        font.close()


def _find(name: str) -> Path | None:
    for folder in FONT_DIRS:
        for candidate in (folder / name, *folder.glob(f"*/{name}")):
            if candidate.is_file():
                return candidate
    return None


@lru_cache(maxsize=1)
def system_fonts() -> Fonts:
    """The first installed family of :data:`FONT_FAMILIES` and the installed fallbacks (cached)."""
    for regular_name, bold_name in FONT_FAMILIES:
        regular, bold = _find(regular_name), _find(bold_name)
        if regular is not None:
            fallbacks = tuple(p for p in map(_find, FALLBACK_FONTS) if p is not None)
            return Fonts(regular, bold or regular, fallbacks)
    log.warning("no TrueType font found (install fonts-dejavu-core): certificates use Helvetica, Latin-1 only")
    return Fonts(None, None)


def drawable(text: str, covered: frozenset[int]) -> tuple[str, bool]:
    """``text`` without control characters, with "?" for characters no font covers; True if any was replaced."""
    out, replaced = [], False
    for char in unicodedata.normalize("NFC", " ".join(text.split())):
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        if ord(char) not in covered:
            char, replaced = "?", True
        out.append(char)
    return " ".join("".join(out).split()), replaced


def long_date(value: datetime) -> str:
    return f"{value.day} {value:%B %Y}"


class _Page:
    """One certificate page being drawn (fpdf2 plus the fonts' coverage)."""

    def __init__(self, fonts: Fonts, title: str, author: str, created: datetime) -> None:
        self.pdf = pdf = FPDF(orientation="P", unit="mm", format="A4")
        pdf.set_auto_page_break(False)
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_creation_date(created)
        pdf.set_creator("microcred")
        pdf.set_lang("en")
        self.family = "helvetica"
        if fonts.regular is not None and fonts.bold is not None:
            self.family = "body"
            pdf.add_font("body", "", str(fonts.regular))
            pdf.add_font("body", "B", str(fonts.bold))
            names = []
            for number, path in enumerate(fonts.fallbacks):
                pdf.add_font(f"fallback{number}", "", str(path))
                names.append(f"fallback{number}")
            if names:
                pdf.set_fallback_fonts(names, exact_match=False)
        self.covered = fonts.covered()
        self.replaced = False
        title_text, _ = drawable(title, self.covered)
        pdf.set_title(title_text)
        pdf.set_author(drawable(author, self.covered)[0])
        pdf.add_page()

    def text(self, value: str) -> str:
        shown, replaced = drawable(value, self.covered)
        self.replaced = self.replaced or replaced
        return shown

    def font(self, size: float, bold: bool = False, colour: tuple[int, int, int] = INK) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)
        self.pdf.set_text_color(*colour)

    def lines(self, y: float, value: str, size: float, *, bold: bool = False, colour: tuple[int, int, int] = INK,
              max_lines: int = 2, min_size: float | None = None, width: float = PAGE_W - 2 * MARGIN,
              x: float = MARGIN, align: Align = Align.C) -> float:
        """Centred text in at most ``max_lines`` lines (shrinking to ``min_size``, then cut); returns the next y."""
        value = self.text(value)
        while True:
            self.font(size, bold, colour)
            lines = cast(list[str], self.pdf.multi_cell(width, size * 0.5, value, dry_run=True, output="LINES"))
            if len(lines) <= max_lines or min_size is None or size <= min_size:
                break
            size -= 2
        if len(lines) > max_lines:
            lines = lines[:max_lines]
            lines[-1] = lines[-1].rstrip()[: max(1, len(lines[-1]) - 2)] + "…"
        height = size * 0.5
        for number, line in enumerate(lines):
            self.pdf.set_xy(x, y + number * height)
            self.pdf.cell(width, height, line, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return y + len(lines) * height


def _qr_modules(url: str) -> list[list[bool]]:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(url)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    return matrix


def _draw_qr(pdf: FPDF, url: str, x: float, y: float, size: float) -> None:
    """The QR code as filled rectangles (one per run of dark modules in a row), on white."""
    matrix = _qr_modules(url)
    unit = size / len(matrix)
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, size, size, style="F")
    pdf.set_fill_color(0, 0, 0)
    for row, cells in enumerate(matrix):
        column = 0
        while column < len(cells):
            if not cells[column]:
                column += 1
                continue
            start = column
            while column < len(cells) and cells[column]:
                column += 1
            pdf.rect(x + start * unit, y + row * unit, (column - start) * unit, unit, style="F")


def _draw_art(pdf: FPDF, png: bytes | None, x: float, y: float, size: float) -> None:
    if png is None:
        return
    try:
        pdf.image(io.BytesIO(png), x=x, y=y, w=size, h=size, keep_aspect_ratio=True)
    except Exception:   # noqa: BLE001 - a broken image leaves the space empty; the rest still prints
        log.warning("the badge image could not be placed on the certificate")


def certificate_pdf(content: CertificateContent, *, created: datetime, fonts: Fonts | None = None) -> bytes:
    """The one-page A4 certificate as PDF bytes.

    Args:
        content: what to print (the recipient only when shown publicly).
        created: the PDF's creation date (the runtime's clock).
        fonts: the fonts to embed (default: :func:`system_fonts`).
    """
    page = _Page(fonts or system_fonts(), content.achievement, content.issuer, created)
    pdf = page.pdf
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.8)
    pdf.rect(10, 10, PAGE_W - 20, PAGE_H - 20)
    pdf.set_line_width(0.2)
    pdf.rect(12.5, 12.5, PAGE_W - 25, PAGE_H - 25)

    y = page.lines(26, content.issuer, 13, bold=True, colour=ACCENT)
    y = page.lines(y + 4, "Certificate of achievement", 12, colour=MUTED)
    _draw_art(pdf, content.image_png, (PAGE_W - 56) / 2, y + 8, 56)
    y = page.lines(y + 72, content.achievement, 28, bold=True, max_lines=MAX_NAME_LINES, min_size=16)
    if content.recipient:
        y = page.lines(y + 8, "awarded to", 12, colour=MUTED)
        y = page.lines(y + 2, content.recipient, 20, bold=True, min_size=14)
    until = f"valid until {long_date(content.valid_until)}" if content.valid_until else "no expiry date"
    dates = f"Awarded on {long_date(content.issued)}, {until}" if content.issued else until[0].upper() + until[1:]
    y = page.lines(y + 8, dates, 12, colour=MUTED)
    page.lines(y + 2, f"Issued by {content.issuer}", 12, colour=MUTED)

    qr_size, qr_y = 46.0, PAGE_H - MARGIN - 16 - 46.0
    _draw_qr(pdf, content.url, MARGIN + 2, qr_y, qr_size)
    text_x, text_w = MARGIN + qr_size + 8, PAGE_W - 2 * MARGIN - qr_size - 10
    y = page.lines(qr_y + 4, "Check that this badge is genuine and still valid:", 11, bold=True, x=text_x,
                   width=text_w, align=Align.L)
    y = page.lines(y + 1, "scan the code, or open this address. The page shows what the issuer says "
                          "about the badge today.", 10, colour=MUTED, x=text_x, width=text_w, align=Align.L,
                   max_lines=3)
    page.lines(y + 3, f"Badge ID: {content.award_id}", 8, colour=MUTED, x=text_x, width=text_w, align=Align.L)
    page.lines(qr_y + qr_size + 3, content.url, 9.5, colour=ACCENT, max_lines=2, min_size=7.5)
    if page.replaced:
        page.lines(PAGE_H - MARGIN - 1, "Some characters could not be printed with this server's fonts and "
                   "show as \"?\"; the badge page shows them exactly.", 7, colour=MUTED, max_lines=1)
    return bytes(pdf.output())
