"""`oms send-aftersales <kind>`: a signed sample refund, dispute, WeChat message or web form,
with the dev credentials that ``make run`` configures."""

from __future__ import annotations

import json
import os
import random
from typing import Annotated

import httpx
import typer
from omslib.ids import new_id
from omslib.platforms.samples import aftersales as samples
from omslib.platforms.samples import douyin

from oms_cli.render import console
from oms_cli.stack import DEV_PLATFORM_ENV

#: (path with the query string, body, headers, order id)
Sample = tuple[str, bytes, dict[str, str], str]

#: The kinds of ``oms send-aftersales``, by the platform whose credentials sign them.
AFTERSALES_KINDS = {
    "taobao-refund": "taobao",
    "jd-afs": "jd",
    "douyin-aftersale": "douyin",
    "youzan-refund": "youzan",
    "shopify-refund": "shopify",
    "shopify-dispute": "shopify",
    "wechat": "wechat",
    "form": "form",
}
DEMO_MERCHANT = "demo"


def _env(name: str, given: str | None) -> str:
    return given or os.environ.get(name) or DEV_PLATFORM_ENV[name]


def build_aftersales_push(
    kind: str, *, order_id: str | None, text: str | None, secret: str | None, key: str | None
) -> Sample:
    """A correctly signed sample of an after-sales ``kind`` (see docs/platforms.md)."""
    event = new_id()
    digits = order_id or str(random.randint(10**15, 10**16 - 1))
    words = text or "这个不想要了，怎么退货"  # noqa: RUF001
    if kind == "wechat":
        query, body = samples.wechat_text(
            _env("OMS_PLATFORM_WECHAT_TOKEN", secret),
            msg_id=str(random.randint(10**16, 10**17 - 1)),
            content=words,
        )
        return (f"/webhooks/wechat?{query}", body, {"content-type": "text/xml"}, "")
    if kind == "form":
        tokens = json.loads(_env("OMS_FORM_TOKENS", None))
        token = secret or tokens.get(DEMO_MERCHANT) or next(iter(tokens.values()))
        merchant = DEMO_MERCHANT if DEMO_MERCHANT in tokens else next(iter(tokens))
        body = samples.ticket_form(f"cli-{event}", order_id=digits, text=words)
        headers = {"content-type": "application/json", "x-oms-form-token": token}
        return (f"/forms/{merchant}/tickets", body, headers, digits)
    platform = AFTERSALES_KINDS[kind]
    upper = platform.upper()
    signing = _env(f"OMS_PLATFORM_{upper}_SECRET", secret)
    app_key = (
        ""
        if platform == "shopify"
        else _env(f"OMS_PLATFORM_{upper}_{'ID' if platform == 'youzan' else 'KEY'}", key)
    )
    if kind == "taobao-refund":
        query, body, headers = samples.taobao_refund(
            app_key, signing, message_id=random.randint(10**9, 10**10), tid=digits, message=words
        )
        return (f"/webhooks/taobao?{query}", body, headers, digits)
    if kind == "jd-afs":
        body, headers = samples.jd_afs(
            app_key,
            signing,
            afs_service_id=random.randint(10**8, 10**9),
            order_id=digits,
            question=words,
        )
        return ("/webhooks/jd", body, headers, digits)
    if kind == "douyin-aftersale":
        message = samples.douyin_aftersale_message(f"msg_{event}", order_id=digits, record=words)
        body, headers = douyin.sample_push(app_key, signing, [message])
        return ("/webhooks/douyin", body, headers, digits)
    if kind == "youzan-refund":
        body, headers = samples.youzan_refund(
            app_key, signing, tid=order_id or f"E{digits}", refund_id=event, reason=words
        )
        return ("/webhooks/youzan", body, headers, digits)
    builder = samples.shopify_refund if kind == "shopify-refund" else samples.shopify_dispute
    body, headers = builder(signing, webhook_id=event, order_id=int(digits))
    return ("/webhooks/shopify", body, headers, digits)


def send_aftersales(
    kind: Annotated[str, typer.Argument(help=f"one of: {', '.join(AFTERSALES_KINDS)}")],
    order_id: Annotated[
        str | None, typer.Option(help="the platform's order id it is about (default: random)")
    ] = None,
    text: Annotated[
        str | None, typer.Option(help="the customer's words (default: a return wish)")
    ] = None,
    gateway: Annotated[str, typer.Option(help="gateway base URL")] = "",
    secret: Annotated[
        str | None,
        typer.Option(help="signing secret / WeChat token / form token (default: the variable)"),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(help="app key / client id (default: the platform's _KEY or _ID variable)"),
    ] = None,
) -> None:
    """Send a signed sample refund, dispute, WeChat message or web form to the gateway."""
    if kind not in AFTERSALES_KINDS:
        raise typer.BadParameter(f"unknown kind {kind!r}; try one of {', '.join(AFTERSALES_KINDS)}")
    path, body, headers, _ = build_aftersales_push(
        kind, order_id=order_id, text=text, secret=secret, key=key
    )
    base = gateway or f"http://127.0.0.1:{os.environ.get('OMS_GATEWAY_PORT', '8080')}"
    try:
        reply = httpx.post(f"{base}{path}", content=body, headers=headers, timeout=10)
    except httpx.HTTPError as err:
        console.print(
            f"[red]cannot reach the gateway at {base}[/red]: {err}\nStart it with `make run`."
        )
        raise typer.Exit(1) from None
    console.print(f"gateway answered [bold]{reply.status_code}[/bold]: {reply.text}")
    if reply.status_code >= 300:
        raise typer.Exit(1)
    console.print("follow it with: [bold]oms ticket list[/bold]")
