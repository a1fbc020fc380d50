"""Text a department wrote, made safe wherever shinchoku keeps, writes or prints it.

Three places, one set of rules:

- at reading (:func:`clean`): control characters other than tab and newline are removed (a vertical tab
  pasted from PowerPoint, an ESC), a carriage return becomes a newline; the reader tells the department;
- at every writer (:func:`writable`): the report, the checklist, the annotated copy, the site and CSV
  export drop what a workbook cannot hold, so text stored before the reading rule still writes;
- at the terminal (:func:`terminal_safe`): a control character is shown as ``\\x1b``, never sent raw,
  so no cell text or file name can retitle the window or overwrite a line.
"""

from __future__ import annotations

import re

# What XML 1.0 (so a workbook) cannot hold or should not: C0 controls but tab, newline and carriage
# return, DEL and the C1 controls, lone surrogates (an _xD800_ escape) and the two non-characters.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# What a terminal may act on: every C0 control but tab and newline, DEL and the C1 controls.
_TERMINAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean(text: str) -> tuple[str, bool]:
    """Text as read from a cell: CR LF and a lone CR become LF; other control characters are removed.

    Returns the text and whether anything was removed (a line break changed is not a removal).
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    cleaned = _UNWRITABLE.sub("", text)
    return cleaned, len(cleaned) != len(text)


def writable(value):
    """A value as any writer may write it: a string without the characters a workbook cannot hold
    (anything else unchanged). openpyxl refuses them (IllegalCharacterError); raw XML would be corrupt."""
    if isinstance(value, str):
        return _UNWRITABLE.sub("", value)
    return value


def writable_row(row: dict) -> dict:
    """A row read from a view, every text in it (lists of texts too) writable."""
    return {k: ([writable(x) for x in v] if isinstance(v, list) else writable(v)) for k, v in row.items()}


def terminal_safe(text: str) -> str:
    """Text for the terminal: every control character but tab and newline shown as ``\\x1b``, ``\\r``...
    (ESC, BEL and CR from a cell or a file name would otherwise act on the terminal)."""
    return _TERMINAL.sub(_visible, text)


def _visible(match: re.Match) -> str:
    ch = match.group(0)
    return "\\r" if ch == "\r" else f"\\x{ord(ch):02x}" if ord(ch) <= 0xFF else f"\\u{ord(ch):04x}"
