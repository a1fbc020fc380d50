"""Fuzz the reader with mutated return sheets: ``uv run python -m bench.fuzz --n 20000``.

Mutations work at the byte level (flipped bytes, truncation, inserted junk) and
at the XML level inside the package (truncated entries, swapped cell types,
out-of-range styles, broken shared-string indices, damaged tags, DTDs). Every
input must come back as a coded rejection or a clean result; the catch-all
``unexpected_error`` counts as a crash.
"""

from __future__ import annotations

import argparse
import collections
import io
import random
import re
import sys
import tempfile
import time
import zipfile
from pathlib import Path

CRASH = "unexpected_error"
XML_MUTATIONS = ("truncate_entry", "swap_types", "style_out_of_range", "shared_string_index", "break_tag",
                 "delete_slice", "insert_dtd", "junk_text", "drop_entry", "numfmt", "format_code")
# Number formats Japanese offices use (units, scaling, sections, accounting, hidden, times, fractions, tags),
# and the characters format codes are made of, for random ones.
FORMAT_CODES = ('#,##0"件"', '#,##0"人"', '0.0"万件"', '#,##0"千円"', '#,##0,', '#,##0,,', '#,##0,"千人"',
                '#,##0;-#,##0;"-"', '#,##0;△#,##0', '#,##0;▲#,##0;"未集計"', '_ * #,##0_ ;_ * -#,##0_ ;_ * "-"_ ;_ @_ ',
                ";;;", "h:mm", "[h]:mm:ss", "0.00E+00", "# ?/?", "[Blue]General", "[$-411]#,##0", "[>=1000]#,##0,\"千\";0",
                '"¥"#,##0', "[$¥-411]#,##0", "0.0%", "@", "0;0", '0.0%"以上"', "[Color10]0.0", "[DBNum1]0")
FORMAT_ALPHABET = '0#?.,%E+-;"\\_*[]$@/:hmsydg件人千万円△▲ ()<>=Red'


def _format_code(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return rng.choice(FORMAT_CODES)
    return "".join(rng.choice(FORMAT_ALPHABET) for _ in range(rng.randint(0, 24)))



def _rezip(parts: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts:
            z.writestr(name, data)
    return out.getvalue()


def mutate_xml(data: bytes, rng: random.Random) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = [(i.filename, z.read(i)) for i in z.infolist()]
    index = rng.randrange(len(parts))
    name, body = parts[index]
    kind = rng.choice(XML_MUTATIONS)
    if kind == "truncate_entry":
        body = body[: rng.randrange(len(body) + 1)]
    elif kind == "swap_types":
        body = re.sub(rb' t="(\w+)"', lambda m: b' t="%s"' % rng.choice([b"s", b"n", b"b", b"e", b"str", b"inlineStr", b"d", b"zz"]), body)
    elif kind == "style_out_of_range":
        body = re.sub(rb' s="\d+"', lambda m: b' s="%d"' % rng.choice([99999, -1, 2**40]), body)
    elif kind == "shared_string_index":
        body = re.sub(rb"<v>\d+</v>", lambda m: b"<v>%d</v>" % rng.choice([10**9, -5, 2**63]), body)
    elif kind == "break_tag":
        tags = [m.start() for m in re.finditer(rb"<", body)]
        if tags:
            at = rng.choice(tags)
            body = body[:at] + rng.choice([b"<<", b"</", b"<x:", b""]) + body[at + 1:]
    elif kind == "delete_slice" and body:
        a = rng.randrange(len(body))
        body = body[:a] + body[a + rng.randrange(1, 200):]
    elif kind == "insert_dtd":
        body = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "eeeeeeeeee">]>' + body.split(b"?>", 1)[-1]
    elif kind == "junk_text":
        at = rng.randrange(len(body) + 1)
        body = body[:at] + "".join(chr(rng.randrange(32, 0x30000)) for _ in range(20)).encode("utf-8", "ignore") + body[at:]
    elif kind == "drop_entry":
        parts.pop(index)
        return _rezip(parts)
    elif kind == "numfmt":
        body = re.sub(rb'numFmtId="\d+"', lambda m: b'numFmtId="%d"' % rng.choice([9, 10, 14, 49, 999]), body)
    elif kind == "format_code":
        from xml.sax.saxutils import quoteattr

        body = re.sub(rb'formatCode="[^"]*"', lambda m: b"formatCode=" + quoteattr(_format_code(rng)).encode(), body)
        body = re.sub(rb'numFmtId="\d+"', lambda m: b'numFmtId="%d"' % rng.choice([*range(0, 59), 164]), body)
    parts[index] = (name, body)
    return _rezip(parts)


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    kind = rng.choice(("flip", "truncate", "insert", "duplicate"))
    buf = bytearray(data)
    if kind == "flip":
        for _ in range(rng.randint(1, 20)):
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
    elif kind == "truncate":
        del buf[rng.randrange(len(buf)):]
    elif kind == "insert":
        at = rng.randrange(len(buf))
        buf[at:at] = rng.randbytes(rng.randint(1, 64))
    else:
        a = rng.randrange(len(buf))
        buf[a:a] = buf[a:a + rng.randint(1, 512)]
    return bytes(buf)


def seeds() -> list[bytes]:
    """Valid return sheets to mutate: a filled template, and one with percent cells and outcomes."""
    from shinchoku.catalogue import load_catalogue
    from shinchoku.documents.template import fill_outcomes, fill_template, write_template

    catalogue = load_catalogue()
    with tempfile.TemporaryDirectory() as tmp:
        a = fill_template(write_template(catalogue, "企画調整部", 2023, Path(tmp) / "a.xlsx"),
                          {"GOV-K01": 0.615, "REG-K01": "140 人"}, formats={"GOV-K01": "0.0%"},
                          as_of={"REG-K01": "2月末現在"})
        fill_outcomes(a, [("GOV-04", "実施", "約962時間", "約962時間", "時間", None)])
        b = fill_template(write_template(catalogue, "総務部", 2022, Path(tmp) / "b.xlsx"), {"GOV-K02": 30})
        c = fill_template(write_template(catalogue, "避難地域復興局", 2023, Path(tmp) / "c.xlsx"), {"REC-K01": 1461000},
                          formats={"REC-K01": '#,##0"件"'})  # a custom format for format_code to rewrite
        return [a.read_bytes(), b.read_bytes(), c.read_bytes()]


def fuzz(n: int, seed: int = 0) -> dict:
    """Feed n mutated workbooks to the reader; count outcomes and crashes."""
    from shinchoku.workbook.assess import assess_one
    from shinchoku.catalogue import load_catalogue
    from shinchoku.config import Limits

    catalogue, limits, rng = load_catalogue(), Limits(), random.Random(seed)
    originals = seeds()
    codes: collections.Counter = collections.Counter()
    crashes = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.xlsx"
        for i in range(n):
            data = rng.choice(originals)
            data = mutate_xml(data, rng) if rng.random() < 0.6 else mutate_bytes(data, rng)
            path.write_bytes(data)
            a = assess_one(path, "企画調整部" if i % 2 else None, catalogue, limits)
            found = sorted({issue.code for issue in a.errors}) or ["accepted"]
            codes.update(found)
            if CRASH in found:
                crashes.append((i, next(i.params.get("detail") for i in a.errors if i.code == CRASH)))
    return {"inputs": n, "crashes": len(crashes), "crash_details": crashes[:20], "outcomes": dict(codes)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = fuzz(args.n, args.seed)
    print(f"{result['inputs']:,} inputs in {time.perf_counter() - started:.0f} s, {result['crashes']} crashes")
    for code, count in sorted(result["outcomes"].items(), key=lambda kv: -kv[1]):
        print(f"  {code:22} {count:6,}")
    for detail in result["crash_details"]:
        print("  crash:", detail)
    return 1 if result["crashes"] else 0


if __name__ == "__main__":
    sys.exit(main())
