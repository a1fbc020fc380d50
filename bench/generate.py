"""Generate N realistic return sheets through shinchoku's own template and fill code.

Mixed departments, fiscal years and value forms (plain numbers, units, full-width
digits, thousands separators, percentage-formatted cells, 約, as-of dates), with
about 5% rejects. Base templates are written once per department and year; each
file is a filled copy, so every file has distinct bytes.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from shinchoku.catalogue import Catalogue, load_catalogue
from shinchoku.run.demo import expected_in
from shinchoku.workbook.parse import era_year
from shinchoku.documents.template import fill_template, write_template

YEARS = (2021, 2022, 2023, 2024)
REJECT_EVERY = 20  # 5%
FULL_WIDTH = str.maketrans("0123456789.,", "０１２３４５６７８９．，")


def _value_form(kpi, value: float, rng: random.Random) -> tuple[object, str | None]:
    """The value as some department might type it, and the cell's number format if any."""
    form = rng.random()
    if kpi.unit == "%" and form < 0.25:
        return value / 100, "0.0%"  # typed as 48.2% into a General cell
    if form < 0.45:
        return value, None
    if form < 0.6:
        return f"{value:,.1f}".rstrip("0").rstrip(".") + kpi.unit, None
    if form < 0.7:
        return f"{value:,g}".translate(FULL_WIDTH), None
    if form < 0.8:
        return f"{value:,.0f}", None
    if form < 0.9:
        return f"約{value:g}", None
    return str(value), None


def _plan(catalogue: Catalogue, n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    combos = [(d, y) for d in catalogue.departments for y in YEARS
              if any(expected_in(k, y, catalogue.last_year) for k in catalogue.kpis_of(d))]
    plans = []
    for i in range(n):
        department, year = combos[i % len(combos)]
        values, formats, as_of = {}, {}, {}
        for kpi in catalogue.kpis_of(department):
            if not expected_in(kpi, year, catalogue.last_year) or rng.random() < 0.1:
                continue  # some KPIs not reported yet
            base = kpi.baseline_value if kpi.baseline_value is not None else (kpi.target_value or 100) * 0.6
            goal = kpi.target_value if kpi.target_value is not None else base * 1.5
            share = (year - (kpi.baseline_fy or 2020)) / max(1, (kpi.target_fy or 2025) - (kpi.baseline_fy or 2020))
            value = round(base + (goal - base) * share * rng.uniform(0.6, 1.2), 1 if kpi.unit in ("%", "万件") else 0)
            values[kpi.kpi_id], fmt = _value_form(kpi, value, rng)
            if fmt:
                formats[kpi.kpi_id] = fmt
            if rng.random() < 0.05:
                as_of[kpi.kpi_id] = "2月末現在"
        reject = i % REJECT_EVERY == 7
        if reject:  # text where a number belongs: the whole file is rejected
            kpi = next(k for k in catalogue.kpis_of(department) if expected_in(k, year, catalogue.last_year))
            values[kpi.kpi_id] = "集計中"
            formats.pop(kpi.kpi_id, None)
        plans.append({"i": i, "department": department, "year": year, "values": values, "formats": formats,
                      "as_of": as_of, "reject": reject})
    return plans


def _fill(args: tuple[dict, str, str]) -> str:
    plan, base, out = args
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    fill_template(Path(base), plan["values"], as_of=plan["as_of"], formats=plan["formats"], out=path)
    stamp = 1_700_000_000 + plan["i"]  # fixed, distinct modification times
    os.utime(path, (stamp, stamp))
    return out


def _source_digest() -> str:
    """Changes to the template or this generator invalidate a cached corpus."""
    import hashlib

    import shinchoku.documents.template

    digest = hashlib.sha256()
    for module in (shinchoku.documents.template.__file__, __file__):
        digest.update(Path(module).read_bytes())
    return digest.hexdigest()[:16]


def generate(n: int, directory: Path, seed: int = 7, workers: int | None = None) -> dict:
    """Write the corpus under ``directory/inbox`` once; reuse it when it is already there."""
    manifest_path = directory / "manifest.json"
    source = _source_digest()
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if (manifest.get("n"), manifest.get("seed"), manifest.get("source")) == (n, seed, source):
            return manifest
    shutil.rmtree(directory, ignore_errors=True)
    catalogue = load_catalogue()
    plans = _plan(catalogue, n, seed)
    bases = {}
    for d, y in {(p["department"], p["year"]) for p in plans}:
        bases[(d, y)] = write_template(catalogue, d, y, directory / "bases" / f"{d}_{y}.xlsx")
    jobs = [(p, str(bases[(p["department"], p["year"])]),
             str(directory / "inbox" / p["department"] / f"{p['i']:05d}_{era_year(p['year'])}_{p['department']}.xlsx"))
            for p in plans]
    with ProcessPoolExecutor(workers or os.cpu_count()) as pool:
        list(pool.map(_fill, jobs, chunksize=32))
    manifest = {"n": n, "seed": seed, "source": source, "rejects": sum(p["reject"] for p in plans),
                "files": [j[2] for j in jobs]}
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return manifest


SURVEY_REJECT_EVERY = 20  # 5%, as the returns: a numerator typed above its denominator


def _survey_digest() -> str:
    """Changes to the template, the demo's sample counts or this generator invalidate cached survey sheets."""
    import hashlib

    import shinchoku.documents.template
    import shinchoku.run.demo

    digest = hashlib.sha256()
    for module in (shinchoku.documents.template.__file__, shinchoku.run.demo.__file__, __file__):
        digest.update(Path(module).read_bytes())
    return digest.hexdigest()[:16]


def generate_surveys(directory: Path, seed: int = 2021) -> dict:
    """The survey sheets (調査票) of 福島県 and the 59 municipalities for FY2021–FY2024 (240 files) under
    ``directory/inbox/<団体名>/``, counts from the demo's ``sample_counts`` written in the one pass that writes each
    sheet; every 20th with GOV-K01's online count above its total (rejected). Reused when already there."""
    from shinchoku.documents.template import survey_file_name, write_survey
    from shinchoku.run.demo import sample_counts

    manifest_path = directory / "manifest.json"
    source = _survey_digest()
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if (manifest.get("seed"), manifest.get("source")) == (seed, source):
            return manifest
    shutil.rmtree(directory, ignore_errors=True)
    catalogue = load_catalogue()
    files, rejects = [], 0
    for year in YEARS:
        for code, counts in sample_counts(catalogue, year, seed).items():
            name = catalogue.local_governments_by_code[code].name
            i = len(files)
            if i % SURVEY_REJECT_EVERY == 7:
                counts = {**counts, ("GOV-K01", "online"): counts[("GOV-K01", "total")] + 1}
                rejects += 1
            path = write_survey(catalogue, code, year, directory / "inbox" / name / survey_file_name(name, year),
                                counts=counts)
            stamp = 1_690_000_000 + i  # fixed, distinct, before the returns'
            os.utime(path, (stamp, stamp))
            files.append(str(path))
    manifest = {"seed": seed, "source": source, "rejects": rejects, "files": files}
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return manifest
