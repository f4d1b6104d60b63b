"""Thousands of generated requests, driven by the OpenAPI document, never get a 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server_proc import ServerProcess, call

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, dict[str, Any], str]]:
    db = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    proc = ServerProcess(f"sqlite:///{db}").start()
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
        ["buyer", "agent", "resolved", "taobao", "2026-01-01", "", "长" * 3000]), max_size=len(keys) + 1)
    return shaped | JSON


@settings(max_examples=2500, deadline=None, suppress_health_check=list(HealthCheck))
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
    path = path.replace("{rand}", data.draw(st.text(alphabet="abc-123%", min_size=1, max_size=12)))
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
