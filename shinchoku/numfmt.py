"""Excel number formats: what a format does to the value a person sees.

Two questions matter to shinchoku. Does the format scale the stored number
(a percentage shows 0.482 as 48.2%), or turn it into a date? And how does the
cell look, so that ``check`` can show a department what it typed beside what
was read. Only scaling changes a value; rounding never does (0.71234 shown as
71.2% is read as 71.234).
"""

from __future__ import annotations

import datetime as dt
import functools
import re

# Built-in formats (ECMA-376 Part 1, 18.8.30), as Japanese Excel shows them: a workbook
# refers to these by id alone, with no <numFmt> entry. Ids 27-36 and 50-58 are the
# East Asian (ja-JP) date and era formats.
_ERA_DATE = '[$-411]ge.m.d'
_ERA_LONG = '[$-411]ggge"年"m"月"d"日"'
_YEAR_MONTH = 'yyyy"年"m"月"'
_MONTH_DAY = 'm"月"d"日"'
BUILTIN = {
    0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00",
    5: '"¥"#,##0;"¥"\\-#,##0', 6: '"¥"#,##0;[Red]"¥"\\-#,##0', 7: '"¥"#,##0.00;"¥"\\-#,##0.00',
    8: '"¥"#,##0.00;[Red]"¥"\\-#,##0.00',
    9: "0%", 10: "0.00%", 11: "0.00E+00", 12: "# ?/?", 13: "# ??/??",
    14: "yyyy/m/d", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy", 18: "h:mm AM/PM", 19: "h:mm:ss AM/PM",
    20: "h:mm", 21: "h:mm:ss", 22: "yyyy/m/d h:mm",
    27: _ERA_DATE, 28: _ERA_LONG, 29: _ERA_LONG, 30: "m/d/yy", 31: 'yyyy"年"m"月"d"日"',
    32: 'h"時"mm"分"', 33: 'h"時"mm"分"ss"秒"', 34: _YEAR_MONTH, 35: _MONTH_DAY, 36: _ERA_DATE,
    37: "#,##0 ;(#,##0)", 38: "#,##0 ;[Red](#,##0)", 39: "#,##0.00;(#,##0.00)", 40: "#,##0.00;[Red](#,##0.00)",
    45: "mm:ss", 46: "[h]:mm:ss", 47: "mm:ss.0", 48: "##0.0E+0", 49: "@",
    50: _ERA_DATE, 51: _ERA_LONG, 52: _YEAR_MONTH, 53: _MONTH_DAY, 54: _ERA_LONG, 55: _YEAR_MONTH,
    56: _MONTH_DAY, 57: _ERA_DATE, 58: _ERA_LONG,
}

PERCENT, DATE, TEXT, NUMBER = "percent", "date", "text", "number"

# Literal text ("..."), escaped characters (\x, and _x / *x padding) and bracketed
# codes ([Red], [$-411], [>=100]) show or steer, but never scale or date a value.
_LITERALS = re.compile(r'"[^"]*"|\\.|[_*].|\[[^\]]*\]')
_ELAPSED = re.compile(r"\[(?:h+|m+|s+)\]", re.IGNORECASE)
_SCIENTIFIC = re.compile(r"E[+-]", re.IGNORECASE)
_DATE_LETTERS = re.compile(r"[ymdhsgeb]", re.IGNORECASE)


def sections(code: str) -> list[str]:
    """The ;-separated sections of a format code, ignoring ; inside quotes and escapes."""
    parts, current, i = [], [], 0
    while i < len(code):
        ch = code[i]
        if ch == '"':
            end = code.find('"', i + 1)
            end = len(code) - 1 if end < 0 else end
            current.append(code[i:end + 1])
            i = end + 1
            continue
        if ch == "\\" and i + 1 < len(code):
            current.append(code[i:i + 2])
            i += 2
            continue
        if ch == ";":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def _section_for(code: str, value: float | None) -> str:
    parts = sections(code)
    if value is not None and len(parts) > 1:
        if value < 0:
            return parts[1]
        if value == 0 and len(parts) > 2:
            return parts[2]
    return parts[0]


def kind(code: str, value: float | None = None) -> str:
    """What a format does to a number: PERCENT (x100), DATE (a serial date), TEXT (@) or NUMBER."""
    if code == "General":
        return NUMBER
    sign = 0 if value is None or value > 0 else (-1 if value < 0 else 2)
    return _kind(code, sign)


@functools.lru_cache(maxsize=1024)
def _kind(code: str, sign: int) -> str:
    section = _section_for(code, {0: None, -1: -1.0, 2: 0.0}[sign])
    if _ELAPSED.search(section):
        return DATE
    bare = _LITERALS.sub("", section)
    if "%" in bare:
        return PERCENT
    if bare.strip() == "@":
        return TEXT
    bare = _SCIENTIFIC.sub("", bare.replace("General", "").replace("general", ""))
    if _DATE_LETTERS.search(bare):
        return DATE
    return NUMBER


def serial_to_datetime(serial: float, date1904: bool = False) -> dt.datetime | None:
    """An Excel serial date as a datetime, in either date system; None when out of range.

    The 1900 system counts the non-existent 29 February 1900 as day 60 (Lotus 1-2-3's
    bug, kept by Excel), so serials from 61 on are one day ahead of a plain count.
    """
    if serial < 0 or serial >= 2958466:  # 10000-01-01
        return None
    if date1904:
        base = dt.datetime(1904, 1, 1)
    elif serial >= 61:
        base = dt.datetime(1899, 12, 30)
    elif 1 <= serial < 60:
        base = dt.datetime(1899, 12, 31)
    else:
        return None  # 0 and 60 name no real day
    return base + dt.timedelta(days=serial)


_ERA_START = ((dt.date(2019, 5, 1), "令和"), (dt.date(1989, 1, 8), "平成"), (dt.date(1926, 12, 25), "昭和"))


def _era(date: dt.date) -> str:
    for start, name in _ERA_START:
        if date >= start:
            year = date.year - start.year + 1
            return f"{name}{'元' if year == 1 else year}年"
    return f"{date.year}年"


def _decimals(section: str) -> int:
    bare = _LITERALS.sub("", section)
    if "." not in bare:
        return 0
    return sum(1 for ch in bare.split(".", 1)[1] if ch in "0#?")


def _affixes(section: str) -> tuple[str, str]:
    """Literal text before and after the digits: "¥"#,##0 -> ('¥', ''), 0.0"%" -> ('', '%')."""
    pieces = re.findall(r'"([^"]*)"|\\(.)|(\[[^\]]*\]|[_*].)|([0#?.,%Ee+\-])|(.)', section)
    before, after, seen_digits = [], [], False
    for quoted, escaped, _skipped, digit, other in pieces:
        if digit:
            seen_digits = seen_digits or digit in "0#?"
            continue
        text = quoted or escaped or (other if other not in " " else "")
        (after if seen_digits else before).append(text)
    return "".join(before), "".join(after)


def display(value, code: str = "General") -> str:
    """The cell as a spreadsheet application shows it, near enough for a person to compare."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime) or isinstance(value, dt.date):
        date = value.date() if isinstance(value, dt.datetime) else value
        if "g" in _LITERALS.sub("", code).lower():
            return f"{_era(date)}{date.month}月{date.day}日"
        if "年" in code:
            return f"{date.year}年{date.month}月{date.day}日"
        text = f"{date.year}/{date.month}/{date.day}"
        if isinstance(value, dt.datetime) and value.time() != dt.time(0):
            text += f" {value.hour}:{value.minute:02d}"
        return text
    if not isinstance(value, (int, float)):
        return str(value)
    how = kind(code, value)
    section = _section_for(code, value)
    if how == TEXT or code in ("General", "") or how == DATE:
        return _general(value)
    number = value * 100 if how == PERCENT else value
    if len(sections(code)) > 1 and value < 0:
        number = -number  # the negative section writes its own sign
    decimals = _decimals(section)
    grouped = "," in _LITERALS.sub("", section).split(".")[0]
    text = f"{number:,.{decimals}f}" if grouped else f"{number:.{decimals}f}"
    before, after = _affixes(section)
    return f"{before}{text}{after}{'%' if how == PERCENT and '%' not in after else ''}"


def _general(value: float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"
