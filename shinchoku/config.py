"""One configuration object: paths, grade bands, limits and the schedule (``Settings``), and the project folder.

Plain Python: the parsing workers import it without pydantic. Defaults work from a fresh clone. Each
can be overridden, in rising order of precedence, by ``shinchoku.toml`` (or the file named by
``SHINCHOKU_CONFIG``), by ``SHINCHOKU_*`` environment variables, and by command-line flags, all read by
:func:`shinchoku.settings.load_settings`.
"""

from __future__ import annotations

import decimal
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the source tree the package runs from
PROJECT_MARKER = Path("catalogue") / "kpis.csv"


class ConfigError(Exception):
    """A setting has a value shinchoku cannot use."""


def find_project(env: dict[str, str] | None = None, cwd: Path | None = None, source: Path = ROOT) -> Path:
    """The project folder (the one holding catalogue/kpis.csv), looked for in this order:

    ``--project DIR`` (which the CLI puts in SHINCHOKU_PROJECT), SHINCHOKU_PROJECT, the current
    folder and its parents, and last the source tree the package runs from. ConfigError says
    where it looked when none is found.
    """
    env = os.environ if env is None else env
    named = env.get("SHINCHOKU_PROJECT")
    if named:
        folder = Path(named).expanduser().absolute()
        if (folder / PROJECT_MARKER).is_file():
            return folder
        raise ConfigError(f"--project / SHINCHOKU_PROJECT の {folder} に {PROJECT_MARKER} がありません")
    here = (cwd or Path.cwd()).absolute()
    for folder in (here, *here.parents):
        if (folder / PROJECT_MARKER).is_file():
            return folder
    if (source / PROJECT_MARKER).is_file():
        return source
    raise ConfigError(f"プロジェクトのフォルダ({PROJECT_MARKER} のあるフォルダ)が見つかりません。"
                      f"探した場所: --project と SHINCHOKU_PROJECT(指定なし)、{here} とその上のフォルダ、{source}。"
                      "--project DIR か環境変数 SHINCHOKU_PROJECT で指定してください。")


def catalogue_dir() -> Path:
    """The project's catalogue folder."""
    return find_project() / "catalogue"


def views_dir() -> Path:
    """The view definitions: the project's own warehouse/views, or those of the source tree."""
    own = find_project() / "warehouse" / "views"
    return own if own.is_dir() else ROOT / "warehouse" / "views"


@dataclass(frozen=True)
class Limits:
    """Bounds that keep one hostile workbook from exhausting memory or time."""

    max_file_bytes: int = 20 * 1024 * 1024
    max_uncompressed_bytes: int = 200 * 1024 * 1024
    max_part_bytes: int = 64 * 1024 * 1024
    max_zip_entries: int = 10_000
    max_sheets: int = 50
    max_rows: int = 5_000
    max_columns: int = 200
    max_cell_chars: int = 10_000
    max_cells: int = 200_000  # non-empty cells across all sheets
    max_xml_depth: int = 64  # nesting of one part (Excel's own parts: about 10)
    max_xml_elements: int = 1_500_000  # elements in one part
    max_seconds_per_file: float = 30.0  # reading one workbook, checked while parsing


_EXACT = decimal.Context(prec=80, rounding=decimal.ROUND_HALF_UP)


def exact_value(x: float) -> Fraction:
    """A value as the decimal it was written as (its shortest decimal form) to 12 places, rounded half away from
    zero: the warehouse's macro exact_value. Paces are fractions of these, so a grade never rests on float noise."""
    return Fraction(decimal.Decimal(repr(float(x))).quantize(decimal.Decimal("1e-12"), context=_EXACT))


def exact_bound(x: float) -> Fraction:
    """A band's lower bound (min_pace) as a decimal to 6 places: the warehouse's macro exact_bound."""
    return Fraction(decimal.Decimal(repr(float(x))).quantize(decimal.Decimal("1e-6"), context=_EXACT))


@dataclass(frozen=True)
class GradeBand:
    """One grade: its name (A), the lowest pace_rate that earns it, and the label managers read (順調)."""

    name: str
    min_pace: float
    label: str


# The plan's own grading: pace against the straight trajectory from baseline to target.
DEFAULT_BANDS = (GradeBand("A", 1.0, "順調"), GradeBand("B", 0.8, "おおむね順調"), GradeBand("C", 0.5, "やや遅れ"))
DEFAULT_FLOOR = GradeBand("D", float("-inf"), "遅れ")
DEFAULT_LABELS = {b.name: b.label for b in (*DEFAULT_BANDS, DEFAULT_FLOOR)}


@dataclass(frozen=True)
class Grading:
    """The grade bands in use (best first) and the floor: the rule kpi_progress applies, for checks on one file."""

    bands: tuple[GradeBand, ...] = DEFAULT_BANDS
    floor: str = DEFAULT_FLOOR.name
    floor_label: str = DEFAULT_FLOOR.label

    def label(self, grade: str | None) -> str:
        """What managers read for a grade: 順調, やや遅れ..."""
        return next((b.label for b in self.bands if b.name == grade), self.floor_label if grade == self.floor else "")

    def grade(self, pace: Fraction | float | None, reached: bool) -> str | None:
        """The grade of a pace_rate: the best band it meets, the floor below them; the best when reached. The pace
        (exact, from catalogue.Kpi.pace) is compared with each bound as a decimal, as the macro grade_of does."""
        if reached:
            return self.bands[0].name
        if pace is None:
            return None
        return next((b.name for b in self.bands if pace >= exact_bound(b.min_pace)), self.floor)

    def behind(self, pace: Fraction | float | None, reached: bool) -> bool:
        """Graded below the second-best band (C or D by default): the return must say why (要因分析)."""
        below = self.explain_below
        return not reached and pace is not None and below is not None and pace < exact_bound(below)

    @property
    def explain_below(self) -> float | None:
        """Below this pace a KPI's return must say why (要因分析): the second-best band's lower bound."""
        return self.bands[1].min_pace if len(self.bands) > 1 else None


@dataclass(frozen=True)
class Mail:
    """E-mail to the submitters (receipts, error lists, reminders) through an SMTP server; no host: mail is off.

    The password never comes from a file: SHINCHOKU_MAIL_PASSWORD, or the Prefect Secret block named by
    ``password_secret`` (resolved by flows/ only)."""

    host: str | None = None
    port: int | None = None  # None: 587 with STARTTLS, 465 with SSL, 25 without
    security: str = "starttls"  # starttls | ssl | none
    user: str | None = None  # None: no authentication (a relay that trusts the host)
    password: str | None = field(default=None, repr=False, compare=False)
    password_secret: str | None = None
    password_problem: str | None = field(default=None, compare=False)  # why password_secret gave none (flows/)
    sender: str | None = None  # From: 福島県 DX推進課 <dx@pref.example.lg.jp>
    reply_to: str | None = None  # Reply-To: the DX office (default: the sender)
    ca_file: Path | None = None  # a private CA for the relay's certificate (default: the system's)
    timeout_seconds: float = 30.0
    max_attachment_bytes: int = 5 * 2**20  # a larger annotated copy stays in rejected/ only, and the mail says so
    # shinchoku remind: days before and after a fiscal year's due date on which the unreported are reminded
    remind_before_days: tuple[int, ...] = (1, 7)
    remind_after_days: tuple[int, ...] = (1, 7, 14, 30)

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    @property
    def smtp_port(self) -> int:
        return self.port or {"ssl": 465, "none": 25}.get(self.security, 587)


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know, resolved once."""

    project: Path = ROOT
    inbox: Path = ROOT / "inbox"
    warehouse: Path = ROOT / "warehouse" / "shinchoku.duckdb"
    settle_seconds: float = 60.0
    # pace_rate lower bounds, best grade first; anything below the last band gets the floor.
    grade_bands: tuple[GradeBand, ...] = DEFAULT_BANDS
    grade_floor: str = DEFAULT_FLOOR.name
    floor_label: str = DEFAULT_FLOOR.label
    # A fiscal year's return is due on this month/day of the following calendar year
    # (FY2023 = April 2023 - March 2024, due 2024-06-30 by default).
    due_month: int = 6
    due_day: int = 30
    # 見通し (kpi_outlook): pace_ratio at or above on_track is 達成見込み, at or above accelerate 要加速,
    # below it 達成困難.
    outlook_on_track: float = 1.0
    outlook_accelerate: float = 0.6
    schedule_cron: str = "0 2 * * *"
    schedule_timezone: str = "Asia/Tokyo"
    workers: int = 0  # 0: one per core
    limits: Limits = field(default_factory=Limits)
    # The progress site (shinchoku site), rebuilt after each run when site_build is on: the 庁内用 edition
    # into site_dir (default: site/ beside the warehouse file), the 公開用 one into public_site_dir if set.
    site_build: bool = True
    site_dir: Path | None = None
    public_site_dir: Path | None = None
    mail: Mail = field(default_factory=Mail)

    @property
    def archive_dir(self) -> Path:
        """Content-addressed store of every workbook received, byte for byte."""
        return self.warehouse.parent / "archive"

    @property
    def lock_path(self) -> Path:
        return self.warehouse.with_name(self.warehouse.name + ".lock")

    @property
    def journal_path(self) -> Path:
        return self.warehouse.with_name(self.warehouse.name + ".journal.json")

    @property
    def mail_journal_path(self) -> Path:
        """Each mail as it goes out, before the warehouse records it (shinchoku.run.mail)."""
        return self.warehouse.with_name(self.warehouse.name + ".mail.jsonl")

    @property
    def staging_dir(self) -> Path:
        return self.warehouse.parent / ".staging"

    @property
    def site_folder(self) -> Path:
        return self.site_dir or self.warehouse.parent / "site"

    @property
    def grading(self) -> Grading:
        return Grading(self.grade_bands, self.grade_floor, self.floor_label)

    def worker_count(self) -> int:
        return self.workers or max(1, os.cpu_count() or 1)
