"""The console's SVG bar chart (issuer.web.admin.charts.bar_chart): valid XML, accessible,
escaped, scaled, CSP-safe."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup, escape

from issuer.web.admin.charts import LABEL_CHARS, NARROW_WIDTH, bar_chart, responsive_chart

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def bars(root: ET.Element) -> list[ET.Element]:
    return root.findall(f"{SVG}g/{SVG}rect")


def test_an_accessible_chart_with_one_bar_per_value_scaled_to_the_largest():
    svg = bar_chart([("SQL", 8), ("Python", 4), ("Go", 0), ("C", 1)], title="People per skill", chart_id="c1",
                    unit="people", unit_one="person")
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").text == "People per skill"
    assert root.find(f"{SVG}title").get("id") == "c1-title"
    assert root.find(f"{SVG}desc").text == "SQL: 8 people; Python: 4 people; Go: 0 people; C: 1 person"
    widths = [float(rect.get("width")) for rect in bars(root)]
    assert widths[0] > 0 and widths[1] == pytest.approx(widths[0] / 2) and widths[2] == 0
    assert widths[3] == pytest.approx(widths[0] / 8, abs=0.1)
    assert {rect.get("class") for rect in bars(root)} == {"bar"}
    values = [g.findall(f"{SVG}text")[1] for g in root.findall(f"{SVG}g")]
    assert [(t.get("class"), t.text) for t in values] == [("value", "8"), ("value", "4"), ("value", "0"),
                                                          ("value", "1")]
    assert float(values[0].get("x")) > float(values[1].get("x"))            # printed at the end of its bar
    assert "style" not in svg                                              # CSP: style-src 'self' only
    assert isinstance(svg, Markup)


def test_labels_are_escaped_and_long_ones_shortened():
    long = "Management of Personnel Resources and everything around it"
    svg = bar_chart([("<script>alert(1)</script>", 2), ("R&D \"x\"", 1), (long, 3)], title="Q&A <b>",
                    chart_id="c2", bar_class="bar-soon")
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg and "R&amp;D" in svg
    root = parse(svg)                                                      # still well-formed XML
    assert root.find(f"{SVG}title").text == "Q&A <b>"
    labels = [g.findall(f"{SVG}text")[0].text for g in root.findall(f"{SVG}g")]
    assert labels[:2] == ["<script>alert(1)</script>", 'R&D "x"']
    assert labels[2].endswith("…") and len(labels[2]) == LABEL_CHARS and long.startswith(labels[2][:-1])
    tooltips = [g.find(f"{SVG}title").text for g in root.findall(f"{SVG}g")]
    assert tooltips[2] == f"{long}: 3"                                     # the full label stays available
    assert long in root.find(f"{SVG}desc").text
    assert {rect.get("class") for rect in bars(root)} == {"bar-soon"}
    # embedding it in a template does not escape it a second time
    assert str(escape(svg)) == str(svg)


def test_characters_xml_cannot_hold_are_dropped():
    root = parse(bar_chart([("bad\x00\x08label", 1)], title="t\x01", chart_id="c3"))
    assert root.find(f"{SVG}g/{SVG}text").text == "badlabel"


def test_no_values_gives_a_small_chart_saying_so():
    root = parse(bar_chart([], title="People per skill", chart_id="c4"))
    assert bars(root) == []
    assert root.find(f"{SVG}desc").text == "No values."
    assert root.find(f"{SVG}text").text == "Nothing to show yet."


def test_all_zero_values_draw_no_bars_and_do_not_divide_by_zero():
    root = parse(bar_chart([("a", 0), ("b", 0)], title="t", chart_id="c5"))
    assert [rect.get("width") for rect in bars(root)] == ["0", "0"]


def test_unknown_bar_class_or_unsafe_id_is_refused():
    with pytest.raises(ValueError):
        bar_chart([("a", 1)], title="t", chart_id="c6", bar_class="evil\" onload=\"x")
    with pytest.raises(ValueError):
        bar_chart([("a", 1)], title="t", chart_id='x" onload="alert(1)')


def test_the_stacked_layout_fits_a_phone_with_every_count_inside_the_box():
    long = "Management of Personnel Resources and everything around it"
    svg = bar_chart([("SQL", 8), (long, 4), ("Go", 0)], title="People per skill", chart_id="c7", layout="stacked")
    root = parse(svg)
    assert root.get("class") == "chart chart-narrow" and root.get("viewBox").startswith(f"0 0 {NARROW_WIDTH} ")
    groups = root.findall(f"{SVG}g")
    labels = [g.findall(f"{SVG}text")[0] for g in groups]
    assert all(label.get("x") == "0" for label in labels)                   # each label on a line of its own
    assert labels[1].text.endswith("…") and long.startswith(labels[1].text[:-1])
    widths = [float(rect.get("width")) for rect in bars(root)]
    assert widths[1] == pytest.approx(widths[0] / 2) and widths[2] == 0
    for group, width in zip(groups, widths, strict=True):
        value = group.findall(f"{SVG}text")[1]
        assert value.get("class") == "value" and float(value.get("x")) == pytest.approx(width + 6)
        assert float(value.get("x")) + 8 * len(value.text) <= NARROW_WIDTH     # the count stays inside the box
    both = responsive_chart([("SQL", 8)], title="t", chart_id="c8")
    assert both.count("<svg ") == 2 and 'class="chart chart-wide"' in both and 'id="c8-narrow-title"' in both
    with pytest.raises(ValueError):
        bar_chart([("a", 1)], title="t", chart_id="c9", layout="round")
