"""Number formats: which scale a value, which make a date, and how a cell looks."""

from __future__ import annotations

import datetime as dt

import pytest

from shinchoku.workbook import numfmt


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
    (dt.datetime(2019, 5, 1), '[$-411]ggge"年"m"月"d"日"', "令和1年5月1日"),
    (dt.datetime(2019, 5, 1), '[$-ja-JP-x-gannen]ggge"年"m"月"d"日"', "令和元年5月1日"), ("約 140 人", "General", "約 140 人"),
])
def test_display(value, code, shown):
    assert numfmt.display(value, code) == shown


# As LibreOffice Calc shows them in ja-JP (tests/oracle.py); test_display_oracle.py checks a thousand more.
@pytest.mark.parametrize("value, code, shown", [
    (1234, "0.00E+00", "1.23E+03"), (0.00123, "##0.0E+0", "1.2E-3"), (0.125, "##0.0E+0", "125.0E-3"),
    (0.5, "# ?/?", " 1/2"), (123.456, "# ?/?", "123 4/9"), (0, "# ??/??", "0      "), (2.5, "?/?", "5/2"),
    (61, "[Blue]General", "61"), (-0.5, "[Blue]General", "-0.5"),
    (48441, "#,##0,", "48"), (1200, '#,##0,"千人"', "1千人"), (123456789, "#,##0,,", "123"),
    (0, '#,##0;-#,##0;"-"', "-"), (-1234.5, '#,##0;-#,##0;"-"', "-1,235"), (-1234.5, "#,##0;△#,##0", "△1,235"),
    (-0.0004, "0.0", "0.0"), (2.5, "0", "3"), (0.615, "0.00", "0.62"), (0.125, "0%", "13%"),
    (5, ";;;", ""), (-5, ";;;", ""),
    (0, '_ * #,##0_ ;_ * -#,##0_ ;_ * "-"_ ;_ @_ ', " - "), (-1234.5, '_ "¥"* #,##0_ ;_ "¥"* -#,##0_ ;_ "¥"* "-"_ ;_ @_ ', " ¥-1,235 "),
    ("文字", '_ * #,##0_ ;_ * -#,##0_ ;_ * "-"_ ;_ @_ ', " 文字 "), (-48441, '"¥"#,##0', "-¥48,441"),
    (1500000, "[$¥-411]#,##0", "¥1,500,000"), (80938, '[>=1000]#,##0,"千";0', "81千"), (3.14, '[>=1000]#,##0,"千";0', "3"),
    (-1234.5, '[<0]"減"0;"増"0', "減1235"), (0.482, '0.0"%"', "0.5%"), (1200, "000000", "001200"), (7, "#.##", "7"),
    (1234567.891, '000"-"0000', "123-4568"),
    (3.142857142857143, "General", "3.14285714285714"), (1e16, "General", "1E+016"), (1.5e-10, "General", "1.5E-10"),
    (0.000012345, "General", "0.000012345"), (1e15, "General", "1000000000000000"), (True, "General", "TRUE"),
    (0.6, "h:mm", "14:24"), (0.6, "h:mm AM/PM", "2:24 午後"), (1.75, "[h]:mm:ss", "42:00:00"),
    (0.3333333333333333, "h:mm:ss", "8:00:00"), (0.999988, "h:mm:ss", "23:59:58"), (0, 'h"時"mm"分"', "0時00分"),
    (dt.datetime(2024, 2, 29), "d-mmm-yy", "29-2月-24"), (dt.datetime(2024, 2, 29), "[$-411]ge.m.d", "R6.2.29"),
    (dt.datetime(2024, 2, 29), 'm"月"d"日"(aaa)', "2月29日(木)"), (dt.datetime(2024, 2, 29), 'ggge"年度"', "令和6年度"),
    (dt.datetime(2024, 2, 29, 13, 5), "yyyy/m/d h:mm", "2024/2/29 13:05"), (45351, "yyyy/m/d", "2024/2/29"),
])
def test_display_as_calc_shows_it(value, code, shown):
    assert numfmt.display(value, code) == shown
