"""`oms ticket classify`: the intent model on messages from standard input, offline.

One message per line in, one JSON object per line out, in the same order, so
anyone can check the model on their own messages:

    printf '这个不想要了 怎么退货\\n' | oms ticket classify
    {"intent": "RETURN_REFUND", "code": "RET-001", "mood": "calm", "confidence": 0.97}
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated

import typer

# A line longer than this is cut (the model reads only the first few hundred
# characters anyway); the rest of it is read and dropped, never held in memory.
MAX_LINE_BYTES = 16 * 1024


def classify(
    model: Annotated[
        Path | None,
        typer.Option("--model", help="a model file (default: the one shipped in the package)"),
    ] = None,
) -> None:
    """Classify messages read one per line from standard input: intent, code, mood, confidence."""
    from oms_intent import ModelFileError, load_classifier, load_default_classifier

    try:
        classifier = load_classifier(model) if model else load_default_classifier()
    except ModelFileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    try:
        for number, text in enumerate(bounded_lines(sys.stdin.buffer), 1):
            if not text.strip():
                row: dict[str, str | float] = {"line": number, "error": "empty message"}
            else:
                row = classifier.classify(text).as_dict()
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
            sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped early (`| head`): end quietly like any Unix filter, and
        # point stdout at /dev/null so the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def bounded_lines(stream: IO[bytes], limit: int = MAX_LINE_BYTES) -> Iterator[str]:
    """Lines of a byte stream as text, each cut to `limit` bytes, bad UTF-8 replaced."""
    while True:
        chunk = stream.readline(limit)
        if not chunk:
            return
        if not chunk.endswith(b"\n"):
            rest = chunk
            while rest and not rest.endswith(b"\n"):
                rest = stream.readline(limit)
        yield chunk.decode("utf-8", errors="replace").rstrip("\r\n")
