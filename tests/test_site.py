"""The progress site: nothing from a return sheet runs as script. (Its pages over the demo warehouse are
checked in test_demo.py, which builds that warehouse once.)"""

from __future__ import annotations

import shutil
from html.parser import HTMLParser

from shinchoku.ingest import run_ingest
from shinchoku.site import build_site
from shinchoku.template import fill_outcomes, fill_template

PAYLOADS = ("<img src=x onerror=alert(1)>", "</script><script>alert(1)</script>", "javascript:alert(1)")


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of every inline script."""

    def __init__(self):
        super().__init__()
        self.tags, self.scripts, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.scripts.append(data)


def parse(path):
    tags = Tags()
    tags.feed(path.read_text(encoding="utf-8"))
    return tags


def test_text_from_a_return_never_runs_as_script(settings, catalogue, template, tmp_path):
    path = fill_template(template("企画調整部", 2022), {"GOV-K01": 57.0, "REG-K01": 128},
                         explanations={"REG-K01": (PAYLOADS[0], PAYLOADS[1])})
    fill_outcomes(path, [("GOV-01", PAYLOADS[2], PAYLOADS[1], None, None, None)])
    target = settings.inbox / "企画調整部" / f"{PAYLOADS[0]}.xlsx"
    target.parent.mkdir(parents=True)
    shutil.copyfile(path, target)
    assert run_ingest(settings, catalogue).exit_code == 0
    site = build_site(settings.warehouse, tmp_path / "site")
    for page in (site / "kpi" / "REG-K01.html", site / "area" / "GOV.html"):
        text = page.read_text(encoding="utf-8")
        tags = parse(page)
        assert not [t for t, _ in tags.tags if t == "img"], page.name  # the payload is text, not an element
        assert all("alert(1)" not in s or "Plotly.newPlot" in s for s in tags.scripts), page.name
        assert not [a for t, a in tags.tags if t == "a" and (a.get("href") or "").startswith("javascript:")]
        assert "&lt;img src=x onerror=alert(1)&gt;" in text or "&lt;/script&gt;" in text, page.name
    kpi_page = (site / "kpi" / "REG-K01.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;.xlsx" in kpi_page  # the file name, shown as text
