"""One configuration object: paths, grade bands, limits and the schedule.

Defaults work from a fresh clone. Each can be overridden, in rising order of
precedence, by ``shinchoku.toml`` (or the file named by ``SHINCHOKU_CONFIG``),
by ``SHINCHOKU_*`` environment variables, and by command-line flags.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE_DIR = ROOT / "catalogue"
VIEWS_DIR = ROOT / "warehouse" / "views"


class ConfigError(Exception):
    """A setting has a value shinchoku cannot use."""


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


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know, resolved once."""

    inbox: Path = ROOT / "inbox"
    warehouse: Path = ROOT / "warehouse" / "shinchoku.duckdb"
    settle_seconds: float = 60.0
    # pace_rate lower bounds, best grade first; anything below the last is D.
    grade_bands: tuple[tuple[str, float], ...] = (("A", 1.0), ("B", 0.8), ("C", 0.5))
    grade_floor: str = "D"
    # A fiscal year's return is due on this month/day of the following calendar year
    # (FY2023 = April 2023 - March 2024, due 2024-06-30 by default).
    due_month: int = 6
    due_day: int = 30
    schedule_cron: str = "0 2 * * *"
    schedule_timezone: str = "Asia/Tokyo"
    workers: int = 0  # 0: one per core
    limits: Limits = field(default_factory=Limits)

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
    def staging_dir(self) -> Path:
        return self.warehouse.parent / ".staging"

    def worker_count(self) -> int:
        return self.workers or max(1, os.cpu_count() or 1)


def _parse_bands(text: str) -> tuple[tuple[str, float], ...]:
    """Parse ``A=1.0,B=0.8,C=0.5`` into grade bands, best first."""
    bands = []
    for part in text.split(","):
        name, _, value = part.partition("=")
        try:
            bands.append((name.strip(), float(value)))
        except ValueError:
            raise ConfigError(f"grade band {part!r} is not NAME=NUMBER") from None
    bands.sort(key=lambda b: -b[1])
    return tuple(bands)


def load_settings(
    *,
    inbox: str | os.PathLike | None = None,
    warehouse: str | os.PathLike | None = None,
    settle_seconds: float | None = None,
    env: dict[str, str] | None = None,
    config_file: str | os.PathLike | None = None,
) -> Settings:
    """Resolve settings from defaults, the config file, the environment and flags."""
    env = dict(os.environ) if env is None else env
    values: dict = {}
    limits: dict = {}

    path = config_file or env.get("SHINCHOKU_CONFIG") or ROOT / "shinchoku.toml"
    path = Path(path)
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise ConfigError(f"{path}: {e}") from None
        paths = data.get("paths", {})
        if "inbox" in paths:
            values["inbox"] = (path.parent / paths["inbox"]).resolve()
        if "warehouse" in paths:
            values["warehouse"] = (path.parent / paths["warehouse"]).resolve()
        run = data.get("run", {})
        for key in ("settle_seconds", "workers"):
            if key in run:
                values[key] = run[key]
        grades = data.get("grades", {})
        if grades:
            values["grade_bands"] = tuple(sorted(((k, float(v)) for k, v in grades.items()), key=lambda b: -b[1]))
        status = data.get("status", {})
        for key in ("due_month", "due_day"):
            if key in status:
                values[key] = int(status[key])
        schedule = data.get("schedule", {})
        if "cron" in schedule:
            values["schedule_cron"] = schedule["cron"]
        if "timezone" in schedule:
            values["schedule_timezone"] = schedule["timezone"]
        limits.update(data.get("limits", {}))

    if env.get("SHINCHOKU_INBOX"):
        values["inbox"] = Path(env["SHINCHOKU_INBOX"])
    if env.get("SHINCHOKU_WAREHOUSE"):
        values["warehouse"] = Path(env["SHINCHOKU_WAREHOUSE"])
    if env.get("SHINCHOKU_SETTLE_SECONDS"):
        values["settle_seconds"] = env["SHINCHOKU_SETTLE_SECONDS"]
    if env.get("SHINCHOKU_GRADE_BANDS"):
        values["grade_bands"] = _parse_bands(env["SHINCHOKU_GRADE_BANDS"])
    if env.get("SHINCHOKU_WORKERS"):
        values["workers"] = env["SHINCHOKU_WORKERS"]
    if env.get("SHINCHOKU_SCHEDULE_CRON"):
        values["schedule_cron"] = env["SHINCHOKU_SCHEDULE_CRON"]
    if env.get("SHINCHOKU_SCHEDULE_TIMEZONE"):
        values["schedule_timezone"] = env["SHINCHOKU_SCHEDULE_TIMEZONE"]

    if inbox is not None:
        values["inbox"] = Path(inbox)
    if warehouse is not None:
        values["warehouse"] = Path(warehouse)
    if settle_seconds is not None:
        values["settle_seconds"] = settle_seconds

    try:
        if "settle_seconds" in values:
            values["settle_seconds"] = float(values["settle_seconds"])
        if "workers" in values:
            values["workers"] = int(values["workers"])
        lim = Limits(**{k: int(v) for k, v in limits.items()})
    except (TypeError, ValueError) as e:
        raise ConfigError(f"invalid setting: {e}") from None
    if values.get("settle_seconds", 0) < 0:
        raise ConfigError("settle seconds must not be negative")
    for key in ("inbox", "warehouse"):
        if key in values:
            values[key] = Path(values[key]).expanduser().absolute()
    if "warehouse" in values and values["warehouse"].suffix != ".duckdb":
        raise ConfigError(f"--warehouse names the .duckdb file, got {values['warehouse']}")
    return dataclasses.replace(Settings(limits=lim), **values)
