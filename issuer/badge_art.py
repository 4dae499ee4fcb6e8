"""A default badge image for achievements that have none: a simple, accessible SVG."""
from __future__ import annotations

import base64
import hashlib
from xml.sax.saxutils import escape

_PALETTE = ("#1d4e89", "#00798c", "#2e7d32", "#8e3b46", "#6a4c93", "#b5651d")


def _initials(name: str) -> str:
    words = [w for w in name.replace("-", " ").split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "★"


def default_badge_svg(name: str) -> str:
    colour = _PALETTE[hashlib.sha256(name.encode("utf-8")).digest()[0] % len(_PALETTE)]
    label = escape(name[:60])
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200" width="200" height="200" role="img" '
        f'aria-label="{label}"><title>{label}</title>'
        f'<circle cx="100" cy="100" r="92" fill="{colour}"/>'
        '<circle cx="100" cy="100" r="78" fill="none" stroke="#ffffff" stroke-width="4"/>'
        '<text x="100" y="118" text-anchor="middle" font-family="Helvetica, Arial, sans-serif" font-size="56" '
        f'font-weight="700" fill="#ffffff">{escape(_initials(name))}</text></svg>'
    )


def default_badge_data_uri(name: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(default_badge_svg(name).encode("utf-8")).decode("ascii")
