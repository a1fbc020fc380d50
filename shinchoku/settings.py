"""Where the settings come from: defaults, shinchoku.toml, the SHINCHOKU_* variables and flags (``load_settings``).

Every value is checked, every error named, by pydantic models, one per section, each refusing unknown
keys. A bad value becomes a :class:`~shinchoku.config.ConfigError` that names the file (or the variable),
the key, and the type or range expected: the DX office reads a sentence, never a traceback.
New sections (the outlook's thresholds, the site's settings) are one model more.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .catalogue_fields import email_addresses
from .config import DEFAULT_BANDS, DEFAULT_FLOOR, DEFAULT_LABELS, ConfigError, GradeBand, Limits, Mail, Settings, find_project


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


class PathsSection(_Section):
    """[paths]: where the inbox and the warehouse are, relative to the configuration file."""

    inbox: str | None = None
    warehouse: str | None = None


class RunSection(_Section):
    """[run]: how a run treats the inbox and how many processes parse."""

    settle_seconds: Annotated[float, Field(ge=0)] | None = None
    workers: Annotated[int, Field(ge=0, le=256)] | None = None


class BandSection(_Section):
    """One [[grades.bands]] entry."""

    name: Annotated[str, Field(min_length=1, max_length=20)]
    min_pace: Annotated[float, Field(ge=-10, le=10)]
    label: Annotated[str, Field(min_length=1, max_length=40)]


def _short_grades(data) -> list[str]:
    """The grade names of the short form ``[grades] A = 1.0``; [] for the full form or anything else."""
    if isinstance(data, dict) and data and not {"bands", "floor", "floor_label"} & set(data):
        return list(data)
    return []


class GradesSection(_Section):
    """[grades]: the bands, best first, and the floor below the last.

    The short form ``[grades] A = 1.0`` (a name and a lower bound each) is still accepted;
    its labels are the plan's own (A 順調 ... D 遅れ), or the name for another grade.
    """

    bands: Annotated[list[BandSection], Field(min_length=1, max_length=10)] = Field(
        default_factory=lambda: [BandSection(name=b.name, min_pace=b.min_pace, label=b.label) for b in DEFAULT_BANDS])
    floor: Annotated[str, Field(min_length=1, max_length=20)] = DEFAULT_FLOOR.name
    floor_label: Annotated[str, Field(min_length=1, max_length=40)] = DEFAULT_FLOOR.label

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data):
        if _short_grades(data):
            return {"bands": [{"name": k, "min_pace": v, "label": DEFAULT_LABELS.get(k, k)} for k, v in data.items()]}
        return data

    @field_validator("bands")
    @classmethod
    def _distinct(cls, bands):
        names = [b.name for b in bands]
        if len(set(names)) != len(names):
            raise ValueError("評価の名前が重複しています")
        for n, (better, band) in enumerate(zip(bands, bands[1:]), start=1):
            if band.min_pace >= better.min_pace:  # best first: each band's lower bound below the one before
                raise PydanticCustomError(
                    "band_order", "評価は良いものから順に、min_pace が前の評価より小さくなるように並べてください"
                                  "({better} の {better_pace} の次の {name} が {pace})",
                    {"index": n, "better": better.name, "better_pace": better.min_pace, "name": band.name,
                     "pace": band.min_pace})
        return bands


class StatusSection(_Section):
    """[status]: when a fiscal year's return is due, in the following calendar year."""

    due_month: Annotated[int, Field(ge=1, le=12)] | None = None
    due_day: Annotated[int, Field(ge=1, le=31)] | None = None


class OutlookSection(_Section):
    """[outlook]: the pace_ratio thresholds of 達成見込み and 要加速 (kpi_outlook)."""

    on_track: Annotated[float, Field(gt=0, le=10)] | None = None
    accelerate: Annotated[float, Field(ge=0, le=10)] | None = None

    @model_validator(mode="after")
    def _ordered(self):
        on_track = Settings.outlook_on_track if self.on_track is None else self.on_track
        accelerate = Settings.outlook_accelerate if self.accelerate is None else self.accelerate
        if accelerate >= on_track:
            raise ValueError(f"accelerate({accelerate})は on_track({on_track})より小さい値にしてください")
        return self


class ScheduleSection(_Section):
    """[schedule]: when ``shinchoku serve`` runs the nightly ingest."""

    cron: Annotated[str, Field(pattern=r"^\S+(\s+\S+){4}$")] | None = None
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone):
        if zone is not None:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"タイムゾーン {zone!r} は不明です(例: Asia/Tokyo)") from None
        return zone


class SiteSection(_Section):
    """[site]: the progress site rebuilt after each run; folders relative to the configuration file."""

    build: bool | None = None
    folder: Annotated[str, Field(min_length=1)] | None = None
    public_folder: Annotated[str, Field(min_length=1)] | None = None


_POSITIVE = Annotated[int, Field(gt=0)]
PASSWORD_VARIABLE = "SHINCHOKU_MAIL_PASSWORD"


class MailSection(_Section):
    """[mail]: the SMTP server the run's mail goes through (no host: mail is off, nothing is sent), who sends it,
    and the days ``shinchoku remind`` reminds on. The password is never in the file: SHINCHOKU_MAIL_PASSWORD,
    or the Prefect Secret block ``password_secret`` names."""

    host: Annotated[str, Field(min_length=1)] | None = None
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    security: Literal["starttls", "ssl", "none"] | None = None
    user: Annotated[str, Field(min_length=1)] | None = None
    password_secret: Annotated[str, Field(min_length=1)] | None = None
    sender: Annotated[str, Field(min_length=1)] | None = None
    reply_to: Annotated[str, Field(min_length=1)] | None = None
    ca_file: Annotated[str, Field(min_length=1)] | None = None
    timeout_seconds: Annotated[float, Field(gt=0, le=600)] | None = None
    max_attachment_bytes: _POSITIVE | None = None
    remind_before_days: list[Annotated[int, Field(ge=1, le=365)]] | None = None
    remind_after_days: list[Annotated[int, Field(ge=1, le=3650)]] | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_password(cls, data):
        if isinstance(data, dict) and "password" in data:
            raise PydanticCustomError(
                "password_in_file", "パスワードは設定ファイルに書けません。環境変数 {variable} か、"
                                    "Prefect の Secret ブロック(password_secret にその名前)で渡してください",
                {"variable": PASSWORD_VARIABLE})
        return data

    @field_validator("sender", "reply_to")
    @classmethod
    def _one_address(cls, text):
        if text is not None:
            from email.utils import parseaddr

            _, address = parseaddr(text)
            try:
                ok = len(email_addresses(address)) == 1 and address in text
            except ValueError:
                ok = False
            if not ok:
                raise ValueError("メールアドレス1つ(例 dx@pref.example.lg.jp、または 福島県 DX推進課 <dx@pref.example.lg.jp>)"
                                 "が必要です")
        return text

    @model_validator(mode="after")
    def _sender_for_a_host(self):
        if self.host and not self.sender:
            raise PydanticCustomError("sender_missing", "メールを送るには差出人 sender が必要です(例 "
                                                        "sender = \"福島県 DX推進課 <dx@pref.example.lg.jp>\")", {})
        return self

    def mail(self, base: Path) -> Mail:
        """The section as :class:`~shinchoku.config.Mail` (``ca_file`` relative to the configuration file)."""
        values = self.model_dump(exclude_none=True, exclude={"ca_file", "remind_before_days", "remind_after_days"})
        if self.ca_file:
            values["ca_file"] = (base / self.ca_file).resolve()
        for key in ("remind_before_days", "remind_after_days"):
            if getattr(self, key) is not None:
                values[key] = tuple(sorted(set(getattr(self, key))))
        return Mail(**values)


class LimitsSection(_Section):
    """[limits]: what one workbook may hold before it is refused."""

    max_file_bytes: _POSITIVE | None = None
    max_uncompressed_bytes: _POSITIVE | None = None
    max_part_bytes: _POSITIVE | None = None
    max_zip_entries: _POSITIVE | None = None
    max_sheets: _POSITIVE | None = None
    max_rows: _POSITIVE | None = None
    max_columns: _POSITIVE | None = None
    max_cell_chars: _POSITIVE | None = None
    max_cells: _POSITIVE | None = None
    max_xml_depth: _POSITIVE | None = None
    max_xml_elements: _POSITIVE | None = None
    max_seconds_per_file: Annotated[float, Field(gt=0)] | None = None


class ConfigFile(_Section):
    """shinchoku.toml as a whole: every section optional, no section unknown."""

    paths: PathsSection = PathsSection()
    run: RunSection = RunSection()
    grades: GradesSection = GradesSection()
    status: StatusSection = StatusSection()
    outlook: OutlookSection = OutlookSection()
    schedule: ScheduleSection = ScheduleSection()
    limits: LimitsSection = LimitsSection()
    site: SiteSection = SiteSection()
    mail: MailSection = MailSection()

    def settings_values(self, base: Path) -> dict:
        """The fields of :class:`~shinchoku.config.Settings` this configuration sets."""
        values: dict = {}
        for section, key, name in ((self.paths, "inbox", "inbox"), (self.paths, "warehouse", "warehouse"),
                                   (self.site, "folder", "site_dir"), (self.site, "public_folder", "public_site_dir")):
            if getattr(section, key) is not None:
                values[name] = (base / getattr(section, key)).resolve()
        if self.site.build is not None:
            values["site_build"] = self.site.build
        for section, keys, rename in ((self.run, ("settle_seconds", "workers"), {}),
                                      (self.status, ("due_month", "due_day"), {}),
                                      (self.outlook, ("on_track", "accelerate"), {"on_track": "outlook_on_track",
                                                                                 "accelerate": "outlook_accelerate"}),
                                      (self.schedule, ("cron", "timezone"), {"cron": "schedule_cron",
                                                                            "timezone": "schedule_timezone"})):
            for key in keys:
                if getattr(section, key) is not None:
                    values[rename.get(key, key)] = getattr(section, key)
        values["grade_bands"] = tuple(GradeBand(b.name, b.min_pace, b.label) for b in self.grades.bands)
        values["grade_floor"], values["floor_label"] = self.grades.floor, self.grades.floor_label
        values["limits"] = Limits(**self.limits.model_dump(exclude_none=True))
        values["mail"] = self.mail.mail(base)
        return values


# Environment variables: (section, key) each sets, and how its text becomes a value.
ENVIRONMENT = {
    "SHINCHOKU_SETTLE_SECONDS": ("run", "settle_seconds"),
    "SHINCHOKU_WORKERS": ("run", "workers"),
    "SHINCHOKU_GRADE_BANDS": ("grades", None),
    "SHINCHOKU_OUTLOOK_ON_TRACK": ("outlook", "on_track"),
    "SHINCHOKU_OUTLOOK_ACCELERATE": ("outlook", "accelerate"),
    "SHINCHOKU_SCHEDULE_CRON": ("schedule", "cron"),
    "SHINCHOKU_SCHEDULE_TIMEZONE": ("schedule", "timezone"),
    "SHINCHOKU_SITE_BUILD": ("site", "build"),
    "SHINCHOKU_MAIL_HOST": ("mail", "host"),
    "SHINCHOKU_MAIL_PORT": ("mail", "port"),
    "SHINCHOKU_MAIL_SECURITY": ("mail", "security"),
    "SHINCHOKU_MAIL_USER": ("mail", "user"),
    "SHINCHOKU_MAIL_SENDER": ("mail", "sender"),
    "SHINCHOKU_MAIL_REPLY_TO": ("mail", "reply_to"),
    "SHINCHOKU_MAIL_PASSWORD_SECRET": ("mail", "password_secret"),
}
_PATH_VARIABLES = {"SHINCHOKU_INBOX": ("paths", "inbox"), "SHINCHOKU_WAREHOUSE": ("paths", "warehouse"),
                   "SHINCHOKU_SITE": ("site", "folder"), "SHINCHOKU_PUBLIC_SITE": ("site", "public_folder"),
                   "SHINCHOKU_MAIL_CA_FILE": ("mail", "ca_file")}


def from_file(path: Path) -> dict:
    """The configuration file's sections, as TOML gives them."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"設定ファイル {path} を TOML として読めません: {e}") from None


def from_environment(env: dict[str, str]) -> tuple[dict, list[str]]:
    """The SHINCHOKU_* variables, as sections (paths are absolute, not relative to the file), and their names."""
    sections: dict = {}
    used = [v for v in (*ENVIRONMENT, *_PATH_VARIABLES) if env.get(v)]
    for variable, (section, key) in ENVIRONMENT.items():
        text = env.get(variable)
        if not text:
            continue
        if key is None:  # A=1.0,B=0.8,C=0.5
            bands = {}
            for part in text.split(","):
                name, _, value = part.partition("=")
                bands[name.strip()] = value.strip()
            sections[section] = bands
        else:
            sections.setdefault(section, {})[key] = text
    for variable, (section, key) in _PATH_VARIABLES.items():
        if env.get(variable):
            sections.setdefault(section, {})[key] = str(Path(env[variable]).absolute())
    return sections, used


_EXPECTED = {
    "float_parsing": "数値", "float_type": "数値", "int_parsing": "整数", "int_type": "整数",
    "int_from_float": "整数", "string_type": "文字列", "list_type": "表の配列([[...]])",
    "model_type": "表([...])", "dict_type": "表([...])", "bool_parsing": "true か false", "bool_type": "true か false",
}


def validate(sections: dict, path: Path, variables: list[str]) -> ConfigFile:
    """Check the sections against the schema; a ConfigError names each bad key and what it needs."""
    short = _short_grades(sections.get("grades"))
    try:
        return ConfigFile.model_validate(sections)
    except ValidationError as e:
        lines = [f"設定に誤りがあります({path}" + (f"、環境変数 {', '.join(variables)}" if variables else "") + "):"]
        for error in e.errors():
            loc = error["loc"]
            if error["type"] == "band_order":  # the band out of order, not the whole list
                loc = (*loc, error["ctx"]["index"], "min_pace")
            if short and loc[:2] == ("grades", "bands") and len(loc) > 2 and isinstance(loc[2], int):
                loc = ("grades", short[loc[2]])  # the short form: name the key the file has
            key = ".".join(str(part) for part in loc)
            kind = error["type"]
            if kind == "extra_forbidden":
                reason = "不明なキーです"
            elif kind in _EXPECTED:
                reason = f"{_EXPECTED[kind]}が必要です(入力: {error.get('input')!r})"
            elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
                bound = next(iter(error.get("ctx", {}).values()), "")
                word = {"greater_than": "より大きい", "greater_than_equal": "以上の",
                        "less_than": "未満の", "less_than_equal": "以下の"}[kind]
                reason = f"{bound} {word}値が必要です(入力: {error.get('input')!r})"
            elif kind in ("string_too_short", "string_too_long"):
                ctx = error.get("ctx", {})
                reason = (f"{ctx.get('min_length')} 文字以上が必要です" if kind == "string_too_short"
                          else f"{ctx.get('max_length')} 文字以下にしてください") + f"(入力: {error.get('input')!r})"
            elif kind in ("band_order", "password_in_file", "sender_missing"):
                reason = error["msg"]
            elif kind == "literal_error":
                expected = "・".join(re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", ""))))
                reason = f"{expected} のいずれかが必要です(入力: {error.get('input')!r})"
            else:
                reason = f"{error['msg'].removeprefix('Value error, ')}(入力: {error.get('input')!r})"
            lines.append(f"  {key}: {reason}")
        raise ConfigError("\n".join(lines)) from None


def load_settings(
    *,
    inbox: str | os.PathLike | None = None,
    warehouse: str | os.PathLike | None = None,
    settle_seconds: float | None = None,
    site_build: bool | None = None,
    env: dict[str, str] | None = None,
    config_file: str | os.PathLike | None = None,
) -> Settings:
    """Resolve settings from defaults, the config file, the environment and flags, validated by one schema.

    Every value from the file and the environment passes through this module's schema;
    a bad one is a :class:`ConfigError` naming the file (or variable), the key and what was expected.
    """
    env = dict(os.environ) if env is None else env
    project = find_project(env)
    path = Path(config_file or env.get("SHINCHOKU_CONFIG") or project / "shinchoku.toml")
    sections = from_file(path) if path.exists() else {}
    overrides, variables = from_environment(env)
    for section, values in overrides.items():
        if section == "grades":
            sections[section] = values  # the variable replaces the file's bands whole
        else:
            sections.setdefault(section, {}).update(values)
    config = validate(sections, path, variables)

    values: dict = {"project": project, "inbox": project / "inbox", "warehouse": project / "warehouse" / "shinchoku.duckdb",
                    **config.settings_values(path.parent)}
    if inbox is not None:
        values["inbox"] = Path(inbox)
    if warehouse is not None:
        values["warehouse"] = Path(warehouse)
    if settle_seconds is not None:
        if settle_seconds < 0:
            raise ConfigError("--settle-seconds: 0 以上の数値を指定してください")
        values["settle_seconds"] = float(settle_seconds)
    if site_build is not None:
        values["site_build"] = site_build
    if env.get(PASSWORD_VARIABLE):
        values["mail"] = dataclasses.replace(values["mail"], password=env[PASSWORD_VARIABLE])
    for key in ("inbox", "warehouse", "site_dir", "public_site_dir"):
        if values.get(key) is not None:
            values[key] = Path(values[key]).expanduser().absolute()
    if "warehouse" in values and values["warehouse"].suffix != ".duckdb":
        raise ConfigError(f"--warehouse names the .duckdb file, got {values['warehouse']}")
    return dataclasses.replace(Settings(), **values)
