"""Markdown on the issuer's public badge page: a signed credential's description and criteria shown
rendered and safe (the renderer, verifier.web.markdown, is tested against named attacks in
tests/verifier/test_markdown.py)."""
from __future__ import annotations

import re

import pytest

from tests.admin_support import console_app
from tests.verifier.test_markdown import ATTACKS

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
