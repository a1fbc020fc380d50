"""Refresh the docs' screenshots of the progress site (docs/operators.md): トップ (docs/site-top.png), a KPI page
(docs/site-kpi.png), a computed KPI's map (docs/site-kpi-map.png) and a municipality's page (docs/site-lg.png).

They are taken by the browser test itself (tests/test_demo.py::test_every_page_works_in_a_real_browser),
which saves them into a temporary folder on every run, so test runs never dirty the tree. This script
runs that test with SHINCHOKU_SCREENSHOTS pointing at a folder of its own, then copies the pictures here.

    uv run python scripts/refresh_screenshots.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PICTURES = {"top.png": "site-top.png", "kpi.png": "site-kpi.png", "kpi-map.png": "site-kpi-map.png",
            "lg.png": "site-lg.png"}


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        test = "tests/test_demo.py::test_every_page_works_in_a_real_browser"
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-rs", test], cwd=ROOT,
                                env={**os.environ, "SHINCHOKU_SCREENSHOTS": folder})
        taken = [Path(folder) / name for name in PICTURES]
        if result.returncode != 0 or not all(p.exists() for p in taken):
            print("スクリーンショットを撮れませんでした(上のテスト結果を確認してください)。", file=sys.stderr)
            return 1
        for picture in taken:
            target = ROOT / "docs" / PICTURES[picture.name]
            shutil.copyfile(picture, target)
            print(f"{target.relative_to(ROOT)}: {target.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
