"""`oms events ...`: read the domain event streams (what the services published to Redis)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from google.protobuf import json_format

# Imported for their side effect: the payload types join the descriptor pool, so an
# envelope's Any payload can be shown as JSON.
from oms.events.v1 import (  # noqa: F401
    aftersales_events_pb2,
    alert_events_pb2,
    inventory_events_pb2,
    order_events_pb2,
)
from oms.events.v1.envelope_pb2 import EventEnvelope

from oms_cli import local_stack, render

app = typer.Typer(help="Read the domain event streams in Redis.", no_args_is_help=True)

STREAMS = ("oms.orders", "oms.inventory", "oms.aftersales", "oms.alerts")
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def redis_url(given: str | None) -> str:
    return local_stack.redis_url(given)


def _checked_redis_url(value: str | None) -> str | None:
    # `--redis oms.orders` (a forgotten URL) must be a usage error, not a traceback.
    if value is not None and not value.startswith(REDIS_SCHEMES):
        raise typer.BadParameter(
            f"{value!r} is not a Redis URL; give one like redis://127.0.0.1:6379/0, "
            "or leave --redis out to use the stack `make run` started"
        )
    return value


def decode(fields: Any) -> EventEnvelope:
    return EventEnvelope.FromString(fields[b"envelope"])


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def as_dict(entry_id: str, envelope: EventEnvelope) -> dict[str, Any]:
    body = json_format.MessageToDict(envelope)
    body["entry_id"] = entry_id
    return body


def one_line(stream: str, entry_id: str, envelope: EventEnvelope) -> str:
    payload = json_format.MessageToDict(envelope.payload)
    payload.pop("@type", None)
    when = render.timestamp(envelope.occur_time)
    aggregate = f"{envelope.aggregate_type}/{envelope.aggregate_id}#{envelope.sequence}"
    return (
        f"{stream} {entry_id}  {when}  {envelope.type}  {aggregate}  "
        f"{json.dumps(payload, ensure_ascii=False, separators=(',', ':'))}"
    )


@app.command("tail")
def tail(
    streams: Annotated[
        list[str] | None,
        typer.Argument(help=f"streams to read (default: all of {', '.join(STREAMS)})"),
    ] = None,
    count: Annotated[int, typer.Option("--count", "-n", min=0, help="last N events")] = 20,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="keep printing new events (Ctrl-C stops)")
    ] = False,
    url: Annotated[
        str | None,
        typer.Option(
            "--redis",
            help="Redis URL (default: $OMS_REDIS_URL, else the one `make run` started)",
            callback=_checked_redis_url,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON envelope per line")] = False,
) -> None:
    """Show the last events of each stream, decoded (payloads as JSON)."""
    names = list(streams or STREAMS)
    unknown = [s for s in names if s not in STREAMS]
    if unknown:
        raise typer.BadParameter(
            f"unknown stream {', '.join(unknown)}; choose from {', '.join(STREAMS)}"
        )
    import redis  # here: the other `oms` commands need not load it

    # Typed loosely: redis-py's stubs cannot tell bytes replies from decoded ones.
    client: Any = redis.Redis.from_url(redis_url(url))
    try:
        _tail(client, names, count, follow, as_json)
    except redis.ConnectionError as exc:
        render.console.print(
            f"[red]cannot reach Redis at {redis_url(url)}: {exc}[/red]\n"
            "is the stack running (`make run`)? Otherwise pass --redis or set OMS_REDIS_URL"
        )
        raise typer.Exit(2) from exc
    except KeyboardInterrupt:
        pass
    finally:
        client.close()


def _tail(client: Any, names: list[str], count: int, follow: bool, as_json: bool) -> None:
    last: dict[str, str] = {}
    for stream in names:
        entries = list(reversed(client.xrevrange(stream, count=count))) if count else []
        for raw_id, fields in entries:
            _print(stream, _text(raw_id), decode(fields), as_json)
        last[stream] = _text(entries[-1][0]) if entries else (_newest(client, stream) or "0-0")
    while follow:
        # Block up to a second at a time so Ctrl-C is noticed promptly.
        replies = client.xread(last, block=1000)
        for raw_stream, entries in replies or []:
            stream = _text(raw_stream)
            for raw_id, fields in entries:
                _print(stream, _text(raw_id), decode(fields), as_json)
                last[stream] = _text(raw_id)


def _newest(client: Any, stream: str) -> str | None:
    newest = client.xrevrange(stream, count=1)
    return _text(newest[0][0]) if newest else None


def _print(stream: str, entry_id: str, envelope: EventEnvelope, as_json: bool) -> None:
    if as_json:
        print(
            json.dumps({"stream": stream, **as_dict(entry_id, envelope)}, ensure_ascii=False),
            flush=True,
        )
    else:
        print(one_line(stream, entry_id, envelope), flush=True)
