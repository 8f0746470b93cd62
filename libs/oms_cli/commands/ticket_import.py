"""`oms ticket import-calls FILE`: phone-call records into the ticket queue."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import grpc
import typer
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from oms.aftersales.v1 import aftersales_pb2 as apb
from oms.aftersales.v1 import aftersales_service_pb2 as pb
from oms.aftersales.v1 import aftersales_service_pb2_grpc as pb_grpc
from omslib.grpc_errors import remote_error
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from oms_cli import render
from oms_cli.call_records import CallFileError, CallRecord, read_calls
from oms_cli.commands.ticket_ops import AddrOption
from oms_cli.rpc import err_console, operator_channel, service_addr

OUTCOMES = ("opened", "joined", "duplicate", "rejected")


def _request(record: CallRecord, merchant: str) -> pb.RecordCustomerMessageRequest:
    when = Timestamp()
    when.FromDatetime(record.time)
    return pb.RecordCustomerMessageRequest(
        request_id=record.request_id,
        channel=apb.CHANNEL_PHONE,
        merchant_id=merchant,
        customer=apb.CustomerIdentity(phone=record.caller),
        text=record.transcript,
        message_time=when,
        call=apb.CallDetails(
            duration=Duration(seconds=record.duration_seconds), agent=record.agent
        ),
    )


async def _import(
    addr: str, rows: list[tuple[int, CallRecord | str]], merchant: str, progress: Progress
) -> tuple[dict[str, int], list[tuple[int, str]]]:
    counts = dict.fromkeys(OUTCOMES, 0)
    refused: list[tuple[int, str]] = []
    task = progress.add_task("import", total=len(rows), summary="")
    async with operator_channel(addr) as channel:
        stub = pb_grpc.AftersalesServiceStub(channel)
        for number, row in rows:
            if isinstance(row, str):
                counts["rejected"] += 1
                refused.append((number, row))
            else:
                try:
                    reply = await stub.RecordCustomerMessage(_request(row, merchant), timeout=10)
                except grpc.aio.AioRpcError as err:
                    failure = remote_error(err)
                    if failure.code != grpc.StatusCode.INVALID_ARGUMENT:
                        raise  # the service is down or failing: stop, re-run later (idempotent)
                    counts["rejected"] += 1
                    refused.append((number, failure.message))
                else:
                    outcome = (
                        "duplicate"
                        if reply.duplicate
                        else ("opened" if reply.ticket_created else "joined")
                    )
                    counts[outcome] += 1
            progress.update(
                task, advance=1, summary=" ".join(f"{k} {v}" for k, v in counts.items())
            )
    return counts, refused


def import_calls(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON lines or CSV")],
    merchant: Annotated[str, typer.Option(help="the merchant the calls are for")] = "",
    aftersales: AddrOption = None,
) -> None:
    """Import phone-call records (caller, time, duration, agent, transcript); each call once."""
    try:
        rows = list(read_calls(file))
    except CallFileError as err:
        raise typer.BadParameter(str(err)) from None
    addr = service_addr("aftersales", aftersales)
    progress = Progress(
        TextColumn("importing calls"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[summary]}"),
        console=render.console,
    )
    try:
        with progress:
            counts, refused = asyncio.run(_import(addr, rows, merchant, progress))
    except grpc.aio.AioRpcError as err:
        failure = remote_error(err)
        err_console.print(
            f"[red]aftersales at {addr} answered {failure.code.name}[/red]: {failure.message}\n"
            "Nothing is lost: run the import again, calls already recorded count as duplicates."
        )
        raise typer.Exit(1) from None
    summary = Table(title=f"calls from {file}", title_justify="left")
    for column in OUTCOMES:
        summary.add_column(column, justify="right")
    summary.add_row(*(str(counts[c]) for c in OUTCOMES))
    render.console.print(summary)
    for number, why in refused[:50]:
        render.console.print(f"  record at line {number}: [red]{why}[/red]")
    if len(refused) > 50:
        render.console.print(f"  ... and {len(refused) - 50} more")
