"""Small helpers for writing cells that must stay text, whatever they contain."""

from __future__ import annotations

from .text import writable

# Text starting with these can turn into a live formula when a spreadsheet opens it.
_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def set_text(cell, value) -> None:
    """Write a value as a plain string cell: never a formula, whatever it starts with, and without the
    control characters a workbook cannot hold (text stored before they were removed at reading)."""
    text = "" if value is None else writable(str(value))
    cell.value = text
    if text:
        cell.data_type = "s"


def csv_safe(value) -> str:
    """Neutralise a field for CSV: control characters removed (as in a workbook), a leading formula
    character prefixed with an apostrophe."""
    text = "" if value is None else writable(str(value))
    return "'" + text if text.startswith(_FORMULA_LEADS) else text
