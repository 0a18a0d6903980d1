"""core.charts: accessible, script-free SVG that renders CJK text and shows gaps, not zeros."""

import re

from apps.core.charts import bar_chart, line_chart


def test_a_chart_has_an_accessible_name_and_description_and_no_script():
    svg = line_chart(
        title="恢复时间", x_labels=["1", "2"], series={"事件": [3, 4]}, description="每次事件一点"
    )
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert re.search(r"<title id=\"chart-title-\w+\">恢复时间</title>", svg)
    assert "<desc" in svg and "每次事件一点" in svg
    assert "<script" not in svg
    assert "Noto Sans CJK SC" in svg


def test_two_charts_on_one_page_share_no_id():
    a = bar_chart(title="a", x_labels=["x"], series={"s": [1], "t": [2]})
    b = bar_chart(title="b", x_labels=["x"], series={"s": [1], "t": [2]})
    ids_a = set(re.findall(r'id="([^"]+)"', a))
    ids_b = set(re.findall(r'id="([^"]+)"', b))
    assert ids_a and not ids_a & ids_b


def test_a_point_not_measured_is_a_gap_not_a_zero():
    gap = line_chart(title="t", x_labels=["a", "b", "c"], series={"s": [5, None, 7]})
    full = line_chart(title="t", x_labels=["a", "b", "c"], series={"s": [5, 0, 7]})
    assert gap.count("<circle") == 2
    assert full.count("<circle") == 3


def test_titles_are_escaped():
    svg = bar_chart(title="<b>&", x_labels=["x"], series={"s": [1]})
    assert "<b>&" not in svg and "&lt;b&gt;&amp;" in svg
