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
from typing import NamedTuple

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


# ---- Tokens: what each piece of a section does ----
# A section is read left to right into tokens. Kinds:
#   LITERAL  text shown as it is ("件", \-, ¥, a space, [$¥-411]'s ¥)
#   DIGIT    a digit placeholder: 0 # ?
#   POINT    the decimal point
#   COMMA    a comma: grouping between digit placeholders, scaling (÷1000) after the last one
#   PERCENT  % (x100)
#   EXPONENT E+ E- e+ e- (scientific)
#   SLASH    / between digit placeholders (a fraction)
#   DATE     a run of one date/time letter (yyyy, m, d, h, ss, ggg, e, AM/PM, A/P)
#   ELAPSED  [h] [mm] [ss]
#   GENERAL  General
#   TEXT     @ (the cell's text)
#   PAD      _x: a space the width of x
#   FILL     *x: x repeated to fill the column
#   COLOR    [Red], [Color10]
#   LOCALE   [$-411], [$¥-411] (a currency symbol, if any, comes as a LITERAL after it)
#   CONDITION [>=1000]
LITERAL, DIGIT, POINT, COMMA, PERCENT_SIGN, EXPONENT, SLASH = "literal", "digit", "point", "comma", "percent", "exponent", "slash"
DATE_CODE, ELAPSED, GENERAL, TEXT_CODE, PAD, FILL = "date", "elapsed", "general", "text", "pad", "fill"
COLOR, LOCALE, CONDITION = "color", "locale", "condition"


class Token(NamedTuple):
    """One piece of a format section: its kind and its text (a literal's shown text, a code's letters)."""

    kind: str
    text: str


_COLORS = {"black", "blue", "cyan", "green", "magenta", "red", "white", "yellow"}
_CONDITION = re.compile(r"^(<=|>=|<>|<|>|=)\s*(-?[0-9.]+(?:[eE][+-]?[0-9]+)?)$")
_DATE_RUN = re.compile(r"am/pm|a/p|上午/下午|([ymdhsgeb])\1*", re.IGNORECASE)


@functools.lru_cache(maxsize=1024)
def tokens(section: str) -> tuple[Token, ...]:
    """A section's tokens, in order. Never raises: an unknown character is a literal."""
    out: list[Token] = []
    i, n = 0, len(section)
    while i < n:
        ch = section[i]
        if ch == '"':
            end = section.find('"', i + 1)
            end = n if end < 0 else end
            out.append(Token(LITERAL, section[i + 1:end]))
            i = end + 1
        elif ch == "\\" and i + 1 < n:
            out.append(Token(LITERAL, section[i + 1]))
            i += 2
        elif ch in "_*" and i + 1 < n:
            out.append(Token(PAD if ch == "_" else FILL, section[i + 1]))
            i += 2
        elif ch == "[":
            end = section.find("]", i + 1)
            end = n if end < 0 else end
            out.extend(_bracket(section[i + 1:end]))
            i = end + 1
        elif section[i:i + 7].lower() == "general":
            out.append(Token(GENERAL, section[i:i + 7]))
            i += 7
        elif ch in "0#?":
            out.append(Token(DIGIT, ch))
            i += 1
        elif ch == ".":
            out.append(Token(POINT, ch))
            i += 1
        elif ch == ",":
            out.append(Token(COMMA, ch))
            i += 1
        elif ch == "%":
            out.append(Token(PERCENT_SIGN, ch))
            i += 1
        elif ch in "Ee" and i + 1 < n and section[i + 1] in "+-":
            out.append(Token(EXPONENT, section[i:i + 2]))
            i += 2
        elif ch == "/" and out and out[-1].kind == DIGIT:
            out.append(Token(SLASH, ch))
            i += 1
        elif ch == "@":
            out.append(Token(TEXT_CODE, ch))
            i += 1
        elif (match := _DATE_RUN.match(section, i)) is not None:
            out.append(Token(DATE_CODE, match.group(0)))
            i = match.end()
        else:
            out.append(Token(LITERAL, ch))
            i += 1
    return tuple(out)


def _bracket(inner: str) -> list[Token]:
    low = inner.lower()
    if low in _COLORS or re.fullmatch(r"color\s*[0-9]{1,2}", low):
        return [Token(COLOR, inner)]
    if re.fullmatch(r"h+|m+|s+", low):
        return [Token(ELAPSED, inner)]
    if _CONDITION.match(inner.strip()):
        return [Token(CONDITION, inner.strip())]
    if inner.startswith("$"):
        symbol = inner[1:].split("-", 1)[0]
        return [Token(LOCALE, inner)] + ([Token(LITERAL, symbol)] if symbol else [])
    return [Token(LOCALE, inner)]  # [DBNum1], [natnum1] and the like: shown as they are, never scaling


def condition_holds(condition: str, value: float) -> bool:
    """Whether a section's [condition] (e.g. >=1000) holds for a value."""
    match = _CONDITION.match(condition)
    if not match:
        return False
    op, bound = match.group(1), float(match.group(2))
    return {"<": value < bound, "<=": value <= bound, ">": value > bound, ">=": value >= bound,
            "=": value == bound, "<>": value != bound}[op]


def section_for(code: str, value: float) -> tuple[str, bool]:
    """The section a number is shown with, and whether that section writes the sign itself.

    Without conditions: one section for all; two: positive and zero, negative; three or four:
    positive, negative, zero (text). A negative number in a section of its own is shown without
    its minus sign: the section's literals (-, △, ▲, parentheses) carry it. With [conditions],
    the first section whose condition holds; the third (or the second, when only the first has
    one) otherwise.
    """
    parts = sections(code)
    conditions = [next((t.text for t in tokens(p) if t.kind == CONDITION), None) for p in parts]
    if any(conditions[:2]):
        for part, cond in zip(parts[:2], conditions[:2]):
            if cond is not None and condition_holds(cond, value):
                return part, value < 0 and cond is not None and not condition_holds(cond, 0.0) and _writes_sign(cond)
        rest = [p for p, c in zip(parts, conditions) if c is None]
        return (rest[0], False) if rest else (parts[-1], False)
    if len(parts) == 1 or value > 0 or (value == 0 and len(parts) == 2):
        return parts[0], False
    if value < 0:
        return parts[1], True
    return parts[2], False


def _writes_sign(condition: str) -> bool:
    """A section chosen by a condition that only negatives meet (<0, <=-1) writes its own sign."""
    match = _CONDITION.match(condition)
    return bool(match) and match.group(1) in ("<", "<=") and float(match.group(2)) <= 0


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
