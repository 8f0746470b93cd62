"""`oms inbox ...`: look at the gateway's inbox, replay entries, import raw requests.

Talks to the gateway's admin API with the token in $OMS_GATEWAY_ADMIN_TOKEN, else
the development token `make run` keeps in var/admin-token.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from oms_cli import local_stack
from oms_cli.render import plural

app = typer.Typer(help="Look at the gateway inbox, replay entries, import raw requests.")
console = Console()
err_console = Console(stderr=True)

GatewayOption = Annotated[
    str | None,
    typer.Option("--gateway", help="gateway base URL (default: $OMS_GATEWAY_URL or :8080)"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="print the API's JSON")]
IMPORT_RETRIES = 5
INBOX_STATES = ("RECEIVED", "DELIVERING", "DELIVERED", "DEAD")


class AdminClient:
    def __init__(self, gateway: str | None) -> None:
        token, self.token_source = local_stack.admin_token()
        if not token:
            err_console.print(
                "[red]no admin token[/red]: export OMS_GATEWAY_ADMIN_TOKEN (the gateway's), "
                "or start the stack with `make run`, which keeps one in var/admin-token"
            )
            raise typer.Exit(2)
        self.base = local_stack.gateway_url(gateway)
        self._http = httpx.Client(
            base_url=self.base, headers={"authorization": f"Bearer {token}"}, timeout=60
        )

    def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as err:
            err_console.print(f"[red]cannot reach the gateway at {self.base}[/red]: {err}")
            raise typer.Exit(1) from None
        if response.status_code >= 400:
            raise ApiError(response)
        result: dict[str, Any] = response.json()
        return result

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Like request(), but a refusal prints the gateway's message and exits 1."""
        try:
            return self.request(method, path, **kwargs)
        except ApiError as err:
            where = f" (the token came from {self.token_source})" if err.status == 401 else ""
            err_console.print(f"[red]{err}[/red]{where}")
            raise typer.Exit(1) from None


class ApiError(Exception):
    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        try:
            error = response.json()["error"]
            text = f"{error['status']} {error['reason']}: {error['message']}"
        except (ValueError, KeyError, TypeError):
            text = f"{response.status_code}: {response.text[:200]}"
        super().__init__(text)


@app.command("list")
def list_entries(
    state: Annotated[
        list[str] | None, typer.Option(help="RECEIVED, DELIVERING, DELIVERED or DEAD; repeatable")
    ] = None,
    platform: Annotated[str | None, typer.Option(help="only this platform, e.g. shop")] = None,
    since: Annotated[
        str | None, typer.Option("--from", help="received at or after (RFC 3339)")
    ] = None,
    until: Annotated[str | None, typer.Option("--to", help="received before (RFC 3339)")] = None,
    page_size: Annotated[int, typer.Option(min=1, max=500)] = 50,
    page_token: Annotated[str | None, typer.Option(help="continue after this page token")] = None,
    gateway: GatewayOption = None,
    as_json: JsonOption = False,
) -> None:
    """List inbox entries, newest first."""
    params: dict[str, Any] = {"page_size": page_size}
    if state:
        params["state"] = [s.upper() for s in state]
        unknown = [s for s in params["state"] if s not in INBOX_STATES]
        if unknown:
            raise typer.BadParameter(
                f"{', '.join(unknown)}: not one of {', '.join(INBOX_STATES)}",
                param_hint="--state",
            )
    for key, value in (
        ("platform", platform),
        ("received_from", since),
        ("received_to", until),
        ("page_token", page_token),
    ):
        if value:
            params[key] = value
    page = AdminClient(gateway).call("GET", "/admin/inbox", params=params)
    if as_json:
        console.print_json(json.dumps(page))
        return
    table = Table()
    for column in ("id", "platform", "event", "state", "attempts", "received", "order / error"):
        table.add_column(column)
    for entry in page["entries"]:
        table.add_row(
            entry["id"],
            entry["platform"],
            entry["event_id"],
            entry["state"],
            str(entry["attempts"]),
            entry["received_at"],
            entry["order_id"] or entry["last_error"] or "",
        )
    console.print(table)
    if page["next_page_token"]:
        console.print(f"more: --page-token {page['next_page_token']}")


@app.command("show")
def show_entry(
    entry_id: Annotated[str, typer.Argument(help="inbox entry id")],
    gateway: GatewayOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one entry: state, raw headers and body, and every delivery attempt."""
    entry = AdminClient(gateway).call("GET", f"/admin/inbox/{entry_id}")
    if as_json:
        console.print_json(json.dumps(entry))
        return
    summary = Table.grid(padding=(0, 2))
    for key in ("id", "platform", "event_id", "state", "received_at"):
        summary.add_row(key, str(entry[key]))
    summary.add_row("attempts", attempts_summary(entry))
    summary.add_row("order_id", str(entry["order_id"] or "-"))
    summary.add_row("outcome", str(entry["outcome"] or "-"))
    summary.add_row("last error", str(entry["last_error"] or "-"))
    console.print(summary)
    headers = Table(title="headers", title_justify="left")
    headers.add_column("name")
    headers.add_column("value")
    for name, value in sorted(entry["headers"].items()):
        headers.add_row(name, value)
    console.print(headers)
    console.print("[bold]body[/bold]")
    console.print(
        entry["body"] if entry["body"] is not None else f"(base64) {entry['body_base64']}"
    )
    attempts = Table(title="delivery attempts", title_justify="left")
    for column in ("time", "outcome", "order", "error", "worker"):
        attempts.add_column(column)
    for attempt in entry["delivery_attempts"]:
        attempts.add_row(
            attempt["attempted_at"],
            attempt["outcome"],
            attempt["order_id"] or "",
            attempt["error"] or "",
            attempt["worker"],
        )
    console.print(attempts)


@app.command("replay")
def replay(
    entry_id: Annotated[str | None, typer.Argument(help="replay this one entry")] = None,
    dead: Annotated[bool, typer.Option("--dead", help="replay every dead letter")] = False,
    since: Annotated[
        str | None, typer.Option("--from", help="received at or after (RFC 3339)")
    ] = None,
    until: Annotated[str | None, typer.Option("--to", help="received before (RFC 3339)")] = None,
    platform: Annotated[str | None, typer.Option(help="only this platform")] = None,
    gateway: GatewayOption = None,
) -> None:
    """Deliver entries again through the normal path (same request id: orders deduplicates)."""
    client = AdminClient(gateway)
    if entry_id:
        result = client.call("POST", f"/admin/inbox/{entry_id}/replay")
    elif dead or since or until:
        body: dict[str, Any] = {"states": ["DEAD"] if dead else []}
        for key, value in (
            ("received_from", since),
            ("received_to", until),
            ("platform", platform),
        ):
            if value:
                body[key] = value
        result = client.call("POST", "/admin/inbox/replay", json=body)
    else:
        raise typer.BadParameter("give an entry id, --dead, or a time range (--from/--to)")
    console.print(f"replayed [bold]{plural(int(result['replayed']), 'entry', 'entries')}[/bold]")


def attempts_summary(entry: dict[str, Any]) -> str:
    """The entry's counter restarts at each replay; the attempt log below keeps them all."""
    current, logged = int(entry["attempts"]), len(entry["delivery_attempts"])
    if current == logged:
        return str(current)
    return f"{current} since the last replay ({logged} in all, listed below)"


def read_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, record) per non-blank line; a string instead of a record says why not."""
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                yield number, f"not JSON: {err}"
                continue
            yield number, record if isinstance(record, dict) else "not a JSON object"


@app.command("import")
def import_requests(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON lines file")],
    batch: Annotated[int, typer.Option(min=1, max=500, help="records per request")] = 100,
    gateway: GatewayOption = None,
) -> None:
    """Verify and store raw requests (JSON lines of method, path, headers, body[, time])."""
    client = AdminClient(gateway)
    records = list(read_records(file))
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    refused: list[tuple[int, str]] = []
    progress = Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[summary]}"),
        TimeRemainingColumn(),
        console=console,
    )
    with progress:
        task = progress.add_task("import", total=len(records), summary="")
        for start in range(0, len(records), batch):
            chunk = records[start : start + batch]
            valid = [(n, r) for n, r in chunk if isinstance(r, dict)]
            for number, why in ((n, r) for n, r in chunk if isinstance(r, str)):
                counts["rejected"] += 1
                refused.append((number, why))
            report = _send_batch(client, [r for _, r in valid])
            for (number, _), result in zip(valid, report["results"], strict=True):
                counts[result["status"]] += 1
                if result["status"] == "rejected":
                    refused.append((number, f"{result['reason']}: {result['message']}"))
            progress.update(
                task,
                advance=len(chunk),
                summary=" ".join(f"{name} {value}" for name, value in counts.items()),
            )
    summary = Table(title=f"import of {file}", title_justify="left")
    for column in ("accepted", "duplicate", "rejected"):
        summary.add_column(column, justify="right")
    summary.add_row(*(str(counts[name]) for name in ("accepted", "duplicate", "rejected")))
    console.print(summary)
    for number, why in refused[:50]:
        console.print(f"  line {number}: [red]{why}[/red]")
    if len(refused) > 50:
        console.print(f"  ... and {len(refused) - 50} more rejected lines")


def _send_batch(client: AdminClient, records: list[dict[str, Any]]) -> dict[str, Any]:
    if not records:
        return {"results": []}
    for attempt in range(IMPORT_RETRIES):
        try:
            return client.request("POST", "/admin/inbox/import", json={"records": records})
        except ApiError as err:
            if err.status != 503 or attempt == IMPORT_RETRIES - 1:
                err_console.print(f"[red]import stopped[/red]: {err}")
                raise typer.Exit(1) from None
            time.sleep(2**attempt)  # the inbox is unavailable: wait, then send the batch again
    raise AssertionError("unreachable")
