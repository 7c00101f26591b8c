"""Charts as plain SVG: the geometry of ``tourism.charts`` (bars scale to the axis, a ring
closes, nothing drawn for no data) and the SVG the macro makes of it (no script or style)."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest
from flask import render_template_string

from tourism.charts import bar_chart, donut_chart, horizontal_bar_chart, nice_ticks, stylesheet

SVG = "{http://www.w3.org/2000/svg}"


def label(value: int) -> str:
    return f"${value / 100:.2f}"


@pytest.mark.parametrize(
    ("top", "whole", "expected"),
    [
        (0, False, [0]),
        (0, True, [0, 1]),
        (7, True, [0, 2, 4, 6, 8]),
        (100_00, False, [0, 20_00, 40_00, 60_00, 80_00, 100_00]),
        (123_45, False, [0, 5_000, 10_000, 15_000]),
    ],
)
def test_ticks_are_round_and_reach_the_top(top, whole, expected):
    ticks = nice_ticks(top, whole=whole)
    assert ticks == expected
    assert ticks[-1] >= top and len(ticks) <= 7


def test_bars_stand_on_the_axis_and_scale_to_the_top_tick():
    chart = bar_chart("m", "Money", ["Jan", "Feb"], {"Gross": [100_00, 50_00]}, label, "none")
    left, top, right, bottom = chart.plot
    tallest, half = chart.bars
    assert tallest.y + tallest.height == pytest.approx(bottom)
    assert half.height == pytest.approx(tallest.height / 2)
    assert tallest.height == pytest.approx((bottom - top) * 100_00 / nice_ticks(100_00)[-1])
    assert tallest.title == "Gross, Jan: $100.00"
    assert [t.label for t in chart.category_ticks] == ["Jan", "Feb"]
    assert not chart.legend  # one series: its name is the chart's


def test_two_series_get_a_legend_and_negative_values_no_bar():
    chart = bar_chart("m", "Money", ["Jan"], {"Gross": [10], "Net": [-5]}, label, "none")
    assert [(item.series, item.name) for item in chart.legend] == [(0, "Gross"), (1, "Net")]
    assert chart.bars[1].height == 0 and chart.bars[1].title == "Net, Jan: $-0.05"


def test_a_ring_of_shares_closes_and_leaves_out_what_cannot_be_drawn():
    chart = donut_chart("d", "Shares", [("A", 300), ("B", 0), ("C", 100), ("D", -50)], label, "")
    assert [s.title for s in chart.slices] == ["A: $3.00", "C: $1.00"]
    assert [item.name for item in chart.legend] == ["A", "C"]
    # The first slice ends where the second begins: three quarters of the way round.
    end = re.findall(r"[-\d.]+", chart.slices[0].path)
    cx, cy, outer = chart.width / 2, 150, 130
    x, y = float(end[7]), float(end[8])  # the outer arc's end point
    angle = 1.5 * math.pi
    expected = (cx + outer * math.sin(angle), cy - outer * math.cos(angle))
    assert (x, y) == pytest.approx(expected, abs=0.01)


def test_a_single_share_is_a_whole_ring():
    chart = donut_chart("d", "Shares", [("A", 5)], label, "")
    assert chart.slices[0].path.count(" A ") == 4  # two outer and two inner half arcs


@pytest.mark.parametrize(
    "chart",
    [
        bar_chart("m", "t", [], {"a": []}, label, "Nothing yet"),
        bar_chart("m", "t", ["Jan"], {"a": [0]}, label, "Nothing yet"),
        horizontal_bar_chart("e", "t", [], label, "Nothing yet"),
        donut_chart("d", "t", [("A", 0)], label, "Nothing yet"),
    ],
)
def test_no_data_draws_a_message_not_shapes(app, chart):
    svg = _draw(app, chart)
    assert svg.findall(f".//{SVG}rect") == [] and svg.findall(f".//{SVG}path") == []
    assert "Nothing yet" in "".join(svg.itertext())


def test_the_macro_draws_valid_svg_without_script_or_style(app):
    chart = horizontal_bar_chart(
        "experiences", "Per experience", [("<b>Cacao</b>", 500), ("Guayusa", 250)], label, ""
    )
    svg = _draw(app, chart)
    assert svg.get("id") == "chart-experiences" and svg.get("viewBox") == f"0 0 800 {chart.height}"
    rects = svg.findall(f".//{SVG}rect")
    assert [r.get("class") for r in rects] == ["color-0", "color-0"]
    assert rects[0].find(f"{SVG}title").text == "<b>Cacao</b>: $5.00"  # escaped, read back
    text = ET.tostring(svg, encoding="unicode")
    assert "<script" not in text and "style=" not in text and "<style" not in text


def test_the_stylesheet_colours_every_series_of_every_chart():
    css = stylesheet(["months", "guides"])
    assert "#chart-months .color-0 { fill: #2f6b3a; }" in css
    assert "#chart-guides .color-5 {" in css


def _draw(app, chart) -> ET.Element:
    with app.test_request_context():
        markup = render_template_string(
            '{% from "_charts.html" import chart as draw %}{{ draw(c) }}', c=chart
        )
    return ET.fromstring(markup)  # noqa: S314 — our own markup, parsed to check it
