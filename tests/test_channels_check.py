"""``csbot channels check``: settings report and a signed sample request over real HTTP."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from click.testing import CliRunner
from test_channels_support import ENV

from bot.channels.base import Adapter, ChannelError, RawRequest
from bot.channels.check import channels
from bot.channels.registry import ADAPTERS


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("CSBOT_"):
            monkeypatch.delenv(key)


class Bridge(BaseHTTPRequestHandler):
    """A stand-in for the server: hands the raw request to an adapter, as /hooks/{name} will."""

    adapter: Adapter
    seen: list[RawRequest]

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        req = RawRequest(self.command, parts.path, dict(parse_qsl(parts.query)),
                         {k.lower(): v for k, v in self.headers.items()}, body)
        self.seen.append(req)
        try:
            reply, _ = self.adapter.receive(req, time.time())
        except ChannelError as exc:
            reply = exc.reply()
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST = _handle

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def bridge() -> Iterator[Any]:
    servers: list[ThreadingHTTPServer] = []

    def start(adapter: Adapter) -> tuple[str, list[RawRequest]]:
        seen: list[RawRequest] = []
        handler = type("H", (Bridge,), {"adapter": adapter, "seen": seen})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", seen

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


@pytest.mark.parametrize("key", sorted(ENV))
def test_check_signs_a_request_the_server_accepts(key: str, bridge: Any) -> None:
    name = key.split("-")[0]
    adapter = ADAPTERS[name].from_settings(ENV[key])
    assert adapter is not None
    url, seen = bridge(adapter)
    result = CliRunner().invoke(channels, ["check", name, "--url", url], env=ENV[key])
    assert result.exit_code == 0, result.output
    assert "✓ 已设置" in result.output and f"/hooks/{name}" in result.output
    assert "✓ 端到端检查通过" in result.output
    assert [r.path for r in seen] == [f"/hooks/{name}"]


def test_check_reports_a_refusal(bridge: Any) -> None:
    other = ADAPTERS["webhook"].from_settings({"CSBOT_WEBHOOK_SECRET": "a-different-secret"})
    assert other is not None
    url, _ = bridge(other)
    result = CliRunner().invoke(channels, ["check", "webhook", "--url", url], env=ENV["webhook"])
    assert result.exit_code == 1
    assert "HTTP 401" in result.output and "✗" in result.output


def test_check_unknown_unset_partial_and_down() -> None:
    runner = CliRunner()
    result = runner.invoke(channels, ["check", "qq"])
    assert result.exit_code == 2 and "未知渠道" in result.output
    result = runner.invoke(channels, ["check", "slack"])
    assert result.exit_code == 1 and "一项都没有设置" in result.output
    assert "✗ 未设置  CSBOT_SLACK_SIGNING_SECRET 或 slack_signing_secret：" in result.output
    result = runner.invoke(channels, ["check", "slack"], env={"CSBOT_SLACK_BOT_TOKEN": "x"})
    assert result.exit_code == 1 and "CSBOT_SLACK_SIGNING_SECRET" in result.output
    result = runner.invoke(channels, ["check", "webhook", "--url", "http://127.0.0.1:9"],
                           env=ENV["webhook"])
    assert result.exit_code == 1 and "无法连接" in result.output
    assert "连接被拒绝（这个地址和端口上没有服务在监听）" in result.output, result.output  # not urllib's English


@pytest.mark.parametrize("url", ["127.0.0.1:8080", "ftp://127.0.0.1", "http://"])
def test_check_refuses_an_address_that_is_not_http(url: str) -> None:
    """`--url 127.0.0.1:8080` (no http://) ended in a ValueError traceback from urllib."""
    result = CliRunner().invoke(channels, ["check", "webhook", "--url", url], env=ENV["webhook"])
    assert result.exit_code == 2, result.output
    assert f"“{url}”不是服务的地址，应写成 http://127.0.0.1:8080 这样" in result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not a ValueError traceback


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_check_with_nothing_set_names_what_to_set_and_fails(name: str) -> None:
    # "该渠道没有任何设置" said nothing of what a channel needs, on stdout like a success line.
    cls = ADAPTERS[name]
    result = CliRunner().invoke(channels, ["check", name, "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1, result.output
    needed = [s for s in cls.settings if s.role in ("required", "secret")]
    said = "、".join(f"{s.env} 或 {s.env.removeprefix('CSBOT_').lower()}（{s.label}）" for s in needed)
    assert result.stderr.strip() == (f"{cls.title}渠道一项都没有设置，服务不会启用它。"
                                     f"要启用，请设置：{said}（见 docs/channels.md）"), result.stderr


def test_check_never_prints_secret_values() -> None:
    result = CliRunner().invoke(channels, ["check", "slack", "--url", "http://127.0.0.1:9"],
                                env=ENV["slack"])
    assert "8f742231b10e8888" not in result.output


def test_module_imports_only_click() -> None:
    import subprocess
    import sys

    code = ("import sys, bot.channels.check; "
            "print(sorted(m for m in ('aiohttp', 'cryptography', 'pydantic') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_check_names_each_setting_by_its_variable_and_its_key_in_the_file(tmp_path: Any) -> None:
    """A lead who keeps the settings in the --config file saw only CSBOT_ names: each line
    gives both, and a set one says where it was read."""
    toml = tmp_path / "csbot.toml"
    toml.write_text('shop = "柚子家女装"\ntelegram_bot_token = "1:a"\n', encoding="utf-8")
    result = CliRunner().invoke(channels, ["check", "telegram", "--config", str(toml)],
                                env={"CSBOT_TELEGRAM_API_BASE": "http://127.0.0.1:9"})
    lines = result.stdout.splitlines()
    assert (f"  ✓ 已设置  CSBOT_TELEGRAM_BOT_TOKEN 或 telegram_bot_token：BotFather 给的 Bot Token"
            f"（来自设置文件 {toml} 第 2 行的 telegram_bot_token）") in lines, lines
    assert "  ✗ 未设置  CSBOT_TELEGRAM_SECRET_TOKEN 或 telegram_secret_token：setWebhook 的 secret_token" in lines
    assert any(line.startswith("  ✓ 已设置  CSBOT_TELEGRAM_API_BASE 或 telegram_api_base：")
               and line.endswith("（可选，来自环境变量 CSBOT_TELEGRAM_API_BASE）") for line in lines), lines
    # The missing one is named where the lead would put it: the file in use, or the variable.
    assert f"缺少：设置文件 {toml} 的 telegram_secret_token 或环境变量 CSBOT_TELEGRAM_SECRET_TOKEN" in result.stderr
    assert result.exit_code == 1
