"""Parse what departments type into cells: values with units, fiscal years, as-of dates.

Every parser returns a result or a coded error; none raises on any input.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from . import numfmt

# Prefix multipliers a Japanese unit may carry (146.1万件, 27,000千円, 40百万枚).
_PREFIXES = {"": 1, "千": 10**3, "万": 10**4, "十万": 10**5, "百万": 10**6, "千万": 10**7, "億": 10**8}
# Base units a seed KPI or outcome figure is counted in; 名 counts people as 人 does.
_BASES = {"枚", "件", "人", "円", "経営体", "施設", "ダウンロード", "時間", "回", "課題", "か所", "箇所", "地区", "社", "団体", "市町村"}
_ALIASES = {"名": "人", "ヶ所": "か所", "カ所": "か所", "ケ所": "か所", "個所": "か所", "パーセント": "%"}
_DASHES = {"-", "－", "―", "—", "–", "‐", "‑", "ー", "−", "ｰ"}
_MINUS = {"△", "▲", "-", "−", "－"}

_NUMBER = re.compile(
    r"""^(?P<approx>約|およそ)?
        (?P<sign>[△▲\-−])?
        (?P<int>[0-9][0-9,]*)?(?:\.(?P<frac>[0-9]+))?
        (?:E(?P<exp>[+-]?[0-9]{1,4}))?
        (?P<unit>[^0-9.,].*)?$""",
    re.VERBOSE,
)
_GROUPED = re.compile(r"^[0-9]{1,3}(,[0-9]{3})+$")


def normalize_text(value: str) -> str:
    """NFKC-normalise (full-width digits and letters become ASCII) and trim."""
    return unicodedata.normalize("NFKC", value).strip()


def is_blank(value) -> bool:
    """Blank cells and lone dashes mean 'not reported'."""
    if value is None:
        return True
    if isinstance(value, str):
        text = value.strip().replace("\u3000", "")
        return text == "" or text in _DASHES
    return False


@dataclass(frozen=True)
class ValueResult:
    """A parsed 実績値: a value in the KPI's unit, or an error code.

    Text in parentheses after the number is kept apart: a provisional mark
    (速報, 見込, 暫定), and the fiscal year and 時点 the seed writes there,
    ``1,187時間(R3年度(2月末現在))``, for the caller to compare with the row.
    """

    value: float | None = None
    error: str | None = None
    approximate: bool = False
    converted_from: str | None = None  # the unit that was converted, if any
    unit_written: bool = False  # a unit or a percent format came with the number
    provisional: str | None = None  # 速報, 見込 or 暫定
    as_of_text: str | None = None  # a 時点 written in parentheses, e.g. 2月末現在
    value_year: int | None = None  # a fiscal year written in parentheses, e.g. R3年度
    percent: bool = False  # a percentage number format scaled the stored number (0.482 shown as 48.2%)
    format_unit: str | None = None  # a unit the number format writes after the number: #,##0"件"

    @property
    def missing(self) -> bool:
        return self.value is None and self.error is None


def split_unit(unit: str) -> tuple[int, str] | None:
    """Split a unit into (multiplier, base), e.g. 百万枚 -> (10**6, 枚); None if unknown."""
    unit = _ALIASES.get(unit, unit)
    for prefix in sorted(_PREFIXES, key=len, reverse=True):
        if unit.startswith(prefix):
            base = unit[len(prefix):]
            base = _ALIASES.get(base, base)
            if base in _BASES:
                return _PREFIXES[prefix], base
    return None


def is_percent(unit: str) -> bool:
    """Whether a written unit is the percent sign, in any of its spellings (%, ％, パーセント)."""
    unit = normalize_text(unit)
    return _ALIASES.get(unit, unit) == "%"


def convert_unit(number: Decimal, unit: str, target: str) -> Decimal | None:
    """Convert a number from unit to target exactly; None if the units differ in meaning."""
    unit, target = normalize_text(unit), normalize_text(target)
    if unit == target or _ALIASES.get(unit, unit) == _ALIASES.get(target, target):
        return number
    src, dst = split_unit(unit), split_unit(target)
    if src is None or dst is None or src[1] != dst[1]:
        return None
    return number * Decimal(src[0]) / Decimal(dst[0])


def parse_value(raw, unit: str, fmt: str = "General") -> ValueResult:
    """Parse a 実績値 cell into a number in ``unit``.

    A number is read through its format ``fmt`` as a person reads it (see
    :func:`shinchoku.workbook.numfmt.as_typed`): 1461000 in ``#,##0"件"`` is 1461000件, 0.482 in
    ``0.0%`` is 48.2%, 1200 in ``#,##0,"千人"`` is 1.2千人; then it is parsed as that text
    would be, so a unit in the format converts or is refused exactly like a typed one.
    """
    try:
        return _parse_value(raw, unit, fmt)
    except (InvalidOperation, ValueError, OverflowError, ArithmeticError):
        return ValueResult(error="value_not_number")


def _parse_value(raw, unit: str, fmt: str) -> ValueResult:
    if is_blank(raw):
        return ValueResult()
    if isinstance(raw, (dt.date, dt.datetime, dt.time, dt.timedelta)):
        return ValueResult(error="time_value" if numfmt.as_typed(1.0, fmt).refusal == "time_value" else "value_not_number")
    if isinstance(raw, bool):
        return ValueResult(error="value_not_number")
    if isinstance(raw, (int, float)):
        typed = numfmt.as_typed(float(raw), fmt)
        if typed.refusal:
            return ValueResult(error=typed.refusal)
        if typed.scale and (split_unit(normalize_text(typed.unit)) or (0,))[0] != 1000 ** typed.scale:
            return ValueResult(error="scaled_display", unit_written=bool(typed.unit))
        if typed.zero_shown:
            return ValueResult(error="rounded_to_zero")
        result = _parse_text(typed.text, unit)
        unit_shown = split_trailing_groups(typed.unit)[0]  # 0"(速報)": a mark, no unit
        return replace(result, percent=typed.percent, format_unit=unit_shown or None)
    if not isinstance(raw, str):
        return ValueResult(error="value_not_number")
    return _parse_text(raw, unit)


_SPLIT_DIGITS = re.compile(r"[0-9][0-9 ]*\s[0-9][0-9 ]*")
_SPACE_GROUPED = re.compile(r"[0-9]{1,3}(?: [0-9]{3})+")


def _parse_text(raw: str, unit: str) -> ValueResult:
    normal = normalize_text(raw)
    for digits in _SPLIT_DIGITS.findall(normal):
        if not _SPACE_GROUPED.fullmatch(digits.strip()):
            return ValueResult(error="value_not_number")  # 12 34: a typo, not a number
    # Spacing of any width may stand anywhere else in a value: 約 140 人, ４８．２　％, △ 5.
    text = _SPACES.sub("", normal)
    text, groups = split_trailing_groups(text)
    text = _YEN.sub(r"\1", text) + "円" if _YEN.match(text) else text  # ¥1,234 (as the yen formats show) is 1,234円
    notes = _notes(groups)
    if notes is None:
        return ValueResult(error="value_not_number")
    match = _NUMBER.match(text)
    if not match or (match["int"] is None and match["frac"] is None):
        return ValueResult(error="value_not_number")
    int_part = match["int"] or "0"
    if "," in int_part:
        if not _GROUPED.match(int_part):
            return ValueResult(error="value_not_number")
        int_part = int_part.replace(",", "")
    frac = match["frac"] or ""
    number = Decimal(f"{int_part}.{frac}" if frac else int_part)
    if match["exp"]:
        number = number.scaleb(int(match["exp"]))
    if match["sign"]:
        number = -number
    suffix = match["unit"] or ""
    if "(" in suffix or ")" in suffix:
        return ValueResult(error="value_not_number")  # text in parentheses that is no 時点 or mark
    return replace(_in_unit(number, suffix, unit, approximate=bool(match["approx"])), **notes)


_SPACES = re.compile(r"\s+")
_YEN = re.compile(r"^((?:約|およそ)?[△▲\-−]?)¥(?=[0-9])")
_MARKS = {"速報": "速報", "見込": "見込", "見込み": "見込", "暫定": "暫定"}


def split_trailing_groups(text: str) -> tuple[str, list[str]]:
    """Split balanced parenthesised groups off the end: '61.0%(速報)(2月末現在)' -> ('61.0%', ['速報', '2月末現在'])."""
    groups: list[str] = []
    while text.endswith(")"):
        depth = 0
        for i in range(len(text) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(text[i], 0)
            if depth == 0:
                break
        if depth != 0:
            break  # unbalanced: leave it to the number pattern, which refuses it
        groups.insert(0, text[i + 1:-1])
        text = text[:i]
    return text, groups


def _notes(groups: list[str]) -> dict | None:
    """What the parentheses after a value say: provisional mark, 時点, fiscal year; None if anything else."""
    notes: dict = {}
    for group in groups:
        if group in _MARKS:
            marks = notes.get("provisional", "").split("・") if "provisional" in notes else []
            if _MARKS[group] not in marks:
                notes["provisional"] = "・".join([*marks, _MARKS[group]])  # 61.2%(速報)(見込) keeps both
            continue
        context = _context(group)
        if context is None:
            return None
        year, as_of = context
        for key, found in (("value_year", year), ("as_of_text", as_of)):
            if found is not None:
                if notes.get(key, found) != found:
                    return None
                notes[key] = found
    return notes


def _context(group: str) -> tuple[int | None, str | None] | None:
    """A fiscal year and/or 時点 in parentheses: 'R3年度(2月末現在)', '2月末現在', 'R3年度'."""
    core, inner = split_trailing_groups(group)
    if len(inner) > 1:
        return None
    year = parse_fiscal_year(core) if core else None
    as_of = inner[0] if inner else None
    if year is None:
        if as_of is not None or not core:
            return None
        as_of = core
    if as_of is not None and parse_as_of(as_of, 2000).error:  # the form alone; the row's year comes later
        return None
    return year, as_of


def _in_unit(number: Decimal, suffix: str, unit: str, approximate: bool) -> ValueResult:
    if not suffix:
        return _finite(ValueResult(value=float(number), approximate=approximate))
    if _NOT_A_UNIT.search(suffix):
        return ValueResult(error="value_not_number")  # 140~150人, 4万8千件, 1、200: text around a number
    converted = convert_unit(number, suffix, unit)
    if converted is None:
        return ValueResult(error="unit_mismatch", approximate=approximate, converted_from=suffix, unit_written=True)
    changed = normalize_text(suffix) != normalize_text(unit)
    return _finite(ValueResult(value=float(converted), approximate=approximate,
                               converted_from=suffix if changed else None, unit_written=True))


# A unit is letters: a digit, a range or a list mark after the number means the text is no single number.
_NOT_A_UNIT = re.compile(r"[0-9~〜～、,.+\-/:]")


def _finite(result: ValueResult) -> ValueResult:
    """A number too large for a double (400 nines) is refused, never stored as infinity."""
    if result.value is not None and not math.isfinite(result.value):
        return ValueResult(error="value_too_large")
    return result


_ERAS = {"R": 2018, "令和": 2018, "H": 1988, "平成": 1988}
_YEAR_PATTERNS = [
    re.compile(r"^(?:FY)?(?P<year>\d{4})(?:年度|年)?$"),
    re.compile(r"^(?P<era>R|令和|H|平成)(?P<n>\d{1,2}|元)(?:年度|年)?$"),
]


def parse_fiscal_year(raw) -> int | None:
    """Parse 2023, '2023年度', 'R5', 'Ｒ５', '令和５年度', 'R 5', '令和元年度', 'H30' into 2023 etc."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, float):
        if not math.isfinite(raw) or raw != int(raw):
            return None
        raw = int(raw)
    if isinstance(raw, int):
        return raw if 1900 <= raw <= 2200 else None
    if not isinstance(raw, str):
        return None
    text = normalize_text(raw).upper().replace(" ", "")
    for pattern in _YEAR_PATTERNS:
        match = pattern.match(text)
        if match:
            if match.groupdict().get("era"):
                n = 1 if match["n"] == "元" else int(match["n"])
                return _ERAS[match["era"]] + n if n >= 1 else None
            year = int(match["year"])
            return year if 1900 <= year <= 2200 else None
    return None


def fiscal_year_label(year: int) -> str:
    """2021 -> 'R3年度', as the seed writes years (Heisei before 2019)."""
    return f"{era_year(year)}年度"


def era_year(year: int) -> str:
    """2021 -> 'R3' (Heisei before 2019): a fiscal year in a file name or a short column."""
    if year >= 2019:
        return f"R{year - 2018}"
    return f"H{year - 1988}"


def fiscal_year_end(year: int) -> dt.date:
    """The last day of a fiscal year: FY2021 ends 31 March 2022."""
    return dt.date(year + 1, 3, 31)


_ABS_DATE = [
    re.compile(r"^(?P<y>\d{4})[/\-.](?P<m>\d{1,2})[/\-.](?P<d>\d{1,2})$"),
    re.compile(r"^(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日$"),
    re.compile(r"^(?P<era>R|令和|H|平成)(?P<n>\d{1,2}|元)[./年](?P<m>\d{1,2})[./月](?P<d>\d{1,2})日?$"),
]
_REL_DATE = [
    re.compile(r"^(?P<m>\d{1,2})月末$"),
    re.compile(r"^(?P<m>\d{1,2})[/月](?P<d>\d{1,2})日?$"),
]


@dataclass(frozen=True)
class DateResult:
    """A parsed 時点: a date, nothing (use the year end), or an error code."""

    value: dt.date | None = None
    error: str | None = None


def parse_as_of(raw, fiscal_year: int | None) -> DateResult:
    """Parse a 時点 cell; month-day text such as '2月末現在' is read within ``fiscal_year``."""
    try:
        return _parse_as_of(raw, fiscal_year)
    except (ValueError, OverflowError):
        return DateResult(error="bad_as_of")


def _parse_as_of(raw, fiscal_year: int | None) -> DateResult:
    if is_blank(raw):
        return DateResult()
    if isinstance(raw, dt.datetime):
        return DateResult(raw.date())
    if isinstance(raw, dt.date):
        return DateResult(raw)
    if not isinstance(raw, str):
        return DateResult(error="bad_as_of")
    text = normalize_text(raw).upper().replace(" ", "")
    text = re.sub(r"^[(\[]|[)\]]$", "", text)
    text = re.sub(r"(現在|時点)$", "", text)
    for pattern in _ABS_DATE:
        match = pattern.match(text)
        if match:
            if match.groupdict().get("era"):
                n = 1 if match["n"] == "元" else int(match["n"])
                year = _ERAS[match["era"]] + n
            else:
                year = int(match["y"])
            return DateResult(dt.date(year, int(match["m"]), int(match["d"])))
    for pattern in _REL_DATE:
        match = pattern.match(text)
        if match:
            if fiscal_year is None:
                return DateResult(error="bad_as_of")
            month = int(match["m"])
            year = fiscal_year if month >= 4 else fiscal_year + 1
            day = int(match["d"]) if match.groupdict().get("d") else calendar.monthrange(year, month)[1]
            return DateResult(dt.date(year, month, day))
    return DateResult(error="bad_as_of")
