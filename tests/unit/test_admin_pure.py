from __future__ import annotations

import defusedxml.ElementTree as ET

from phonehome.admin.charts import bar_chart, column_chart
from phonehome.admin.csrf import csrf_token, csrf_valid


def test_csrf_token_binds_to_session() -> None:
    token = csrf_token("session-a")
    assert csrf_valid("session-a", token)
    assert not csrf_valid("session-b", token)
    assert not csrf_valid("session-a", "")
    assert not csrf_valid("session-a", None)


def test_bar_chart_is_well_formed_svg_and_escapes_labels() -> None:
    svg = bar_chart([("CX700 <1.0.522>", 40), ("CX600", 10)], title="Fleet & versions")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "CX700 <1.0.522>" in texts and "40" in texts
    widths = [float(r.get("width", 0)) for r in root.iter("{http://www.w3.org/2000/svg}rect")]
    assert abs(widths[0] - 4 * widths[1]) <= 4  # proportional to the values (to the pixel)


def test_charts_without_data_say_so() -> None:
    assert "no data yet" in bar_chart([], title="Fleet")
    assert "no data yet" in column_chart([], title="Check-ins")


def test_column_chart_has_one_column_per_value() -> None:
    svg = column_chart([0, 5, 10], title="per hour", labels=["00", "01", "02"])
    rects = list(ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}rect"))
    assert [float(r.get("height", 0)) for r in rects] == [0, 51, 102]
