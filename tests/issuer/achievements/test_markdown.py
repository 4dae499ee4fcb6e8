"""Markdown descriptions and criteria (issuer.markdown): rendered, and safe against named attacks;
and on the public badge page, where a signed credential's Markdown is shown rendered."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from issuer.markdown import MAX_MARKDOWN, markdown_html, render_markdown
from tests.admin_support import console_app

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


def _no_active_content(html: str) -> None:
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
    _no_active_content(markdown_html(ATTACKS[name]))


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
    _no_active_content(html)


@pytest.mark.parametrize("pathological", [
    "[" * 20_000, "*a" * 10_000, "> " * 10_000 + "x", "- " * 10_000 + "x", "`" * 20_000,
    "<" * 20_000, "](" * 10_000, "a\\" * 10_000,
])
def test_pathological_inputs_up_to_the_stored_limit_render_safely(pathological):
    _no_active_content(markdown_html(pathological))         # completes: markdown-it is linear on these


# ---------------------------------------------------------------- on the public badge page

@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_badge_page_renders_the_signed_markdown_safely(db_url, tmp_path):
    app = console_app(tmp_path, db_url)
    use = app.extensions["microcred"].use
    use.achievements.create({
        "slug": "sql", "name": "SQL", "description": "Writes **correct** SQL. " + ATTACKS["img_onerror"],
        "criteria_narrative": "1. Pass [the test](https://hr.example.com/t)\n2. " + ATTACKS["javascript_link"]
                              + "\n3. " + ATTACKS["script_tag"]}, actor="test")
    award = use.awards.issue({"achievement": "sql", "email": "ana@example.com"}, actor="test", notify=False).award
    page = app.test_client().get(f"/credentials/{award.id}", headers={"Accept": "text/html"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<div class="lede markdown"><p>Writes <strong>correct</strong> SQL. &lt;img src=x' in html
    assert '<a href="https://hr.example.com/t" rel="noopener noreferrer nofollow">the test</a>' in html
    assert "<ol>" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    body = html.split("<body", 1)[1]
    assert "javascript:" not in re.sub(r"\[click\]\(javascript:alert\(1\)\)", "", body)
    assert "<script>alert" not in body
