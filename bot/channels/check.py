"""``csbot channels check NAME``: what is configured, then a signed sample request end to end.

Only click is imported at module level, so ``csbot --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from bot.channels.base import RawRequest

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


@click.group("channels")
def channels() -> None:
    """聊天平台渠道：检查配置，向运行中的服务发送签名的样例请求。"""


def send(base_url: str, req: RawRequest, timeout: float = 10.0) -> tuple[int, bytes]:
    """Send ``req`` to ``base_url`` + its path; (status, body). OSError if unreachable."""
    import urllib.error
    import urllib.parse
    import urllib.request

    url = base_url.rstrip("/") + req.path
    if req.query:
        url += "?" + urllib.parse.urlencode(dict(req.query))  # '+' and '/' percent-encoded
    request = urllib.request.Request(url, data=req.body or None, method=req.method,
                                     headers=dict(req.headers))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return int(resp.status), bytes(resp.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), bytes(exc.read())


def _http_url(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """--url is the service's address: http:// or https:// and a host (a usage error otherwise)."""
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(f"“{value}”不是服务的地址，应写成 http://127.0.0.1:8080 这样", ctx, param)
    return value


def unreachable(exc: OSError) -> str:
    """Why the service could not be reached, in Chinese (urllib's English otherwise)."""
    import errno
    import socket
    import urllib.error

    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, socket.gaierror):
        return "找不到这个主机名（地址写错了？）"
    if isinstance(reason, TimeoutError):
        return "等了 10 秒没有应答"
    if isinstance(reason, OSError) and reason.errno in (errno.ECONNREFUSED, errno.ECONNRESET):
        return "连接被拒绝（这个地址和端口上没有服务在监听）" if reason.errno == errno.ECONNREFUSED \
            else "连接被对方断开"
    if isinstance(reason, OSError) and reason.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "网络不通"
    return str(reason)


@channels.command("check")
@click.argument("name", metavar="渠道名")
@click.option("--url", default="http://127.0.0.1:8080", show_default=True, callback=_http_url,
              help="运行中的 csbot serve 地址；样例请求发到 <地址>/hooks/<渠道名>")
@click.option("--dev", is_flag=True, help="开发模式：允许缺少签名密钥")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), default=None,
              envvar="CSBOT_CONFIG", help="TOML 配置文件（和 csbot serve 用的同一个）")
def check(name: str, url: str, dev: bool, config: Path | None) -> None:
    """检查一个渠道的配置，并发送一个按平台规则签名的样例请求。

    渠道名：wecom、dingtalk、feishu、telegram、slack、webhook。"""
    import time

    from bot.channels.base import ConfigError
    from bot.channels.registry import ADAPTERS
    from bot.cli_options import settings
    from bot.settings import file_key

    s = settings(config)  # a broken --config file: Chinese, exit 2
    env = s.channel_env()
    cls = ADAPTERS.get(name)
    if cls is None:
        click.echo(f"未知渠道：{name}。可选：{'、'.join(ADAPTERS)}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"{cls.title}（{name}），平台后台填写的回调地址：https://<你的域名>/hooks/{name}")
    # Each setting by both its names: a lead who keeps the settings in the --config file
    # looks for the file's key, not the variable; a set one says where it was read.
    click.echo("每项设置写成环境变量（前一个名字），或写进 --config 的设置文件（后一个名字）：")
    for setting, present in cls.describe(env):
        mark = "✓ 已设置" if present else "✗ 未设置"
        notes = (["可选"] if setting.role == "optional" else []) + \
            ([f"来自{s.origin(file_key(setting.env))}"] if present else [])
        note = f"（{'，'.join(notes)}）" if notes else ""
        click.echo(f"  {mark}  {setting.env} 或 {file_key(setting.env)}：{setting.label}{note}")
    try:
        adapter = cls.from_settings(env, dev)
    except ConfigError as exc:
        click.echo(f"配置不完整，服务将拒绝启动：{s.explain(str(exc))}", err=True)
        sys.exit(EXIT_FAILED)
    if adapter is None:  # nothing set: say what a working channel needs, as a partial one does
        needed = "、".join(f"{x.env} 或 {file_key(x.env)}（{x.label}）"
                          for x in cls.settings if x.role in ("required", "secret"))
        click.echo(f"{cls.title}渠道一项都没有设置，服务不会启用它。要启用，请设置：{needed}（见 docs/channels.md）",
                   err=True)
        sys.exit(EXIT_FAILED)
    probe = adapter.probe(time.time())
    target = url.rstrip("/") + probe.request.path
    try:
        status, body = send(url, probe.request)
    except OSError as exc:
        click.echo(f"无法连接 {target}：{unreachable(exc)}。服务是否已用 csbot serve 启动？", err=True)
        sys.exit(EXIT_FAILED)
    click.echo(f"已发送 {probe.description} 到 {target}，服务返回 HTTP {status}")
    if probe.check(status, body):
        click.echo("✓ 端到端检查通过：签名、解密和应答都符合平台要求。")
        return
    snippet = body[:300].decode("utf-8", "replace")
    click.echo(f"✗ 应答不符合预期：{snippet}", err=True)
    sys.exit(EXIT_FAILED)
