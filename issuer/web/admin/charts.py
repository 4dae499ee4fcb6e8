"""Server-rendered charts for the console: a horizontal bar chart as inline SVG.

:func:`bar_chart` is a pure function of (label, value) pairs. The SVG it returns is safe to
embed in a page (every label is XML-escaped here, so it is returned as :class:`Markup`) and
works under the console's CSP: no ``style`` attributes, only class names styled by
``admin.css`` (``.chart .bar``, ``.chart .bar-soon``, ``.chart text``, ``.chart .value``).
It is an image to assistive technology (``role="img"``) whose ``<title>`` names it and whose
``<desc>`` lists every value, so nothing is only visible.

Two layouts: ``wide`` puts the labels left of the bars (a desktop box); ``stacked`` puts each
label above its bar in a box of a phone's width (:data:`NARROW_WIDTH`), so the bars scale to the
box and every count stays on screen with text at its normal size (an SVG scaled down to a
phone would shrink its text, and a wide one scrolled sideways hid the counts).
:func:`responsive_chart` returns both, marked ``chart-wide`` and ``chart-narrow``; ``admin.css``
shows the one that fits the screen (the other is ``display: none``, so assistive technology
meets one chart).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from html import escape

from markupsafe import Markup

WIDTH = 640
LABEL_WIDTH = 250           # px kept for labels on the left
VALUE_ROOM = 48             # px kept right of the longest bar for its value
ROW = 26                    # px per bar
BAR = 18                    # bar thickness
LABEL_CHARS = 28            # longer labels end in an ellipsis (the full label is in <desc> and the bar's <title>)
NARROW_WIDTH = 340          # the stacked layout: a phone's content width (390 px screen less the page's padding)
NARROW_LABEL_CHARS = 44     # a label above its bar has the whole width
NARROW_ROW = 42             # label line, then the bar
LAYOUTS = ("wide", "stacked")
BAR_CLASSES = ("bar", "bar-soon")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: object) -> str:
    """XML-escaped text, with the characters XML cannot hold removed."""
    return escape(_NOT_XML.sub("", str(value)), quote=True)


def truncate(label: str, limit: int = LABEL_CHARS) -> str:
    label = " ".join(str(label).split())
    return label if len(label) <= limit else label[:limit - 1].rstrip() + "…"


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def responsive_chart(pairs: Sequence[tuple[str, float]], *, title: str, chart_id: str, bar_class: str = "bar",
                     unit: str = "", unit_one: str | None = None) -> Markup:
    """:func:`bar_chart` twice: the wide layout (``chart-wide``) and the stacked one for phones (``chart-narrow``)."""
    common = {"title": title, "bar_class": bar_class, "unit": unit, "unit_one": unit_one}
    return bar_chart(pairs, chart_id=chart_id, **common) + \
        bar_chart(pairs, chart_id=f"{chart_id}-narrow", layout="stacked", **common)


def bar_chart(pairs: Sequence[tuple[str, float]], *, title: str, chart_id: str, bar_class: str = "bar",
              unit: str = "", unit_one: str | None = None, layout: str = "wide") -> Markup:
    """A horizontal bar chart of ``pairs`` in the given order, bars scaled to the largest value.

    ``chart_id`` makes the ids of ``<title>``/``<desc>`` unique on the page; ``unit`` follows
    each value in the description ("people"), ``unit_one`` the value 1 ("person"). ``layout``:
    ``wide`` (labels left of the bars) or ``stacked`` (each label above its bar, phone width).
    """
    if bar_class not in BAR_CLASSES:
        raise ValueError(f"bar_class must be one of {BAR_CLASSES}")
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}")
    if not re.fullmatch(r"[A-Za-z][\w-]*", chart_id):
        raise ValueError("chart_id must be a plain identifier")

    def suffix(value: float) -> str:
        word = unit_one if value == 1 and unit_one is not None else unit
        return f" {word}" if word else ""

    described = "; ".join(f"{label}: {_number(value)}{suffix(value)}" for label, value in pairs) or "No values."
    stacked = layout == "stacked"
    width, row = (NARROW_WIDTH, NARROW_ROW) if stacked else (WIDTH, ROW)
    height = max(len(pairs), 1) * row + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{"narrow" if stacked else "wide"}" '
             f'role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" aria-labelledby="{chart_id}-title {chart_id}-desc">',
             f'<title id="{chart_id}-title">{_text(title)}</title>',
             f'<desc id="{chart_id}-desc">{_text(described)}</desc>']
    if not pairs:
        parts.append(f'<text x="0" y="{ROW - 8}">Nothing to show yet.</text>')
    top = max((value for _, value in pairs), default=0)
    if stacked:
        parts.extend(_stacked_rows(pairs, top, bar_class, suffix))
        parts.append("</svg>")
        return Markup("".join(parts))  # noqa: S704 - every value in it went through _text
    room = WIDTH - LABEL_WIDTH - VALUE_ROOM
    for index, (label, value) in enumerate(pairs):
        y = 4 + index * ROW
        length = round(room * value / top, 1) if top > 0 and value > 0 else 0
        middle = y + BAR / 2
        parts.append(
            f'<g><title>{_text(label)}: {_text(_number(value))}{_text(suffix(value))}</title>'
            f'<text x="{LABEL_WIDTH - 8}" y="{middle}" text-anchor="end" dominant-baseline="middle">'
            f'{_text(truncate(label))}</text>'
            f'<rect class="{bar_class}" x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR}" rx="2"/>'
            f'<text class="value" x="{LABEL_WIDTH + length + 6}" y="{middle}" dominant-baseline="middle">'
            f'{_text(_number(value))}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value in it went through _text


def _stacked_rows(pairs: Sequence[tuple[str, float]], top: float, bar_class: str,
                  suffix: Callable[[float], str]) -> list[str]:
    """Each label on a line of its own, its bar below it from the left edge, the count after the bar."""
    room = NARROW_WIDTH - VALUE_ROOM
    rows = []
    for index, (label, value) in enumerate(pairs):
        y = 4 + index * NARROW_ROW
        length = round(room * value / top, 1) if top > 0 and value > 0 else 0
        bar_top = y + 18
        middle = bar_top + BAR / 2
        rows.append(
            f'<g><title>{_text(label)}: {_text(_number(value))}{_text(suffix(value))}</title>'
            f'<text x="0" y="{y + 13}">{_text(truncate(label, NARROW_LABEL_CHARS))}</text>'
            f'<rect class="{bar_class}" x="0" y="{bar_top}" width="{length}" height="{BAR}" rx="2"/>'
            f'<text class="value" x="{length + 6}" y="{middle}" dominant-baseline="middle">'
            f'{_text(_number(value))}</text></g>')
    return rows
