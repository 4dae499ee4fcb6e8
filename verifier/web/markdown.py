"""Markdown for achievement descriptions and criteria: rendered to safe HTML for every page.

    html = render_markdown("Pass the **SQL** assessment:\\n\\n1. joins\\n2. indexes")   # Markup

Open Badges 3.0 documents ``Achievement.description`` and ``Criteria.narrative`` as Markdown,
so HR writes them that way, and every page that shows a badge shows them rendered: the
verifier's result page (text from any issuer, so untrusted: the blueprint registers the Jinja
filter ``markdown``), and the issuer's public badge page and console (the issuer registers the
same filter). It lives in the verifier, the lower layer, so both apps use one renderer.

Decisions:

* Parsing is markdown-it-py (CommonMark, plus tables and strikethrough) with **raw HTML
  disabled**: ``<script>`` or ``<b>`` typed in a description is shown as text, never as markup.
  Its link check already refuses ``javascript:``, ``vbscript:``, ``file:`` and ``data:`` links.
* Images are not rendered (the ``image`` rule is off): the pages' CSP allows only this site's and
  ``data:`` images, and a badge page must not load a tracker; ``![alt](url)`` shows as ``!`` and a
  link named ``alt``.
* Whatever markdown-it produces then goes through nh3 (the Ammonia sanitiser) with a small
  allow-list of tags and only ``http``, ``https`` and ``mailto`` links, each given
  ``rel="noopener noreferrer nofollow"``: a second wall if a parser bug ever let something through.
* Time is bounded: text longer than :data:`MAX_MARKDOWN` characters (the achievement rules
  store at most 20,000) is not parsed but shown escaped, as plain paragraphs; markdown-it's
  nesting limit caps deep lists and quotes.
"""
from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

MAX_MARKDOWN = 50_000           # characters parsed as Markdown; longer text is shown as escaped plain text
MAX_NESTING = 20                # lists/quotes deeper than this are shown as text
TAGS = {"p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
        "a", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td"}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}     # no style: the CSP refuses inline styles
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer nofollow"


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False,
                                       "maxNesting": MAX_NESTING})
    parser.enable(["table", "strikethrough"])
    parser.disable("image")
    return parser


def _plain(text: str) -> str:
    """Escaped paragraphs, one per blank-line-separated block (the fallback for oversized text)."""
    blocks = [block.strip() for block in text.replace("\r\n", "\n").split("\n\n") if block.strip()]
    return "".join(f"<p>{escape(block)}</p>" for block in blocks)


def markdown_html(text: str | None) -> str:
    """``text`` (Markdown) as sanitised HTML; "" for None or blank text."""
    if not text or not text.strip():
        return ""
    if len(text) > MAX_MARKDOWN:
        return _plain(text)
    rendered = _parser().render(text)
    return nh3.clean(rendered, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES, link_rel=LINK_REL,
                     strip_comments=True)


def render_markdown(text: str | None) -> Markup:
    """The Jinja filter ``markdown``: :func:`markdown_html` marked safe for the template."""
    return Markup(markdown_html(text))  # noqa: S704 - sanitised by nh3 above
