"""Markdown descriptions and criteria (verifier.web.markdown): rendered, and safe against named attacks
(the issuer's pages and the verifier's result page use this one renderer; the pages are tested in
tests/issuer/achievements/test_markdown.py and tests/verifier/test_web_plain_result.py)."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from verifier.web.markdown import MAX_MARKDOWN, markdown_html, render_markdown

ATTACKS = {
    "script_tag": "Hello <script>alert(1)</script>",
    "script_in_code_span": "`</code><script>alert(1)</script>`",
    "javascript_link": "[click](javascript:alert(1))",
    "javascript_link_mixed_case": "[click](JaVaScRiPt:alert(1))",
    "javascript_link_entity": "[click](javascript&#58;alert(1))",
    "javascript_autolink": "<javascript:alert(1)>",
    "vbscript_link": "[click](vbscript:msgbox(1))",
    "data_html_link": "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "raw_html_anchor": '<a href="javascript:alert(1)">x</a>',
    "raw_html_iframe": '<iframe src="https://evil.example"></iframe>',
    "img_onerror": "<img src=x onerror=alert(1)>",
    "markdown_image_onerror": '![x" onerror="alert(1)](https://evil.example/x.png)',
    "markdown_image_tracker": "![pixel](https://tracker.example/p.gif)",
    "reference_link": "[click][a]\n\n[a]: javascript:alert(1)",
    "html_block_comment": "<!-- x --><svg onload=alert(1)>",
    "style_attribute": '<p style="background:url(javascript:alert(1))">x</p>',
    "link_title_breakout": '[x](https://ok.example "a\\" onmouseover=\\"alert(1))',
}


class _Tags(HTMLParser):
    """Every element and attribute a browser would build from the HTML (text stays text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def no_active_content(html: str) -> None:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag not in ("script", "iframe", "img", "svg", "object", "embed", "style", "form"), html
        assert not [name for name in attrs if name.startswith("on") or name == "style" or name == "src"], html
        if "href" in attrs:
            assert re.match(r"^(https?:|mailto:)", attrs["href"] or ""), html


@pytest.mark.parametrize("name", list(ATTACKS))
def test_named_attacks_render_without_active_content(name):
    no_active_content(markdown_html(ATTACKS[name]))


def test_markdown_is_rendered():
    html = markdown_html("Pass the **SQL** test:\n\n1. joins\n2. *indexes*\n\n[Guide](https://hr.example.com/sql)")
    assert "<strong>SQL</strong>" in html and "<ol>" in html and "<em>indexes</em>" in html
    assert '<a href="https://hr.example.com/sql" rel="noopener noreferrer nofollow">Guide</a>' in html


def test_raw_html_is_shown_as_text_not_dropped():
    assert markdown_html("Use <b>care</b>") == "<p>Use &lt;b&gt;care&lt;/b&gt;</p>\n"


def test_an_image_becomes_a_link_and_is_never_loaded():
    assert markdown_html("![chart](https://e.example/c.png)") == \
        '<p>!<a href="https://e.example/c.png" rel="noopener noreferrer nofollow">chart</a></p>\n'


def test_blank_and_none_render_nothing():
    assert markdown_html(None) == markdown_html("  \n ") == "" and str(render_markdown(None)) == ""


def test_a_huge_input_is_shown_escaped_without_parsing():
    huge = "<script>alert(1)</script>\n\n" + "*" * (MAX_MARKDOWN + 1)
    html = markdown_html(huge)
    assert html.startswith("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p><p>***")
    no_active_content(html)


@pytest.mark.parametrize("pathological", [
    "[" * 20_000, "*a" * 10_000, "> " * 10_000 + "x", "- " * 10_000 + "x", "`" * 20_000,
    "<" * 20_000, "](" * 10_000, "a\\" * 10_000,
])
def test_pathological_inputs_up_to_the_stored_limit_render_safely(pathological):
    no_active_content(markdown_html(pathological))         # completes: markdown-it is linear on these
