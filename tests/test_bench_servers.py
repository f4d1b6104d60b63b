"""The servers bench/service.py measures csbot against answer as they say they do (no timing
here: the benchmarks are not part of the tests)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tests.server_proc import ROOT, call, free_port


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


def test_reference_steps_its_machine_and_renders_chinese_replies() -> None:
    with bench_server("reference_server.py") as url:
        answers = [call(url, "POST", "/api/v1/conversations/x/messages",
                        {"role": "agent", "text": "您好，请问是周女士吗？"}, token=None) for _ in range(7)]
    stages = ["confirm_identity", "confirm_product", "listen_apologize", "explain", "remedy",
              "polite_request", "closing"]
    for status, body in answers:
        assert status == 200
        assert isinstance(body, dict)
        # One FSM step: each answer is one stage after the one its turn started in.
        before = stages[body["turn"] % len(stages)]
        assert body["stage"] == stages[min(stages.index(before) + 1, len(stages) - 1)]
        assert [r["text"] for r in body["suggestions"]] == [
            "周女士您好，关于您在柚子家女装买的连衣裙，真的很抱歉给您添麻烦了。",
            "周女士您好，关于您在柚子家女装买的连衣裙，我们马上为您处理。",
            "周女士您好，关于您在柚子家女装买的连衣裙，您看这样安排可以吗？"]
        assert body["role"] == "agent"
    assert sorted(b["turn"] for _, b in answers) == list(range(2, 9))  # type: ignore[index]

