"""Number formats: which scale a value, which make a date, and how a cell looks."""

from __future__ import annotations

import datetime as dt

import pytest

from shinchoku import numfmt


@pytest.mark.parametrize("code, kind", [
    ("General", numfmt.NUMBER), ("0", numfmt.NUMBER), ("#,##0", numfmt.NUMBER), ("0.00E+00", numfmt.NUMBER),
    ("0%", numfmt.PERCENT), ("0.0%", numfmt.PERCENT), ("#,##0.00%;[Red]-#,##0.00%", numfmt.PERCENT),
    ("[$-411]0.0%", numfmt.PERCENT), ("[Red]0.0%", numfmt.PERCENT),
    ('0.0"%"', numfmt.NUMBER), ("0.0\\%", numfmt.NUMBER), ('[$-411]0.0"%";[Red]-0.0"%"', numfmt.NUMBER),
    ('#,##0"人"', numfmt.NUMBER), ('"達成率"0.0%', numfmt.PERCENT),
    ("yyyy/m/d", numfmt.DATE), ("YYYY/M/D", numfmt.DATE), ("[$-F800]dddd, mmmm dd, yyyy", numfmt.DATE),
    ('[$-ja-JP-x-gannen]ggge"年"m"月"d"日"', numfmt.DATE), ('[$-411]ggge"年"m"月"d"日"', numfmt.DATE),
    ("[h]:mm:ss", numfmt.DATE), ("h:mm", numfmt.DATE), ("@", numfmt.TEXT), ('"Red"0', numfmt.NUMBER),
])
def test_kind_of_a_format_code(code, kind):
    assert numfmt.kind(code) == kind


def test_the_section_that_applies_decides():
    code = '0.0%;0.0"%"'  # negatives shown with a literal % sign, unscaled
    assert numfmt.kind(code, 0.5) == numfmt.PERCENT
    assert numfmt.kind(code, -0.5) == numfmt.NUMBER


@pytest.mark.parametrize("fmt_id, kind", [(9, numfmt.PERCENT), (10, numfmt.PERCENT), (49, numfmt.TEXT), (3, numfmt.NUMBER)]
                         + [(i, numfmt.DATE) for i in [*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59)]])
def test_built_in_format_ids(fmt_id, kind):
    assert numfmt.kind(numfmt.BUILTIN[fmt_id]) == kind


@pytest.mark.parametrize("serial, date1904, expected", [
    (45351, False, dt.datetime(2024, 2, 29)), (43889, True, dt.datetime(2024, 2, 29)),
    (1, False, dt.datetime(1900, 1, 1)), (59, False, dt.datetime(1900, 2, 28)), (61, False, dt.datetime(1900, 3, 1)),
    (0, True, dt.datetime(1904, 1, 1)), (45351.5, False, dt.datetime(2024, 2, 29, 12)),
])
def test_serial_dates_in_both_systems(serial, date1904, expected):
    assert numfmt.serial_to_datetime(serial, date1904) == expected


@pytest.mark.parametrize("serial", [60, 0, -1, 3e6])
def test_serials_that_name_no_day(serial):
    assert numfmt.serial_to_datetime(serial) is None


@pytest.mark.parametrize("value, code, shown", [
    (0.71234, "0.0%", "71.2%"), (0.615, "0.00%", "61.50%"), (1234.0, "#,##0", "1,234"), (48.2, '0.0"%"', "48.2%"),
    (140.0, "General", "140"), (0.1 + 0.2, "General", "0.3"), (1234.5, '#,##0.0"人"', "1,234.5人"),
    (dt.datetime(2024, 2, 29), "yyyy/m/d", "2024/2/29"), (dt.datetime(2024, 2, 29), '[$-411]ggge"年"m"月"d"日"', "令和6年2月29日"),
    (dt.datetime(2019, 5, 1), '[$-411]ggge"年"m"月"d"日"', "令和元年5月1日"), ("約 140 人", "General", "約 140 人"),
])
def test_display(value, code, shown):
    assert numfmt.display(value, code) == shown
