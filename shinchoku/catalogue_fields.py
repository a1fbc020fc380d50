"""The catalogue's vocabulary: what a cell of catalogue/*.csv may hold, and how its text reads.

Shared by `shinchoku.catalogue` (which builds the plan from the files) and `schemas.catalogue` (which
checks them with pandera), so neither imports the other for it. Plain Python: importing it costs nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

DIRECTIONS = ("increase", "decrease")
# What a revision may change, per kind of item (a change of unit is a new KPI, the old one retired).
KPI_FIELDS = ("name", "owner", "direction", "baseline_value", "baseline_fy", "target_value", "target_fy")
INITIATIVE_FIELDS = ("name", "owner")


def number(text: str) -> tuple[float | None, int | None]:
    """'80.0' -> (80.0, 1), with its written decimals; '' -> (None, None). ValueError when no finite number."""
    if text == "":
        return None, None
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"数値として読めません(入力: {text!r})") from None
    if not d.is_finite():
        raise ValueError(f"数値として読めません(入力: {text!r})")
    return float(d), max(0, -d.as_tuple().exponent)


def year(text: str) -> int | None:
    """A fiscal year as the catalogue writes it (Gregorian, 2000-2100); '' -> None. ValueError otherwise."""
    if text == "":
        return None
    if not text.isdigit() or not 2000 <= int(text) <= 2100:
        raise ValueError(f"年度(西暦の整数、例 2021)が必要です(入力: {text!r})")
    return int(text)


def date(text: str) -> dt.date | None:
    """A date as ISO writes it (2025-03-20) or as Japanese Excel saves it to CSV (2025/3/20); None otherwise."""
    match = re.fullmatch(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", text.strip())
    if not match:
        return None
    try:
        return dt.date(*map(int, match.groups()))
    except ValueError:
        return None


# An e-mail address as the catalogue holds it: ASCII, no display name (user@pref.example.lg.jp), at most 254 characters.
_EMAIL = re.compile(r"(?!\.)(?!.*\.\.)[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}(?<!\.)"
                    r"@(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")


def split_addresses(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A contact cell's parts, several separated by ';' (or ','): (the addresses, each once; the parts that are not
    one, as written: full-width characters, a display name, a missing domain)."""
    found: list[str] = []
    bad: list[str] = []
    for part in re.split(r"[;,]", text):
        address = part.strip()
        if not address:
            continue
        if not _EMAIL.fullmatch(address):
            bad.append(address)
        elif address.lower() not in (a.lower() for a in found):
            found.append(address)
    return tuple(found), tuple(bad)


def email_addresses(text: str) -> tuple[str, ...]:
    """A contact cell's addresses: several separated by ';' (or ','), '' -> (). ValueError naming the first that is
    not an address (full-width characters, a display name, a missing domain)."""
    found, bad = split_addresses(text)
    if bad:
        raise ValueError(f"メールアドレスとして読めません(入力: {bad[0]!r})")
    return found


def department_name_ok(name: str) -> bool:
    """Whether a department's name can name its inbox folder: a safe single path component."""
    return not (name in (".", "..") or name.startswith(("_", ".")) or name == "rejected"
                or any(c in name for c in '/\\:\0'))


def field_value(field: str, text: str) -> dict:
    """The dataclass fields a revision's new value sets: 90.0 -> target_value 90.0 with 1 decimal.
    Raises ValueError when the text is not a value of that field."""
    if field in ("baseline_value", "target_value"):
        value, decimals = number(text)
        return {field: value, field.replace("value", "decimals"): decimals}
    if field in ("baseline_fy", "target_fy"):
        return {field: year(text)}
    if field == "direction" and text not in DIRECTIONS:
        raise ValueError(f"increase か decrease が必要です(入力: {text!r})")
    if field in ("name", "owner") and not text:
        raise ValueError("空欄にはできません")
    return {field: text}


# Local governments (local_governments.csv): their kinds, and the seven regions (地方) a municipality is in.
LOCAL_GOVERNMENT_KINDS = ("県", "市", "町", "村")
MUNICIPALITY_KINDS = ("市", "町", "村")
REGIONS = ("県北", "県中", "県南", "会津", "南会津", "相双", "いわき")


def check_digit(first_five: str) -> str:
    """The sixth digit of a 全国地方公共団体コード (JIS X 0402) for its first five: for a b c d e,
    S = 6a + 5b + 4c + 3d + 2e and the digit is (11 − S mod 11) mod 10 (07201 -> 0)."""
    total = sum(weight * int(digit) for weight, digit in zip((6, 5, 4, 3, 2), first_five))
    return str((11 - total % 11) % 10)


def code_shape_ok(text: str) -> bool:
    """Whether a cell is six ASCII digits, the form of a 全国地方公共団体コード."""
    return len(text) == 6 and text.isascii() and text.isdigit()


def code_digit_ok(text: str) -> bool:
    """Whether a six-digit code's check digit is right (a cell of another shape is not judged here)."""
    return not code_shape_ok(text) or check_digit(text[:5]) == text[5]


def hiragana(text: str) -> bool:
    """Whether a reading is written in hiragana (ー allowed), as the kana column asks."""
    return text != "" and all("\u3041" <= c <= "\u309f" or c == "ー" for c in text)


# KPIs computed from local governments' counts (computed_kpis.csv, kpi_components.csv).
RULES = ("ratio_of_sums", "sum")
ROLES = ("numerator", "denominator", "addend")
# Who reports a computed KPI's components, besides a named group of local_government_groups.csv.
REPORTER_SETS = ("prefecture_and_municipalities", "municipalities")
# The units a component may be counted in: whole numbers of things, never a rate nor a multiple (千件, 万人).
COUNT_UNITS = ("件", "人", "校", "団体", "施設", "事業所", "経営体", "台", "回", "世帯", "手続")


def positive_factor(text: str) -> float:
    """A rule's factor (100 for %): a positive number. ValueError otherwise."""
    value, _ = number(text)
    if value is None or value <= 0:
        raise ValueError(f"正の数が必要です(入力: {text!r})")
    return value
