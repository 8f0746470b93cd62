"""`oms ticket classify` as a subprocess: one message per line in, one JSON object per line out."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

from oms_cli.commands.ticket_classify import bounded_lines


def oms_classify(stdin: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "oms_cli.main", "ticket", "classify", *args],
        input=stdin,
        capture_output=True,
        env=dict(os.environ),
        timeout=60,
        check=False,
    )


def test_each_line_gets_one_json_object_in_order() -> None:
    lines = ["这个不想要了\uff0c怎么退货", "", "怎么还没发货", "不是要退货 只是问问"]
    proc = oms_classify(("\n".join(lines) + "\n").encode())
    assert proc.returncode == 0, proc.stderr.decode()
    rows = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert len(rows) == 4
    assert rows[0]["intent"] == "RETURN_REFUND" and rows[0]["code"] == "RET-001"
    assert set(rows[0]) == {"intent", "code", "mood", "confidence"}
    assert rows[1] == {"line": 2, "error": "empty message"}
    assert rows[2]["code"] == "RTS-001"
    assert rows[3]["intent"] == "QUESTION" and rows[3]["code"] == ""


def test_an_overlong_line_and_bad_utf8_are_read_without_losing_the_next_line() -> None:
    stdin = "退款".encode() * 50_000 + b"\n\xff\xfe\n" + "谢谢".encode() + b"\n"
    proc = oms_classify(stdin)
    assert proc.returncode == 0, proc.stderr.decode()
    rows = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [r.get("intent") for r in rows] == ["RETURN_REFUND", "OTHER", "OTHER"]


def test_a_missing_model_file_exits_2_with_the_reason(tmp_path: object) -> None:
    proc = oms_classify(b"x\n", "--model", "/nonexistent/model.json.gz")
    assert proc.returncode == 2
    assert "cannot read intent model" in proc.stderr.decode()
    assert proc.stdout == b""


def test_bounded_lines_cuts_each_line_and_drops_the_rest() -> None:
    stream = io.BytesIO(b"a" * 10 + b"\n" + b"b" * 3 + b"\r\nc")
    assert list(bounded_lines(stream, limit=4)) == ["aaaa", "bbb", "c"]
