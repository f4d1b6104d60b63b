"""Thousands of generated requests, driven by the OpenAPI document, never get a 5xx."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.pg import create_database, drop_database
from tests.server_proc import TOKEN, ServerProcess, call

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10)


# Channels mounted in the fuzzed service, so their header checks are fuzzed too.
CHANNELS = {"CSBOT_WEBHOOK_SECRET": "shop-secret", "CSBOT_SLACK_BOT_TOKEN": "xoxb",
            "CSBOT_SLACK_SIGNING_SECRET": "8f742231b10e8888", "CSBOT_TELEGRAM_BOT_TOKEN": "1:A",
            "CSBOT_TELEGRAM_SECRET_TOKEN": "example_Secret-123", "CSBOT_DINGTALK_APP_KEY": "k",
            "CSBOT_DINGTALK_APP_SECRET": "s", "CSBOT_FEISHU_APP_ID": "a", "CSBOT_FEISHU_APP_SECRET": "s",
            "CSBOT_FEISHU_ENCRYPT_KEY": "kudryavka", "CSBOT_FEISHU_VERIFICATION_TOKEN": "v"}


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, dict[str, Any], str]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    else:
        url = str(request.getfixturevalue("pg_url"))
    with pytest.MonkeyPatch.context() as mp:
        for key, value in CHANNELS.items():
            mp.setenv(key, value)
        proc = ServerProcess(url).start()
    try:
        status, doc = call(proc.url, "GET", "/api/v1/openapi.json", token=None)
        assert status == 200
        status, body = call(proc.url, "POST", "/api/v1/conversations",
                            {"shop": "店", "buyer_name": "王"})
        assert status == 201
        yield proc, doc, body["conversation"]["id"]  # type: ignore[misc,index]
    finally:
        proc.kill()


def _fields(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return doc["components"]["schemas"][name]["properties"]  # type: ignore[no-any-return]


def bodies(doc: dict[str, Any], schema: str) -> st.SearchStrategy[Any]:
    """Mostly-valid objects with the schema's fields (any values), plus arbitrary JSON."""
    keys = sorted(_fields(doc, schema))
    shaped = st.dictionaries(st.sampled_from([*keys, "extra"]), JSON | st.sampled_from(
        ["buyer", "agent", "resolved", "taobao", "2026-01-01", "", "长" * 3000, "周\u0000敏", "\u0000",
         "m" * 201, "\u200b", "   "]), max_size=len(keys) + 1)
    return shaped | JSON


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_generated_requests_never_get_a_5xx(server: tuple[ServerProcess, dict[str, Any], str],
                                            data: st.DataObject) -> None:
    proc, doc, cid = server
    op = data.draw(st.sampled_from([
        ("POST", "/api/v1/conversations", "CreateConversation"),
        ("POST", f"/api/v1/conversations/{cid}/messages", "MessageIn"),
        ("POST", "/api/v1/conversations/{rand}/messages", "MessageIn"),
        ("POST", f"/api/v1/conversations/{cid}/close", "CloseIn"),
        ("GET", "/api/v1/conversations?{query}", None),
        ("GET", "/api/v1/conversations/{rand}", None),
    ]))
    method, path, schema = op
    path = path.replace("{rand}", data.draw(
        st.text(alphabet="abc-123%", min_size=1, max_size=12)
        | st.sampled_from(["%00", "ab%00cd", "a" * 300, "%E4%B8%AD" * 40, "1" * 5000])))
    if "{query}" in path:
        q = data.draw(st.dictionaries(st.sampled_from(["stage", "limit", "offset", "since", "until",
                                                       "agent", "x"]), st.text(max_size=8), max_size=3))
        from urllib.parse import urlencode

        path = path.replace("{query}", urlencode(q))
    raw: bytes | None = None
    if schema:
        raw = data.draw(st.one_of(st.builds(lambda b: json.dumps(b).encode(), bodies(doc, schema)),
                                  st.binary(max_size=64)))
    status, body = call(proc.url, method, path, raw)
    assert status < 500, (method, path, raw, body)
    if status >= 400:
        assert isinstance(body, dict) and set(body["error"]) == {"code", "message"}, body


def raw_request(port: int, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """One request as raw bytes (header bytes no HTTP client sends): status and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        length = f"Content-Length: {len(body)}\r\n".encode() if body else b""
        sock.sendall(head + b"Host: x\r\nConnection: close\r\n" + length + b"\r\n" + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    top, _, rest = b"".join(chunks).partition(b"\r\n\r\n")
    return int(top.split()[1]), rest


def _hook(channel: bytes, headers: bytes) -> bytes:
    return b"POST /hooks/" + channel + b" HTTP/1.1\r\nContent-Type: application/json\r\n" + headers


BAD = [
    b"GET /api/v1/conversations HTTP/1.1\r\nAuthorization: Bearer \xff\xfe\r\n",
    b"GET /api/v1/conversations HTTP/1.1\r\nAuthorization: Bearer \xe4\xb8\xad\r\n",
    b"GET /api/v1/conversations/x/ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Protocol: csbot, bearer.\xff\r\n",
    _hook(b"webhook", b"X-Csbot-Timestamp: \xe4\xb8\xad\r\nX-Csbot-Signature: 00\r\n"),
    _hook(b"webhook", b"X-Csbot-Timestamp: " + b"9" * 400 + b"\r\nX-Csbot-Signature: 00\r\n"),
    _hook(b"slack", b"X-Slack-Request-Timestamp: \xe4\xb8\xad\r\nX-Slack-Signature: v0=00\r\n"),
    _hook(b"telegram", b"X-Telegram-Bot-Api-Secret-Token: \xff\r\n"),
    _hook(b"dingtalk", b"timestamp: 1700000000000\r\nsign: \xff\r\n"),
    _hook(b"feishu", b"X-Lark-Signature: 00\r\nX-Lark-Request-Timestamp: \xff\r\nX-Lark-Request-Nonce: n\r\n"),
    _hook(b"nope%00", b""),
    _hook(b"nope", b""),
    b"GET /api/v1/conversations?agent=%00 HTTP/1.1\r\nAuthorization: Bearer " + TOKEN.encode() + b"\r\n",
    b"GET /api/v1/conversations/ab%00cd HTTP/1.1\r\nAuthorization: Bearer " + TOKEN.encode() + b"\r\n",
    b"GET /api/v1/conversations/" + b"a" * 3000 + b" HTTP/1.1\r\nAuthorization: Bearer " + TOKEN.encode() + b"\r\n",
]


@pytest.mark.parametrize("head", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_bytes_nul_and_long_ids_get_a_4xx_and_one_log_line(
        server: tuple[ServerProcess, dict[str, Any], str], head: bytes) -> None:
    proc, _, _ = server
    log = Path(proc.log.name)
    before = log.read_bytes()
    status, body = raw_request(proc.port, head, b'{"x": 1}' if head.startswith(b"POST") else b"")
    assert 400 <= status < 500, body
    assert set(json.loads(body)["error"]) == {"code", "message"}
    time.sleep(0.05)  # the line is written before the answer; a moment for the file system
    added = log.read_bytes()[len(before):].decode("utf-8", "replace").splitlines()
    assert len(added) == 1, added
    assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")


def test_nul_in_bodies_is_refused_the_same_on_both_databases(
        server: tuple[ServerProcess, dict[str, Any], str]) -> None:
    proc, _, cid = server
    for path, body in ((f"/api/v1/conversations/{cid}/messages", {"role": "buyer", "text": "在\u0000"}),
                       (f"/api/v1/conversations/{cid}/messages",
                        {"role": "buyer", "text": "在", "message_id": "m\u0000"}),
                       ("/api/v1/conversations", {"shop": "店", "buyer_name": "王\u0000"}),
                       ("/api/v1/conversations", {"shop": "店", "buyer_name": "王", "order_id": "\u0000"})):
        status, answer = call(proc.url, "POST", path, body)
        assert status == 422, answer
