"""Settings from CSBOT_* environment variables and an optional TOML file."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, PrivateAttr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

_CHANNELS = frozenset({"wecom", "dingtalk", "feishu", "telegram", "slack", "webhook",
                       "escalation"})  # the supervisors' notice (bot/server/escalation.py)


class Settings(BaseSettings):
    """csbot settings. Command-line flags override these; these override the TOML file."""

    # An empty variable (`export CSBOT_DIALOGS=`) is one not set, as click reads it for --dialogs:
    # not the current folder as the data folder, not a port of ""
    model_config = SettingsConfigDict(env_prefix="CSBOT_", extra="ignore", env_ignore_empty=True)
    toml_file: ClassVar[Path | None] = None  # set by load_settings(--config)
    # Where the values came from, so that an error names the file and key or the variable
    # the person actually wrote (set by load_settings).
    _file: Path | None = PrivateAttr(default=None)
    _flags: dict[str, str] = PrivateAttr(default_factory=dict)  # field -> the flag as typed (--db)

    database_url: str = "sqlite:///csbot.db"
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    dialogs: Path | None = None
    templates: Path | None = None
    tokens: str | None = None  # JSON list of {name, role, shop, sha256}
    dev: bool = False
    max_body: int = 64 * 1024
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = "FULL"  # goes into a PRAGMA
    shop: str = "本店"  # the shop of cases opened from a team chat with /new
    access_log: bool = False  # one log line per request costs throughput; opt in
    # How long the service trusts a token it looked up in the database: a revoked token stops
    # working within this many seconds (0: look it up on every request).
    token_cache_seconds: float = Field(default=10.0, ge=0, allow_inf_nan=False)
    # Intake (bot/intake): Taobao's open platform (TOP), the queue and the contact rules.
    top_app_key: str | None = None
    top_app_secret: str | None = None
    top_session: str | None = None  # the shop's authorised session key (sessionKey)
    top_api_base: str = "https://eco.taobao.com/router/rest"
    top_sign_method: Literal["md5", "hmac"] = "md5"
    # First contact within this after the review (at most the 30 days a buyer has to change it).
    first_contact_hours: float = Field(default=24.0, gt=0, le=720, allow_inf_nan=False)
    quiet_hours: str = "21:00-08:00"  # no contact in these hours of the shop's time zone
    shop_timezone: str = "Asia/Shanghai"
    purge_days: int | None = Field(default=None, ge=1)  # `csbot purge`: case text older than this goes
    # A connection must send its request's headers within this many seconds (and an idle
    # keep-alive connection is closed after it): slow, trickling headers hold no socket.
    header_timeout: float = Field(default=15.0, gt=0, allow_inf_nan=False)

    # Chat channels (docs/channels.md). They are fields of this one model so that the TOML
    # file sets them like everything else; the adapters get them by their CSBOT_ names.
    wecom_token: str | None = None
    wecom_aes_key: str | None = None
    wecom_corp_id: str | None = None
    wecom_secret: str | None = None
    wecom_agent_id: str | None = None
    wecom_api_base: str | None = None
    dingtalk_app_key: str | None = None
    dingtalk_app_secret: str | None = None
    dingtalk_token: str | None = None
    dingtalk_aes_key: str | None = None
    dingtalk_api_base: str | None = None
    dingtalk_oapi_base: str | None = None
    dingtalk_max_skew_seconds: str | None = None  # checked by the adapter (1 to 3600)
    feishu_app_id: str | None = None
    feishu_app_secret: str | None = None
    feishu_encrypt_key: str | None = None
    feishu_verification_token: str | None = None
    feishu_api_base: str | None = None
    telegram_bot_token: str | None = None
    telegram_secret_token: str | None = None
    telegram_api_base: str | None = None
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_api_base: str | None = None
    webhook_secret: str | None = None
    webhook_callback_url: str | None = None
    # Where "请主管介入" notifies the supervisors (a group robot's URL), and its body's format.
    escalation_webhook: str | None = None
    escalation_format: str | None = None

    @field_validator("database_url")
    @classmethod
    def _a_file_is_sqlite(cls, value: str) -> str:
        """A plain path (`--db /path/cases.db`, `--db 案例.db`) is a SQLite file there, as a
        person types it; an address with a scheme (sqlite://, postgresql://) is taken as written."""
        if value and "://" not in value and value != ":memory:":
            return f"sqlite:///{value}"
        return value

    @field_validator("dialogs", "templates")
    @classmethod
    def _a_folder(cls, value: Path | None) -> Path | None:
        """A shop's data folder that is not there: said with where it was written, not as
        ten missing files under it."""
        if value is not None and not value.is_dir():
            said = "不是文件夹" if value.exists() else "文件夹不存在"
            raise ValueError(f"{said}：{value}")
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours_readable(cls, value: str) -> str:
        """Read when the settings load, so that a bad value is told with its source (and
        exit 2) like any other setting, not when the queue is first built."""
        from bot.quiet import RulesError, quiet_span

        try:
            quiet_span(value)
        except RulesError:
            raise ValueError(f"免打扰时段应写成 21:00-08:00 这样，实际是 {value!r}") from None
        return value

    @field_validator("shop_timezone")
    @classmethod
    def _time_zone_known(cls, value: str) -> str:
        from bot.quiet import RulesError, shop_zone

        try:
            shop_zone(value)
        except RulesError:
            raise ValueError(f"不认识这个时区，实际是 {value!r}（应写成 Asia/Shanghai 这样的时区名，"
                             "大小写要对）") from None
        return value

    def channel_env(self) -> dict[str, str]:
        """The channel settings that are set, by their environment names (CSBOT_WECOM_TOKEN…),
        whether they came from the environment or the TOML file."""
        return {f"CSBOT_{name.upper()}": str(value)
                for name, value in self.model_dump().items()
                if name.split("_", 1)[0] in _CHANNELS and value not in (None, "")}

    def origin(self, name: str) -> str:
        """Where the setting ``name`` was read, in Chinese: the flag, the variable or the file's
        key and line (the same order of precedence as the sources)."""
        return _origin(name, self._file, self._flags)

    def explain(self, message: str) -> str:
        """``message`` (a channel's ConfigError, say, which speaks of CSBOT_* variables) with
        each variable named where its value really came from."""
        return _VAR.sub(lambda m: self.origin(m.group(1).lower())
                        if m.group(1).lower() in type(self).model_fields else m.group(0), message)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = cls.toml_file or os.environ.get("CSBOT_CONFIG")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(toml)))
        return tuple(sources)


class SettingsError(ValueError):
    """Settings that cannot be used, said in Chinese (the file, the key and what is wrong)."""


def load_settings(config: str | Path | None = None, flag_names: Mapping[str, str] | None = None,
                  **overrides: Any) -> Settings:
    """Settings with an optional TOML file (``--config``, else CSBOT_CONFIG) and flag overrides.
    Raises SettingsError for a key the file misspells (the environment may hold other
    CSBOT_ variables; the file holds only settings), bad TOML or a bad value.
    ``flag_names``: each override's flag as the command spells it (``database_url``: ``--db``),
    for the errors; by default ``--`` and the setting's name with hyphens."""
    from pydantic import ValidationError

    from bot.dataload import message_of

    toml = Path(config) if config else (Path(os.environ["CSBOT_CONFIG"]) if os.environ.get("CSBOT_CONFIG") else None)
    where = f"设置有误（{toml}）" if toml else "设置有误"
    if toml is not None and not toml.is_file():
        raise SettingsError(f"找不到设置文件：{toml}")
    if toml is not None:
        try:
            keys = set(tomllib.loads(toml.read_text(encoding="utf-8")))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{where}：不是合法的 TOML：{exc}") from exc
        unknown = sorted(keys - set(Settings.model_fields))
        if unknown:
            raise SettingsError("\n".join(f"{where}：{k}：不认识这个设置（拼写错了？）" for k in unknown))
    cls = type("FromFile", (Settings,), {"toml_file": Path(config)}) if config else Settings
    flags = {k: (flag_names or {}).get(k) or "--" + k.replace("_", "-")
             for k, v in overrides.items() if v is not None}
    try:
        settings: Settings = cls(**{k: overrides[k] for k in flags})
    except ValidationError as exc:
        # Each line names where its value came from: the flag, the variable or the file.
        raise SettingsError("\n".join(
            f"设置有误：{'.'.join(map(str, e['loc']))}：{message_of(e).rstrip('。')}。"
            f"请检查{_origin(str(e['loc'][0]), toml, flags) if e['loc'] else '环境变量、设置文件和命令行参数'}。"
            for e in exc.errors())) from exc
    settings._file, settings._flags = toml, flags
    return settings


_VAR = re.compile(r"\bCSBOT_([A-Z0-9_]+)\b")


def file_key(var: str) -> str:
    """The TOML file's key of the setting whose variable is ``var`` (CSBOT_TELEGRAM_BOT_TOKEN:
    telegram_bot_token)."""
    return var.removeprefix("CSBOT_").lower()


def _origin(name: str, toml: Path | None, flags: Mapping[str, str]) -> str:
    """Where ``name`` was set: a flag beats the variable, the variable beats the file. A
    setting set nowhere is named both ways (it may go in either)."""
    var = f"CSBOT_{name.upper()}"
    if name in flags:
        return f"命令行参数 {flags[name]}"
    if any(k.upper() == var and v for k, v in os.environ.items()):  # an empty one is not set
        return f"环境变量 {var}"
    if toml is None:
        return f"环境变量 {var} 或设置文件里的 {name}"
    line = _line_of(toml, name)
    if line is None:
        return f"设置文件 {toml} 的 {name} 或环境变量 {var}"
    return f"设置文件 {toml} 第 {line} 行的 {name}"


def _line_of(toml: Path, key: str) -> int | None:
    """The line of the file that sets ``key`` at the top level (keys are checked before, so
    the file is valid TOML)."""
    try:
        text = toml.read_text(encoding="utf-8")
    except OSError:
        return None
    pattern = re.compile(rf"""^\s*["']?{re.escape(key)}["']?\s*=""")
    return next((n for n, line in enumerate(text.splitlines(), 1) if pattern.match(line)), None)
