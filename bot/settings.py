"""Settings from CSBOT_* environment variables and an optional TOML file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Settings(BaseSettings):
    """csbot settings. Command-line flags override these; these override the TOML file."""

    model_config = SettingsConfigDict(env_prefix="CSBOT_", extra="ignore")

    database_url: str = "sqlite:///csbot.db"
    host: str = "127.0.0.1"
    port: int = 8080
    dialogs: Path | None = None
    templates: Path | None = None
    tone: str = "正式"
    config: Path | None = None
    tokens: str | None = None  # JSON list of {name, role, shop, sha256}
    dev: bool = False
    max_body: int = 64 * 1024
    sqlite_synchronous: str = "FULL"
    shop: str = "本店"  # the shop of cases opened from a team chat with /new
    access_log: bool = False  # one log line per request costs throughput; opt in

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = os.environ.get("CSBOT_CONFIG")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(toml)))
        return tuple(sources)


def load_settings(config: str | Path | None = None, **overrides: Any) -> Settings:
    """Settings with an optional TOML file (``--config``, else CSBOT_CONFIG) and flag overrides."""
    toml = config or os.environ.get("CSBOT_CONFIG")

    class FromFile(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
            if toml:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(toml)))
            return tuple(sources)

    return FromFile(**{k: v for k, v in overrides.items() if v is not None})
