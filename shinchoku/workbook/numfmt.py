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
import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
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
    41: '_ * #,##0_ ;_ * \\-#,##0_ ;_ * "-"_ ;_ @_ ', 42: '_ "¥"* #,##0_ ;_ "¥"* \\-#,##0_ ;_ "¥"* "-"_ ;_ @_ ',
    43: '_ * #,##0.00_ ;_ * \\-#,##0.00_ ;_ * "-"??_ ;_ @_ ', 44: '_ "¥"* #,##0.00_ ;_ "¥"* \\-#,##0.00_ ;_ "¥"* "-"??_ ;_ @_ ',
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
_DATE_RUN = re.compile(r"am/pm|a/p|上午/下午|a{3,4}|([ymdhsgeb])\1*", re.IGNORECASE)


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
        # LibreOffice shows a negative number in the section left over without its minus
        # ([<=-1]"減"0;0 shows -0.5 as 1).
        return (rest[0], value < 0) if rest else (parts[-1], value < 0)
    if len(parts) == 1 or value > 0 or (value == 0 and len(parts) == 2):
        return parts[0], False
    if value < 0:
        return parts[1], True
    return parts[2], False


def _writes_sign(condition: str) -> bool:
    """A section chosen by a condition that only negatives meet (<0, <=-1) writes its own sign."""
    match = _CONDITION.match(condition)
    return bool(match) and match.group(1) in ("<", "<=") and float(match.group(2)) == 0


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


# ---- Display: the cell as LibreOffice Calc shows it in a ja-JP locale (tests/oracle.py) ----

# (first day, name, initial); LibreOffice counts Meiji from 1868-01-01 in the Gregorian calendar.
_ERAS = ((dt.date(2019, 5, 1), "令和", "R"), (dt.date(1989, 1, 8), "平成", "H"), (dt.date(1926, 12, 25), "昭和", "S"),
         (dt.date(1912, 7, 30), "大正", "T"), (dt.date(1868, 1, 1), "明治", "M"))
_WEEKDAYS = "月火水木金土日"
_SERIAL_BASE = dt.datetime(1899, 12, 30)
_PLAIN = {LITERAL, PAD, FILL, COLOR, LOCALE, CONDITION}


def _era(date: dt.date) -> tuple[str, str, int]:
    """(era name, its initial, year in the era); before Meiji, the Gregorian year."""
    for start, name, initial in _ERAS:
        if date >= start:
            return name, initial, date.year - start.year + 1
    return "", "", date.year


def _literal(token: Token) -> str:
    """What a token that is not a number or date code shows: literals as they are, _x a space,
    *x nothing (LibreOffice's export fills no column), colours, locales and conditions nothing."""
    if token.kind == LITERAL:
        return token.text
    if token.kind == PAD:
        return " "
    return ""


def display(value, code: str = "General") -> str:
    """The cell as a spreadsheet application shows it: LibreOffice Calc's text in a ja-JP locale.

    Numbers are rounded half away from zero on their decimal value; sections are chosen by sign
    and by [conditions]; a negative section writes its own sign; _x pads one space and *x fills
    nothing. Dates (a datetime, or a serial under a date format) follow the date codes.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    try:
        with localcontext(_DECIMALS):
            return _display(value, code or "General")
    except (ArithmeticError, ValueError, LookupError):  # a format no application would save: never fail a read
        return _general(value) if isinstance(value, (int, float)) else str(value)


_DECIMALS = Context(prec=800, rounding=ROUND_HALF_UP)  # every digit of any double, exactly


def _display(value, code: str) -> str:
    if isinstance(value, (dt.datetime, dt.date)):
        if not isinstance(value, dt.datetime):
            value = dt.datetime(value.year, value.month, value.day)
        section = sections(code)[0]
        if not _is_date(section):
            return _number(_to_serial(value), code)
        return _date(value, None, tokens(section))
    if isinstance(value, (int, float)):
        return _number(float(value), code)
    return _text(str(value), code)


def _text(text: str, code: str) -> str:
    parts = sections(code)
    section = parts[3] if len(parts) >= 4 else next((p for p in parts if any(t.kind == TEXT_CODE for t in tokens(p))),
                                                    None)
    if section is None:
        return text
    return "".join(text if t.kind == TEXT_CODE else _literal(t) for t in tokens(section))


def _is_date(section: str) -> bool:
    return any(t.kind in (DATE_CODE, ELAPSED) for t in tokens(section))


def _to_serial(value: dt.datetime) -> float:
    """A datetime's serial in the 1900 date system, as Excel counts (with its 29 February 1900)."""
    base = dt.datetime(1899, 12, 31) if dt.datetime(1900, 1, 1) <= value < dt.datetime(1900, 3, 1) else _SERIAL_BASE
    delta = value - base
    return delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400


def _number(value: float, code: str) -> str:
    if code == "General":
        return _general(value)
    if value != value or value in (float("inf"), float("-inf")):
        return "#NUM!"
    section, writes_sign = section_for(code, value)
    toks = tokens(section)
    if _is_date(section):
        if value < 0 or value >= 2958466:  # no day before 1900 or after 9999: Excel fills the cell with #
            return "#" * 8
        moment = serial_to_datetime(value) or _SERIAL_BASE + dt.timedelta(days=value)
        return _date(moment, value, toks)
    sign = "-" if value < 0 and not writes_sign else ""
    kinds = {t.kind for t in toks}
    if GENERAL in kinds:
        text = _general(abs(value))
        return (sign if text != "0" else "") + "".join(text if t.kind == GENERAL else _literal(t) for t in toks)
    if DIGIT not in kinds:
        if TEXT_CODE in kinds:  # "@": a number under a text format shows as General
            return _general(value)
        return (sign if toks else "") + "".join(_literal(t) for t in toks)
    if SLASH in kinds:
        return _fraction(abs(value), sign, toks)
    if EXPONENT in kinds:
        return _scientific(abs(value), sign, toks)
    return _fixed(abs(value), sign, toks)


def _decimal(x: float) -> Decimal:
    return Decimal(repr(x))


def _round(x: Decimal, places: int) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@functools.lru_cache(maxsize=1024)
def _layout(toks: tuple[Token, ...]) -> tuple[int, int, int, bool, list[int], list[int]]:
    """(percent signs, scaling commas, index of the point or -1, grouping, integer digit indexes,
    decimal digit indexes) of a fixed-point section."""
    point = next((i for i, t in enumerate(toks) if t.kind == POINT), -1)
    digits = [i for i, t in enumerate(toks) if t.kind == DIGIT]
    ints = [i for i in digits if point < 0 or i < point]
    decs = [i for i in digits if point >= 0 and i > point]
    last = digits[-1]
    scaling = sum(1 for i, t in enumerate(toks) if t.kind == COMMA and i > last)
    grouping = bool(ints) and any(t.kind == COMMA and i < ints[-1] for i, t in enumerate(toks))
    percent = sum(1 for t in toks if t.kind == PERCENT_SIGN)
    return percent, scaling, point, grouping, ints, decs


def _fixed(x: float, sign: str, toks: tuple[Token, ...]) -> str:
    percent, scaling, point, grouping, ints, decs = _layout(toks)
    number = _decimal(x).scaleb(2 * percent - 3 * scaling)
    rounded = _round(number, len(decs))
    if rounded == 0:
        sign = ""
    whole, _, fraction = f"{rounded:f}".partition(".")
    shown = _integer_digits(whole.lstrip("0"), [toks[i].text for i in ints], grouping)
    decimals = _decimal_digits(fraction.ljust(len(decs), "0"), [toks[i].text for i in decs])
    out = [sign]
    for i, t in enumerate(toks):
        if t.kind == DIGIT:
            out.append(shown[ints.index(i)] if i in ints else decimals[decs.index(i)])
        elif i == point:
            # No integer placeholder (.00): the integer digits, if any, go before the point.
            out.append(("" if ints or whole == "0" else whole) + ("." if any(decimals) else ""))
        elif t.kind == PERCENT_SIGN:
            out.append("%")
        elif t.kind in (COMMA, TEXT_CODE):
            continue
        else:
            out.append(_literal(t))
    return "".join(out)


def _integer_digits(digits: str, placeholders: list[str], grouping: bool) -> dict[int, str]:
    """The text each integer placeholder shows (by its position among them): digits fill them from
    the right, the leftmost takes any left over; a missing digit is 0 for 0, a space for ?, nothing for #."""
    n = len(placeholders)
    if grouping:
        width = n - next((k for k, p in enumerate(placeholders) if p == "0"), n)
        padded = digits.rjust(width, "0")
        text = f"{int(padded):,}" if padded else ""
        text = text.rjust(len(text) + max(0, width - len(padded)), "0") if padded else text
        return {0: text} | {k: "" for k in range(1, n)}
    shown = {}
    for k in range(n):
        from_right = n - 1 - k
        if from_right < len(digits):
            shown[k] = digits[len(digits) - 1 - from_right] if k > 0 else digits[:len(digits) - from_right]
        else:
            shown[k] = {"0": "0", "?": " "}.get(placeholders[k], "")
    return shown


def _decimal_digits(digits: str, placeholders: list[str]) -> list[str]:
    """Decimal places: trailing zeros under # vanish, under ? become spaces."""
    shown = list(digits[:len(placeholders)])
    for k in range(len(placeholders) - 1, -1, -1):
        if shown[k] != "0" or placeholders[k] == "0":
            break
        shown[k] = "" if placeholders[k] == "#" else " "
    return shown


def _scientific(x: float, sign: str, toks: tuple[Token, ...]) -> str:
    e = next(i for i, t in enumerate(toks) if t.kind == EXPONENT)
    mantissa, after = toks[:e], toks[e + 1:]
    point = next((i for i, t in enumerate(mantissa) if t.kind == POINT), -1)
    ints = [t.text for i, t in enumerate(mantissa) if t.kind == DIGIT and (point < 0 or i < point)]
    decs = [t.text for i, t in enumerate(mantissa) if t.kind == DIGIT and point >= 0 and i > point]
    step = max(1, len(ints))
    number = _decimal(x).scaleb(2 * sum(1 for t in toks if t.kind == PERCENT_SIGN))
    exponent = 0 if number == 0 else (number.adjusted() // step) * step
    rounded = _round(number.scaleb(-exponent), len(decs))
    if rounded >= Decimal(10) ** step:
        exponent += step
        rounded = _round(number.scaleb(-exponent), len(decs))
    if rounded == 0:
        sign = ""
    whole, _, fraction = f"{rounded:f}".partition(".")
    shown = _integer_digits(whole.lstrip("0"), ints, False)
    decimals = _decimal_digits(fraction.ljust(len(decs), "0"), decs)
    out, k, d = [sign], 0, 0
    for i, t in enumerate(mantissa):
        if t.kind == DIGIT and (point < 0 or i < point):
            out.append(shown[k])
            k += 1
        elif t.kind == DIGIT:
            out.append(decimals[d])
            d += 1
        elif i == point:
            out.append(".")
        elif t.kind == PERCENT_SIGN:
            out.append("%")
        elif t.kind != COMMA:
            out.append(_literal(t))
    width = sum(1 for t in after if t.kind == DIGIT and t.text == "0")
    exp_sign = "-" if exponent < 0 else ("+" if toks[e].text[1] == "+" else "")
    out.append(toks[e].text[0] + exp_sign + str(abs(exponent)).rjust(width, "0"))
    out.extend(_literal(t) for t in after if t.kind != DIGIT)
    return "".join(out)


def _fraction(x: float, sign: str, toks: tuple[Token, ...]) -> str:
    slash = next(i for i, t in enumerate(toks) if t.kind == SLASH)
    num_start = slash
    while num_start > 0 and toks[num_start - 1].kind == DIGIT:
        num_start -= 1
    den_end = slash + 1
    while den_end < len(toks) and (toks[den_end].kind == DIGIT or
                                   (toks[den_end].kind == LITERAL and toks[den_end].text.isdigit())):
        den_end += 1
    den_tokens = toks[slash + 1:den_end]
    den_text = "".join(t.text for t in den_tokens)
    fixed = int(den_text) if any(ch in "123456789" for ch in den_text) else None
    int_idx = [i for i in range(num_start) if toks[i].kind == DIGIT]
    number = _decimal(x).scaleb(2 * sum(1 for t in toks if t.kind == PERCENT_SIGN))
    whole = int(number) if int_idx else 0
    rest = number - whole
    if fixed:
        num, den = int(_round(rest * fixed, 0)), fixed
    else:
        num, den = _closest(float(rest), 10 ** len(den_tokens) - 1)
    if int_idx and num == den:
        whole, num = whole + 1, 0
    if whole == 0 and num == 0:
        sign = ""
    num_places = [toks[i].text for i in range(num_start, slash)]
    out = [sign]
    for i, t in enumerate(toks):
        if i in int_idx:
            if i == int_idx[0]:
                digits = str(whole) if whole or num == 0 else ""
                shown = _integer_digits(digits, [toks[j].text for j in int_idx], False)
                out.extend(shown.values())
        elif i == num_start:
            if int_idx and num == 0:
                out.append(" " * (slash - num_start + 1 + (0 if fixed else len(den_tokens))))
            else:
                shown = _integer_digits(str(num) if num or not int_idx else "", num_places, False)
                out.append("".join(shown.values()) + "/")
                out.append(str(den) if fixed else str(den).ljust(sum(1 for t in den_tokens if t.text == "?"), " "))
        elif num_start < i < den_end:
            continue
        elif t.kind == PERCENT_SIGN:
            out.append("%")
        elif t.kind not in (DIGIT, COMMA):
            out.append(_literal(t))
    return "".join(out)


def _closest(x: float, max_den: int) -> tuple[int, int]:
    """The fraction nearest x with a denominator up to max_den (the smallest such denominator)."""
    best, best_err = (round(x), 1), abs(x - round(x))
    for den in range(2, max_den + 1):
        num = int(_round(_decimal(x * den), 0))
        err = abs(x - num / den)
        if err < best_err - 1e-12:
            best, best_err = (num, den), err
    return best


def _general(value: float) -> str:
    """General: up to 15 significant digits; E notation from 1E+16 (three exponent digits) and for
    small numbers below 1E-9 or needing more than 15 decimal places (two), as LibreOffice shows them."""
    if isinstance(value, int) and abs(value) < 10 ** 15:
        return str(value)
    if value == 0:
        return "0"
    if value != value or value in (float("inf"), float("-inf")):
        return "#NUM!"
    number = _decimal(float(value))
    rounded = number.quantize(Decimal(1).scaleb(number.adjusted() - 14), rounding=ROUND_HALF_UP)
    exponent = rounded.adjusted()
    places = max(0, -rounded.normalize().as_tuple().exponent)
    if exponent >= 16 or exponent <= -10 or places > 15:
        mantissa = rounded.scaleb(-exponent).normalize()
        text = f"{mantissa:f}"
        return f"{text}E{'-' if exponent < 0 else '+'}{abs(exponent):0{3 if exponent > 0 else 2}d}"
    return f"{rounded.normalize():f}"


def _date(moment: dt.datetime, serial: float | None, toks: tuple[Token, ...]) -> str:
    """A date and time in a date section; ``serial`` when the cell held a number (for elapsed times)."""
    if serial is None:
        serial = _to_serial(moment)
    codes = [t.text.lower() if t.kind == DATE_CODE else t.text.lower() for t in toks if t.kind in (DATE_CODE, ELAPSED)]
    twelve = any(c in ("am/pm", "a/p", "上午/下午") for c in codes)
    elapsed = any(t.kind == ELAPSED for t in toks)
    gannen = any(t.kind == LOCALE and "gannen" in t.text.lower() for t in toks)
    point = next((i for i, t in enumerate(toks) if t.kind == POINT and i + 1 < len(toks) and toks[i + 1].kind == DIGIT
                  and any(u.kind == DATE_CODE and u.text.lower().startswith("s") for u in toks[:i])), -1)
    places = 0
    if point >= 0:
        while point + 1 + places < len(toks) and toks[point + 1 + places].kind == DIGIT:
            places += 1
    # Clock times are cut to the shown precision, elapsed times rounded to it (as LibreOffice does);
    # microseconds first, so 1/3 of a day is 8:00:00, not 7:59:59.
    unit = Decimal(1).scaleb(-places)
    total = Decimal(repr(round(serial * 86400, 6)))
    total = _round(total, places) if elapsed else (total / unit).to_integral_value(rounding="ROUND_FLOOR") * unit
    day_seconds = total % 86400
    if not elapsed:
        moment = dt.datetime.combine(moment.date(), dt.time()) + dt.timedelta(
            seconds=int(day_seconds)) if total >= 0 else moment
    hour, minute = int(day_seconds // 3600), int(day_seconds % 3600 // 60)
    second = day_seconds % 60
    era, initial, era_year = _era(moment.date())
    out = []
    kinds = [t.kind for t in toks]
    date_positions = [i for i, k in enumerate(kinds) if k in (DATE_CODE, ELAPSED)]
    for i, t in enumerate(toks):
        low = t.text.lower()
        if t.kind == ELAPSED:
            unit_seconds = {"h": 3600, "m": 60, "s": 1}[low[0]]
            amount = int(total // unit_seconds)
            out.append(str(amount).rjust(len(low), "0"))
        elif t.kind == DATE_CODE:
            c = low[0]
            n = len(low)
            if low in ("am/pm", "上午/下午"):
                out.append("午前" if hour < 12 else "午後")
            elif low == "a/p":
                out.append(t.text[0] if hour < 12 else t.text[2])
            elif c == "y":
                out.append(f"{moment.year % 100:02d}" if n <= 2 else f"{moment.year:04d}")
            elif c == "m" and n <= 2 and _is_minute(toks, date_positions, i):
                out.append(f"{minute:0{n}d}")
            elif c == "m":
                out.append(f"{moment.month:0{n}d}" if n <= 2 else f"{moment.month}月")
            elif c == "d":
                out.append(f"{moment.day:0{n}d}" if n <= 2 else _WEEKDAYS[moment.weekday()] + ("曜日" if n > 3 else ""))
            elif c == "a":
                out.append(_WEEKDAYS[moment.weekday()] + ("曜日" if n > 3 else ""))
            elif c == "h":
                h = (hour % 12 or 12) if twelve else hour
                out.append(f"{h:0{min(n, 2)}d}")
            elif c == "s":
                out.append(f"{int(second):0{min(n, 2)}d}")
            elif c == "g":
                out.append(initial if n == 1 else era[:1] if n == 2 else era)
            elif c == "e":
                out.append("元" if gannen and era_year == 1 else f"{era_year:0{min(n, 2)}d}")
            elif c == "b":
                out.append(f"{(moment.year + 543) % 100:02d}" if n <= 2 else str(moment.year + 543))
        elif i == point:
            fraction = f"{second % 1:.{places}f}"[1:] if places else ""
            out.append(fraction)
        elif point >= 0 and point < i <= point + places:
            continue
        elif t.kind in (DIGIT, POINT, COMMA, SLASH, PERCENT_SIGN, EXPONENT):
            out.append(t.text)
        else:
            out.append(_literal(t))
    return "".join(out)


def _is_minute(toks: tuple[Token, ...], positions: list[int], i: int) -> bool:
    """m or mm right after an hour code, or right before a seconds code, is minutes."""
    k = positions.index(i)
    before = toks[positions[k - 1]].text.lower() if k > 0 else ""
    after = toks[positions[k + 1]].text.lower() if k + 1 < len(positions) else ""
    return before[:1] == "h" or before.startswith("[h") or after[:1] == "s" or after.startswith("[s")


# ---- What a number means as shown: the text a person would have typed to see it ----

_NATIVE_DIGITS = re.compile(r"(dbnum|natnum)[0-9]", re.IGNORECASE)
_TIME_LETTERS = re.compile(r"^(h+|m+|s+|am/pm|a/p|上午/下午)$", re.IGNORECASE)
_MINUS_SIGNS = ("-", "−", "△", "▲", "－")
_YEN = ("¥", "￥", "\\")


@dataclass(frozen=True)
class Typed:
    """A number as a person reads it under its format, written as they would type it, unrounded.

    ``text`` is what the cell means: 1461000 in ``#,##0"件"`` is '1461000件', 1200 in
    ``#,##0,"千人"`` is '1.2千人', -5 in ``#,##0;△#,##0`` is '△5', 0.482 in ``0.0%`` is
    '48.2%'. The format's scaling applies, its rounding never does. ``refusal`` is the code
    when the display shows no number a person could have read (``text`` is then None).
    """

    text: str | None = None
    refusal: str | None = None
    scale: int = 0  # thousands-scaling commas (each divides by 1,000)
    unit: str = ""  # the format's own text after the number: 件, 千人, %
    percent: bool = False
    zero_shown: bool = False  # the display shows 0 for a number that is not (17.5 as 0.0百万枚)


def as_typed(value: float, code: str = "General") -> Typed:
    """The text a person reads in a number's cell, as they would have typed it (see :class:`Typed`)."""
    if not math.isfinite(value):
        return Typed(refusal="value_too_large")
    return _as_typed(value, code or "General")


@functools.lru_cache(maxsize=4096)
def _as_typed(value: float, code: str) -> Typed:
    section, signed = section_for(code, value)
    toks = [t for t in tokens(section) if t.kind not in (PAD, FILL, COLOR, LOCALE, CONDITION)]
    kinds = {t.kind for t in toks}
    if kinds & {DATE_CODE, ELAPSED}:
        times = all(t.kind == ELAPSED or _TIME_LETTERS.match(t.text) for t in toks if t.kind in (DATE_CODE, ELAPSED))
        return Typed(refusal="time_value" if times else "value_not_number")
    if SLASH in kinds or any(t.kind == LOCALE and _NATIVE_DIGITS.match(t.text) for t in tokens(section)):
        return Typed(refusal="display_unreadable")  # a fraction (1 1/4), or kanji numerals ([DBNum1]: 千二百)
    shown = display(value, code)
    digits = [i for i, t in enumerate(toks) if t.kind in (DIGIT, GENERAL, TEXT_CODE)]
    if not digits or not any(ch.isdigit() for ch in shown):  # ;;; or #,### for 0 show nothing; 会計 a dash
        return Typed(refusal="shown_as_text" if shown.strip() else "hidden_value")
    first, last = digits[0], digits[-1]
    inside = [t for t in toks[first:last + 1] if t.kind not in (DIGIT, POINT, COMMA, GENERAL, TEXT_CODE, EXPONENT)]
    if inside or sum(t.kind in (GENERAL, TEXT_CODE) for t in toks) > 1:
        return Typed(refusal="display_unreadable")  # text between the digits (000-0000) is no number
    scale = _scaling_commas(toks)
    before = "".join(t.text for t in toks[:first] if t.kind in (LITERAL, PERCENT_SIGN)).replace(" ", "")
    after = "".join(t.text for t in toks[last + 1:] if t.kind in (LITERAL, PERCENT_SIGN, COMMA)
                    ).replace(",", "").replace(" ", "")
    percent = sum(t.kind == PERCENT_SIGN for t in toks)
    number = Decimal(repr(float(value))) * Decimal(100) ** percent / Decimal(1000) ** scale
    if signed:
        if before.endswith("(") and after.startswith(")"):
            return Typed(refusal="display_unreadable")  # (5): the accounting negative, which no one types
        if not before.endswith(_MINUS_SIGNS):
            return Typed(refusal="sign_hidden")  # a negative shown without its sign
        number = abs(number)
    if before in _YEN:  # ¥1,234 is 1,234円
        before, after = "", "円" + after
    sign = "-" if number < 0 else ""  # a minus goes before the format's own text, as shown: -約1人, -¥48,441
    text = f"{sign}{before}{abs(number):f}{after}"
    return Typed(text, scale=scale, unit=after.replace("%", "") if after else "", percent=percent > 0,
                 zero_shown=value != 0 and not any(ch in "123456789" for ch in shown))


def _scaling_commas(toks: list[Token]) -> int:
    """Commas after the last digit placeholder of a run scale by 1,000 each (#,##0, shows 48 for 48,441)."""
    count = 0
    for i, t in enumerate(toks):
        if t.kind != COMMA:
            continue
        before = any(u.kind == DIGIT for u in toks[:i])
        nxt = next((u for u in toks[i + 1:] if u.kind != COMMA), None)
        if before and (nxt is None or nxt.kind != DIGIT):
            count += 1
    return count
