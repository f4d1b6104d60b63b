"""The servers and load generators of bench/service.py do what they say (no timing here:
the benchmarks are not part of the tests)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.server_proc import ROOT, TOKEN, call, free_port

# Each test starts a server process (the bench's own, or csbot serve through bench/service.py).
pytestmark = pytest.mark.process

# bench/service.py is a script, not a package module: loaded from its file.
_spec = importlib.util.spec_from_file_location("bench_service", ROOT / "bench/service.py")
assert _spec and _spec.loader
service = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(service)
LINES = service.LINES


@contextmanager
def bench_server(script: str) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / script), str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                call(url, "POST", "/x", {"role": "buyer", "text": "嗯"}, token=None)
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, f"{script} did not start"
                time.sleep(0.1)
        yield url
    finally:
        proc.kill()
        proc.wait(10)


def test_bare_handler_answers_a_small_json_document() -> None:
    with bench_server("bare_server.py") as url:
        status, body = call(url, "POST", "/api/v1/conversations/x/messages",
                            {"role": "buyer", "text": "嗯"}, token=None)
    assert (status, body) == (200, {"ok": True, "turn": 1, "stage": "explain"})


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    with service.csbot(f"sqlite:///{tmp_path_factory.mktemp('bench')}/b.db") as (url, ids, _):
        yield url, ids[:4]


def _texts(url: str, cid: str) -> list[tuple[str, str]]:
    status, body = call(url, "GET", f"/api/v1/conversations/{cid}")
    assert status == 200 and isinstance(body, dict)
    return [(t["role"], t["text"]) for t in body["turns"]]


def test_wrk_posts_each_conversation_its_lines_in_order(served: tuple[str, list[str]]) -> None:
    url, ids = served
    got = service.wrk(url, ids, seconds=1, concurrency=1)
    assert got["errors"] == 0 and got["rps"] > 0
    turns = _texts(url, ids[0])
    assert len(turns) >= 2 and turns == [LINES[k % len(LINES)] for k in range(len(turns))]


def test_open_loop_sends_at_its_rate_and_counts_answers(served: tuple[str, list[str]]) -> None:
    url, ids = served
    before = {cid: len(_texts(url, cid)) for cid in ids}
    got = service.open_loop(url, ids, rate=40, seconds=1)
    assert (got["sent"], got["answered"], got["errors"]) == (40, 40, 0)
    assert 0 < got["p50_ms"] <= got["p99_ms"] <= got["max_ms"]
    assert sum(len(_texts(url, cid)) - before[cid] for cid in ids) == 40
    assert TOKEN  # the generator authenticates as the test admin


_tail_spec = importlib.util.spec_from_file_location("bench_tail", ROOT / "bench/tail.py")
assert _tail_spec and _tail_spec.loader
tail = importlib.util.module_from_spec(_tail_spec)
_tail_spec.loader.exec_module(tail)


def test_tail_probe_stamps_every_request_in_the_order_of_a_turn(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """bench/tail.py matches each request of the open loop with the server's stamps for it,
    on one clock: every stage of every turn in order, from the planned send to the answer."""
    import json
    import os
    import signal

    proc, url = tail.probe_server(f"sqlite:///{tmp_path}/t.db", f"{tmp_path}/server.json")
    try:
        ids = []
        for i in range(4):
            _, body = call(url, "POST", "/api/v1/conversations",
                           {"shop": "柚子家女装", "buyer_name": f"买家{i}", "order_id": f"B{i}"})
            ids.append(body["conversation"]["id"])  # type: ignore[index,call-overload]
        os.kill(proc.pid, signal.SIGUSR1)  # the window starts: the openings are not turns
        time.sleep(0.3)
        summary = tail.open_loop(url, ids, 40, 1, f"{tmp_path}/client.json")
        os.kill(proc.pid, signal.SIGUSR2)
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    server = json.loads((tmp_path / "server.json").read_text())
    client = json.loads((tmp_path / "client.json").read_text())
    assert summary["answered"] == 40 and len(client) == 40
    stamps = {(t["cid"], t["n"]): t for t in server["turns"]}
    assert len(stamps) == 40
    order = ["planned", "sent", "enter", "decide", "decided", "submit", "applied", "committed", "exit", "done"]
    for cid, n, planned, sent, done in client:
        times = {**stamps[cid, n], "planned": planned, "sent": sent, "done": done}
        assert [times[k] for k in order] == sorted(times[k] for k in order), (cid, n, times)
    assert server["commits"] and server["lags"] and {"loop", "writer"} <= {
        name.split(":")[0] for name in server["sched"][1]["threads"]}
    tail.report(40, summary, server, client)  # and the report reads what the probe wrote
    out = capsys.readouterr().out
    assert "40 matched with the server's stamps" in out and "slowest 1 %" in out
    assert "COMMIT starts in the writer's thread" in out and "the slowest 1 % in 1 bursts" in out


def test_tail_report_groups_the_slowest_requests_into_bursts(capsys: pytest.CaptureFixture[str]) -> None:
    """The slowest requests planned less than 0.1 s apart are one burst, and each burst shows
    the longest COMMIT that overlapped it."""
    def turn(at: float) -> dict[str, float]:
        return {"planned": at, "done": at + 0.05, "total": 0.05, "decide": at, "decided": at + 0.001}

    slow = [turn(1.0), turn(1.05), turn(1.12), turn(3.0)]
    server = {"sched": [{"at": 0.0}], "waits": [], "lags": [], "collections": [],
              "turns": [{"decide": t["decide"], "decided": t["decided"]} for t in slow]}
    tail.episodes(slow, server, [[1.02, 1.06, 0], [2.0, 2.5, 0]])
    out = capsys.readouterr().out
    assert "the slowest 1 % in 2 bursts" in out
    first, second = out.splitlines()[1:]
    assert "3 requests" in first and "longest COMMIT   40.0 ms" in first
    assert "1 requests" in second and "longest COMMIT    0.0 ms" in second
