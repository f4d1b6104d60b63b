"""Settings: defaults, CSBOT_* variables, a TOML file, and flags over both."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("CSBOT_CONFIG", "CSBOT_PORT", "CSBOT_DATABASE_URL", "CSBOT_HOST"):
        monkeypatch.delenv(var, raising=False)
    s = Settings()
    assert (s.database_url, s.host, s.port, s.sqlite_synchronous) == ("sqlite:///csbot.db", "127.0.0.1", 8080, "FULL")


def test_toml_then_environment_then_flags(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    toml = tmp_path / "csbot.toml"
    toml.write_text('port = 9001\nhost = "0.0.0.0"\nshop = "柚子家女装"\n', encoding="utf-8")
    monkeypatch.delenv("CSBOT_PORT", raising=False)
    monkeypatch.delenv("CSBOT_CONFIG", raising=False)
    s = load_settings(toml)
    assert (s.port, s.host, s.shop) == (9001, "0.0.0.0", "柚子家女装")
    monkeypatch.setenv("CSBOT_PORT", "9002")
    assert load_settings(toml).port == 9002
    assert load_settings(toml, port=9003).port == 9003


def test_a_bad_sqlite_synchronous_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSBOT_SQLITE_SYNCHRONOUS", "FULL; DROP TABLE turns")
    with pytest.raises(ValueError, match="sqlite_synchronous"):
        Settings()


def test_the_token_cache_time_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CSBOT_TOKEN_CACHE_SECONDS", raising=False)
    assert Settings().token_cache_seconds == 10.0
    monkeypatch.setenv("CSBOT_TOKEN_CACHE_SECONDS", "0")
    assert Settings().token_cache_seconds == 0.0
    monkeypatch.setenv("CSBOT_TOKEN_CACHE_SECONDS", "-1")
    with pytest.raises(ValueError, match="token_cache_seconds"):
        Settings()
