"""Diagnostic: instructions per turn of the whole `csbot serve` (callgrind).

    python bench/servecount.py [--connections 1] [--turns 900]

`csbot serve` on a fresh SQLite file under `valgrind --tool=callgrind` (all its threads:
the loop, the writer, the checkpoint), PYTHONHASHSEED=0. 64 conversations get the turns of
bench/turnlines.py over HTTP from `--connections` keep-alive connections in this process;
after 256 turns of warm-up only the next `--turns` are counted. Counts do not depend on the
machine's load, so two checkouts compare in any order (about ±2k instructions a turn between
runs with one connection; more with several, as the batches vary). One connection: every turn
is its own commit; several share commits, as under wrk.

To count one part alone, call it through `operator.methodcaller` in a copy of the code and add
`--collect-atstart=no --toggle-collect=methodcaller_call` to the valgrind command (nothing
else on a turn's path calls it): that is how Engine.feed inside the server was counted.
`--keep FILE` keeps callgrind's output for `callgrind_annotate` (C functions only: Python 3.11's
own frames do not show, so compare two checkouts rather than read Python costs from it).
Needs valgrind (Debian package). Information for A/B runs; no target.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from turnlines import LINES  # noqa: E402

from tests.server_proc import STATIC, TOKEN, free_port  # noqa: E402

CONVERSATIONS = 64
WARM_UP = 256


class Client:
    """Posts the next line of bench/turnlines.py to the next conversation, over keep-alive."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.lock = threading.Lock()
        self.ids: list[str] = []
        self.said = [0] * CONVERSATIONS
        self.sent = 0

    def post(self, conn: http.client.HTTPConnection, path: str, body: dict[str, str]) -> dict[str, object]:
        conn.request("POST", path, json.dumps(body, ensure_ascii=False).encode(),
                     {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
        response = conn.getresponse()
        raw = response.read()
        assert response.status in (200, 201), (response.status, raw)
        return json.loads(raw)  # type: ignore[no-any-return]

    def open(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        for i in range(CONVERSATIONS):
            body = self.post(conn, "/api/v1/conversations",
                             {"shop": "柚子家女装", "buyer_name": f"买家{i}", "order_id": f"B{i}"})
            self.ids.append(body["conversation"]["id"])  # type: ignore[index]

    def turns(self, count: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        for _ in range(count):
            with self.lock:
                k = self.sent % CONVERSATIONS
                self.sent += 1
                role, text = LINES[self.said[k] % len(LINES)]
                self.said[k] += 1
            self.post(conn, f"/api/v1/conversations/{self.ids[k]}/messages", {"role": role, "text": text})

    def run(self, total: int, connections: int) -> None:
        threads = [threading.Thread(target=self.turns, args=(total // connections,)) for _ in range(connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def wait_healthy(port: int, proc: subprocess.Popen[bytes]) -> None:
    while True:
        if proc.poll() is not None:
            raise RuntimeError("server exited")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        threading.Event().wait(0.5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--turns", type=int, default=900)
    ap.add_argument("--keep", help="copy callgrind's output here (for callgrind_annotate)")
    args = ap.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        out = f"{tmp}/callgrind.out"
        env = {**os.environ, "CSBOT_TOKENS": STATIC, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "0"}
        with open(f"{tmp}/log", "wb") as log:
            proc = subprocess.Popen(
                ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
                 sys.executable, "-m", "bot", "serve", "--db", f"sqlite:///{tmp}/bench.db", "--port", str(port)],
                env=env, cwd=ROOT, stdout=log, stderr=log)
            try:
                wait_healthy(port, proc)
                client = Client(port)
                client.open()
                client.run(WARM_UP, args.connections)
                subprocess.run(["callgrind_control", "-i", "on", str(proc.pid)], check=True, capture_output=True)
                client.run(args.turns, args.connections)
                subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True)
            finally:
                proc.terminate()
                proc.wait(120)
        dumped = Path(f"{out}.1").read_text(errors="replace")
        total = next(int(line.split()[1]) for line in dumped.splitlines() if line.startswith("summary:"))
        if args.keep:
            Path(args.keep).write_text(dumped)
    turns = args.turns // args.connections * args.connections
    print(f"csbot serve: {total / turns / 1000:.1f} k instructions/turn "
          f"({turns} turns, {args.connections} connection(s))")


if __name__ == "__main__":
    main()
