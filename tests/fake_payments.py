"""A fake payment provider: a real HTTP server on port 0 that pays refunds by idempotency key.

``script`` says how to answer the next requests, one mode each (then "ok"):
- "ok": pay (once per key) and answer 201 with the refund id;
- "fail": answer 500 without paying;
- "late": pay, then answer only after ``late_seconds`` (the client times out: an
  unknown outcome whose money did go out);
- "refuse": answer 422 {"code": "PAYMENT_NOT_REFUNDABLE"} without paying.
A repeated key is answered from what was stored for it and never paid again;
``payments[key]`` counts the times money went out for a key (must stay 1).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class FakePayments:
    api_key: str = "sk-test-secret"
    script: list[str] = field(default_factory=list)
    late_seconds: float = 1.5
    payments: Counter[str] = field(default_factory=Counter)
    paid: dict[str, dict[str, object]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    @property
    def total_paid(self) -> int:
        return sum(int(p["amount_minor_units"]) for p in self.paid.values())  # type: ignore[call-overload]

    def answer(
        self, key: str, body: dict[str, object], auth: str
    ) -> tuple[int, dict[str, object], float]:
        with self.lock:
            self.requests.append(key)
            if auth != f"Bearer {self.api_key}":
                return 401, {"code": "UNAUTHENTICATED"}, 0.0
            mode = self.script.pop(0) if self.script else "ok"
            if mode == "fail":
                return 500, {"code": "INTERNAL"}, 0.0
            if mode == "refuse":
                return 422, {"code": "PAYMENT_NOT_REFUNDABLE"}, 0.0
            if key not in self.paid:
                self.paid[key] = {**body, "refund_id": f"re_{len(self.paid) + 1}"}
                self.payments[key] += 1
            delay = self.late_seconds if mode == "late" else 0.0
            return 201, {"refund_id": self.paid[key]["refund_id"]}, delay


@contextmanager
def running_fake_payments(fake: FakePayments) -> Iterator[FakePayments]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            status, reply, delay = fake.answer(
                self.headers.get("Idempotency-Key", ""), body, self.headers.get("Authorization", "")
            )
            if delay:
                time.sleep(delay)
            data = json.dumps(reply).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timed out): the payment stands

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
