"""What departments type, parsed as a careful human would read it."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings, strategies as st

from shinchoku.workbook.parse import is_blank, parse_as_of, parse_fiscal_year, parse_value


@pytest.mark.parametrize("raw, unit, expected", [
    (48.2, "%", 48.2),
    (525, "経営体", 525),
    ("４８．２", "%", 48.2),
    ("1,234", "人", 1234),
    ("１，２３４", "人", 1234),
    ("236人", "人", 236),
    ("236名", "人", 236),
    ("48.2%", "%", 48.2),
    ("48.2 ％", "%", 48.2),
    ("61.5パーセント", "%", 61.5),  # it was unit_mismatch: refused though it says what % says
    ("146.1万件", "万件", 146.1),
    ("1,461,000件", "万件", 146.1),
    ("25,000,000枚", "百万枚", 25),
    ("27,000千円", "円", 27_000_000),
    ("27,000千円", "千円", 27_000),
    ("2,700万円", "千円", 27_000),
    ("△5", "件", -5),
    ("▲1,200", "千円", -1200),
    ("約962時間", "時間", 962),
    ("10,000ダウンロード", "ダウンロード", 10000),
    ("1.23E+03", "件", 1230),  # as a spreadsheet shows a number in scientific form
    ("¥1,234", "円", 1234),  # as the yen formats show a number
    ("￥27,000", "千円", 27),
    ("1 234 人", "人", 1234),  # spaces grouping thousands
])
def test_values_that_parse(raw, unit, expected):
    result = parse_value(raw, unit)
    assert result.error is None
    assert result.value == pytest.approx(expected)


def test_approximate_is_flagged():
    assert parse_value("約962", "時間").approximate
    assert not parse_value("962", "時間").approximate


def test_percent_format_uses_the_cell_format_not_the_size():
    assert parse_value(0.482, "%", "0.0%").value == pytest.approx(48.2)
    assert parse_value(0.482, "%").value == pytest.approx(0.482)
    assert parse_value(1.05, "%", "0%").value == pytest.approx(105)  # then out of range
    assert parse_value(0.5, "件", "0.0%").error == "unit_mismatch"


@pytest.mark.parametrize("raw, unit, fmt, expected, format_unit", [
    (1461000.0, "万件", '#,##0"件"', 146.1, "件"),  # the cell shows 1,461,000件
    (38000000.0, "百万枚", '#,##0"枚"', 38, "枚"),
    (4.8441, "件", '0.0000"万件"', 48441, "万件"),
    (27000.0, "円", '#,##0"千円"', 27_000_000, "千円"),
    (1200.0, "人", '#,##0,"千人"', 1200, "千人"),  # shows 1千人: scaled and explained by its unit
    (25_000_000.0, "百万枚", '#,##0.0,,"百万枚"', 25, "百万枚"),
    (-5.0, "件", "#,##0;△#,##0", -5, None),
    (-1200.0, "千円", "#,##0;▲#,##0", -1200, None),
    (1234.0, "円", '"¥"#,##0', 1234, "円"),
    (1234.0, "円", "[$¥-411]#,##0", 1234, "円"),
    (61.0, "%", "[Blue]General", 61, None),
    (1234.0, "件", "0.00E+00", 1234, None),  # 1.23E+03: the stored number, within the display's rounding
    (0.71234, "%", "0.0%", 71.234, None),  # scaling counts, rounding never does
    (140.0, "人", '"約"0"人"', 140, "人"),
    (140.0, "人", '0"(速報)"', 140, None),  # a mark in the format is no unit
])
def test_a_number_reads_through_its_format_as_a_person_reads_it(raw, unit, fmt, expected, format_unit):
    result = parse_value(raw, unit, fmt)
    assert result.error is None
    assert result.value == pytest.approx(expected)
    assert result.format_unit == format_unit


@pytest.mark.parametrize("raw, unit, fmt, code", [
    (48441.0, "件", "#,##0,", "scaled_display"),  # shows 48: the display hides the magnitude
    (48441.0, "件", "#,##0,,", "scaled_display"),
    (48441.0, "件", '#,##0,"件"', "scaled_display"),  # 48件: the unit does not explain the scaling
    (1461000.0, "万件", '#,##0,"万件"', "scaled_display"),
    (0.0, "件", '#,##0;-#,##0;"-"', "shown_as_text"),
    (0.0, "件", '_ * #,##0_ ;_ * -#,##0_ ;_ * "-"_ ;_ @_ ', "shown_as_text"),
    (0.0, "件", '#,##0;△#,##0;"未集計"', "shown_as_text"),
    (5.0, "件", ";;;", "hidden_value"),
    (-5.0, "件", "0;", "hidden_value"),
    (-5.0, "件", "0;0", "sign_hidden"),
    (0.5, "人", "h:mm", "time_value"),
    (0.5208333, "人", "HH:MM", "time_value"),
    (0.5, "人", "[h]:mm:ss", "time_value"),
    (dt.datetime(1900, 1, 1, 12), "人", "[h]:mm", "time_value"),
    (0.5, "人", "# ?/?", "display_unreadable"),
    (-5.0, "件", "#,##0_);[Red](#,##0)", "display_unreadable"),  # (5): the accounting negative
    (17.5, "百万枚", '#,##0.0,,"百万枚"', "rounded_to_zero"),  # shows 0.0百万枚
    (400.0, "百万枚", '#,##0,"千枚"', "rounded_to_zero"),  # shows 0千枚
    (-0.04, "人", "0.0", "rounded_to_zero"),
    (12.0, "人", "[DBNum1]0", "display_unreadable"),  # 十二: kanji numerals
    (1461000.0, "%", '#,##0"件"', "unit_mismatch"),
    (float("inf"), "人", "General", "value_too_large"),
    ("9" * 400, "人", "General", "value_too_large"),
])
def test_a_display_that_hides_or_changes_the_number_is_refused(raw, unit, fmt, code):
    assert parse_value(raw, unit, fmt).error == code


@pytest.mark.parametrize("raw", [None, "", "  ", "-", "－", "―", "ー", "\u3000"])
def test_blank_and_dashes_mean_not_reported(raw):
    assert is_blank(raw)
    result = parse_value(raw, "人")
    assert result.missing and result.error is None


@pytest.mark.parametrize("raw, unit, code", [
    ("集計中", "人", "value_not_number"),
    ("12a", "人", "unit_mismatch"),
    ("48,2", "%", "value_not_number"),  # a decimal comma is ambiguous: never read as 482
    ("1.2.3", "人", "value_not_number"),
    ("236件", "人", "unit_mismatch"),
    ("48.2%", "人", "unit_mismatch"),
    ("40枚", "件", "unit_mismatch"),
    (True, "人", "value_not_number"),
    (dt.date(2024, 1, 1), "人", "value_not_number"),
    (float("nan"), "人", "value_too_large"),
    ("4 0", "百万枚", "value_not_number"),  # spaces between digits are a typo, not a number
    ("1 2 1", "人", "value_not_number"),
    ("12 34", "人", "value_not_number"),
    ("140～150人", "人", "value_not_number"),  # text around a number is no unit
    ("４万８千件", "件", "value_not_number"),
    ("1、200", "人", "value_not_number"),
])
def test_values_that_are_rejected(raw, unit, code):
    assert parse_value(raw, unit).error == code


@given(st.one_of(st.text(max_size=40), st.floats(allow_nan=True, allow_infinity=True), st.integers(),
                 st.none(), st.booleans(), st.dates()),
       st.sampled_from(["%", "人", "万件", "百万枚", "千円", "経営体", "ダウンロード", ""]),
       st.sampled_from(["General", "0.0%", '#,##0"件"', "#,##0,", '#,##0,"千人"', ";;;", "h:mm", "# ?/?",
                        '#,##0;△#,##0;"-"', "0.00E+00", "[>=1000]#,##0,\"千\";0", "yyyy/m/d", "@", '"¥"#,##0']))
@settings(max_examples=600, deadline=None)
def test_value_parser_never_raises(raw, unit, fmt):
    result = parse_value(raw, unit, fmt)
    assert (result.value is None) or isinstance(result.value, float)
    assert result.error in (None, "value_not_number", "unit_mismatch", "scaled_display", "hidden_value", "shown_as_text",
                            "sign_hidden", "time_value", "display_unreadable", "value_too_large", "rounded_to_zero")
    if result.error:
        assert result.value is None


@pytest.mark.parametrize("raw, year", [
    (2023, 2023), (2023.0, 2023), ("2023", 2023), ("2023年度", 2023), ("R5", 2023), ("Ｒ５", 2023),
    ("令和5年度", 2023), ("令和５年度", 2023), ("R 5", 2023), ("r5", 2023), ("R5年度", 2023),
    ("令和元年度", 2019), ("H30", 2018), ("平成30年度", 2018), ("平成元年度", 1989),
])
def test_fiscal_years(raw, year):
    assert parse_fiscal_year(raw) == year


@pytest.mark.parametrize("raw", ["", "来年度", "R", "5", 5, 2023.5, None, "令和", "2023/4/1"])
def test_fiscal_years_rejected(raw):
    assert parse_fiscal_year(raw) is None


@pytest.mark.parametrize("raw, fy, expected", [
    (dt.datetime(2024, 2, 29), 2023, dt.date(2024, 2, 29)),
    (dt.date(2024, 2, 29), 2023, dt.date(2024, 2, 29)),
    ("2024/2/29", 2023, dt.date(2024, 2, 29)),
    ("R6.2.29", 2023, dt.date(2024, 2, 29)),
    ("令和6年2月29日", 2023, dt.date(2024, 2, 29)),
    ("2月末現在", 2021, dt.date(2022, 2, 28)),
    ("(2/15現在)", 2021, dt.date(2022, 2, 15)),
    ("2/15現在", 2021, dt.date(2022, 2, 15)),
    ("9月末", 2021, dt.date(2021, 9, 30)),
    ("2月末現在", 2023, dt.date(2024, 2, 29)),
])
def test_as_of_dates(raw, fy, expected):
    assert parse_as_of(raw, fy).value == expected


def test_as_of_blank_and_errors():
    assert parse_as_of(None, 2021).value is None and parse_as_of("", 2021).error is None
    assert parse_as_of("2024/2/30", 2023).error == "bad_as_of"
    assert parse_as_of("そのうち", 2023).error == "bad_as_of"
    assert parse_as_of("2月末", None).error == "bad_as_of"
    assert parse_as_of(45351, 2023).error == "bad_as_of"


@pytest.mark.parametrize("raw, unit, expected", [
    ("約 140 人", "人", 140),
    ("約\u3000140\u3000人", "人", 140),
    ("48.2 %", "%", 48.2),
    ("４８．２　％", "%", 48.2),
    ("△ 5", "件", -5),
    ("▲\u00a01,200", "千円", -1200),
    ("1\u00a0234 人", "人", 1234),
    ("48 . 2", "%", 48.2),
])
def test_spacing_anywhere_inside_a_value(raw, unit, expected):
    result = parse_value(raw, unit)
    assert result.error is None and result.value == pytest.approx(expected)


@pytest.mark.parametrize("raw", ["令和 5 年度", "R 5", "令和\u30005\u3000年度", "Ｒ\u00a0５", "2023 年度"])
def test_spacing_inside_a_fiscal_year(raw):
    assert parse_fiscal_year(raw) == 2023


@pytest.mark.parametrize("raw, unit, value, year, as_of, mark", [
    ("1,187時間(R3年度(2月末現在))", "時間", 1187, 2021, "2月末現在", None),
    ("132(2月末現在)", "件", 132, None, "2月末現在", None),
    ("132（2月末現在）", "件", 132, None, "2月末現在", None),
    ("61.0%(速報)", "%", 61, None, None, "速報"),
    ("61.0%（見込）", "%", 61, None, None, "見込"),
    ("61.0% (暫定)", "%", 61, None, None, "暫定"),
    ("61.0%(速報)(2月末現在)", "%", 61, None, "2月末現在", "速報"),
    ("61.0%(2月末現在)(速報)", "%", 61, None, "2月末現在", "速報"),
    ("約 61 % （速報）", "%", 61, None, None, "速報"),
    ("140(R5年度)", "人", 140, 2023, None, None),
])
def test_what_parentheses_after_a_value_say(raw, unit, value, year, as_of, mark):
    result = parse_value(raw, unit)
    assert result.error is None
    assert (result.value, result.value_year, result.as_of_text, result.provisional) == (pytest.approx(value), year, as_of, mark)


@pytest.mark.parametrize("raw", ["61(本庁分)", "61(", "61)", "61(速報", "61()", "61(R3年度)(R4年度)", "61(2月末)(3月末)",
                                 "61(R3年度(本庁))"])
def test_any_other_trailing_text_is_not_a_number(raw):
    assert parse_value(raw, "%").error == "value_not_number"


PERCENT_FORMATS = ["0%", "0.0%", "0.00%", "#,##0.0%", "0.0%;[Red]-0.0%", "[$-411]0.0%", "0.000%"]


@given(st.decimals(min_value=0, max_value=100, places=3, allow_nan=False, allow_infinity=False),
       st.sampled_from(PERCENT_FORMATS))
@settings(max_examples=60, deadline=None)
def test_a_percent_formatted_cell_reads_as_the_same_text(tmp_path_factory, value, number_format):
    """0.482 shown with any percent format, and the text '48.2%', are one value: through the real reader."""
    from decimal import Decimal

    from openpyxl import Workbook

    from shinchoku.workbook.layout import HEADER
    from shinchoku.config import Limits
    from shinchoku.workbook.reader import read_workbook

    wb = Workbook()
    ws = wb.active
    ws.append(list(HEADER))
    ws.append(["GOV-K01", "", "%", 2022, float(Decimal(value) / 100), None, None])
    ws.append(["GOV-K01", "", "%", 2023, f"{value}%", None, None])
    ws["E2"].number_format = number_format
    path = tmp_path_factory.mktemp("pct") / "p.xlsx"
    wb.save(path)
    as_cell, as_text = read_workbook(path, Limits()).table.rows
    if not any(ch in "123456789" for ch in as_cell.shown):  # 0.001% in 0%: shown as 0%, so refused
        assert parse_value(as_cell.cells["実績値"], "%", as_cell.fmt).error == ("rounded_to_zero" if value else None)
        return
    read_cell = parse_value(as_cell.cells["実績値"], "%", as_cell.fmt)
    read_text = parse_value(as_text.cells["実績値"], "%", as_text.fmt)
    assert read_cell.percent and not read_text.percent
    assert read_cell.value == read_text.value == float(value)
