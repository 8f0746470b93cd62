"""`oms send <platform>`: send a correctly signed sample push, as the platform would."""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import dataclass
from typing import Annotated

import httpx
import typer
from omslib.ids import new_id
from omslib.platforms import samples
from omslib.platforms.names import Platform
from omslib.platforms.samples import douyin, jd, shopify, taobao, youzan
from omslib.platforms.samples.shop import sample_shop_order, sign_standard_webhook

from oms_cli import local_stack
from oms_cli.dev_credentials import DEV_PLATFORM_ENV, DEV_SHOP_SECRET
from oms_cli.render import console

#: Every platform but Pinduoduo, which does not push over HTTP (PDD_EXPLAINED).
SUPPORTED_PLATFORMS = tuple(p.value for p in Platform if p is not Platform.PDD)
#: The statuses `oms send <platform> --status` accepts: what its sample can say.
STATUSES: dict[str, tuple[str, ...]] = {
    name: getattr(samples, name).STATUSES for name in SUPPORTED_PLATFORMS
}
#: (secret variable, app key / client id variable) per platform.
CREDENTIAL_ENV = {
    "shopify": ("OMS_PLATFORM_SHOPIFY_SECRET", None),
    "douyin": ("OMS_PLATFORM_DOUYIN_SECRET", "OMS_PLATFORM_DOUYIN_KEY"),
    "youzan": ("OMS_PLATFORM_YOUZAN_SECRET", "OMS_PLATFORM_YOUZAN_ID"),
    "taobao": ("OMS_PLATFORM_TAOBAO_SECRET", "OMS_PLATFORM_TAOBAO_KEY"),
    "jd": ("OMS_PLATFORM_JD_SECRET", "OMS_PLATFORM_JD_KEY"),
}


MAX_QUANTITY = 1_000_000
#: Sample recipient of `oms send shop`: a complete address, so the order can be
#: approved at payment (give --phone "" to see the review queue instead).
SAMPLE_RECIPIENT = ("Li Lei", "+86 138 0000 0000")
PDD_EXPLAINED = (
    "Pinduoduo does not push over HTTP: the gateway opens a WebSocket to "
    "OMS_PLATFORM_PDD_WS_URL and receives the messages there (POST /webhooks/pdd is "
    "always 401), so there is no push for `oms send` to sign. See the pdd section of "
    "docs/platforms.md."
)


def parse_line(spec: str) -> tuple[str, int]:
    """ "SKU:QTY" -> (sku, quantity); the quantity is required and at least 1."""
    sku, colon, quantity = spec.rpartition(":")
    if not colon or not sku:
        raise typer.BadParameter(f"{spec!r}: expected SKU:QUANTITY, e.g. TEE-WHITE-M:2")
    try:
        units = int(quantity)
    except ValueError:
        units = 0
    if not 1 <= units <= MAX_QUANTITY:
        raise typer.BadParameter(
            f"{spec!r}: the quantity must be a whole number from 1 to {MAX_QUANTITY:,}, "
            f"e.g. {sku}:2"
        )
    return sku, units


@dataclass(frozen=True)
class SignedPush:
    path: str  # with the query string, if the platform signs one
    body: bytes
    headers: dict[str, str]
    order_id: str


def _credential(name: str | None, given: str | None) -> str:
    if given:
        return given
    if name is None:
        return ""
    return os.environ.get(name) or DEV_PLATFORM_ENV[name]


def build_push(
    platform: str,
    lines: list[tuple[str, int]],
    *,
    order_id: str | None,
    status: str,
    province: str | None,
    secret: str | None,
    key: str | None,
    recipient: tuple[str, str] = SAMPLE_RECIPIENT,
) -> SignedPush:
    """A correctly signed sample push of ``platform`` (see docs/platforms.md)."""
    event = f"msg_{new_id()}"
    if platform == "shop":
        oid = order_id or f"A{new_id()[-8:]}"
        name, phone = recipient
        body = json.dumps(
            sample_shop_order(
                oid,
                lines,
                status=status,
                province=province or "Zhejiang",
                recipient_name=name,
                phone=phone,
            )
        ).encode()
        signing_secret = secret or os.environ.get("OMS_PLATFORM_SHOP_SECRET") or DEV_SHOP_SECRET
        headers = sign_standard_webhook(signing_secret, event, int(time.time()), body)
        return SignedPush("/webhooks/shop", body, headers, oid)
    secret_env, key_env = CREDENTIAL_ENV[platform]
    signing_secret = _credential(secret_env, secret)
    app_key = _credential(key_env, key)
    digits = order_id or str(random.randint(10**15, 10**16 - 1))
    cn_province = province or "浙江省"
    if platform == "shopify":
        if not digits.isdigit():
            raise typer.BadParameter("Shopify order ids are numbers")
        body, headers = shopify.sample_push(
            signing_secret,
            int(digits),
            lines,
            webhook_id=event,
            status=status,
            province=province or "Zhejiang",
        )
        return SignedPush("/webhooks/shopify", body, headers, digits)
    if platform == "douyin":
        data = douyin.sample_order_data(digits, lines, status=status, province=cn_province)
        body, headers = douyin.sample_push(
            app_key, signing_secret, [douyin.sample_message(event, data)]
        )
        return SignedPush("/webhooks/douyin", body, headers, digits)
    if platform == "youzan":
        tid = order_id or f"E{time.strftime('%Y%m%d%H%M%S')}{digits[:10]}"
        body, headers = youzan.sample_push(
            app_key, signing_secret, tid, lines, status=status, province=cn_province
        )
        return SignedPush("/webhooks/youzan", body, headers, tid)
    if platform == "taobao":
        query, body, headers = taobao.sample_push(
            app_key, signing_secret, digits, lines, status=status, province=cn_province
        )
        return SignedPush(f"/webhooks/taobao?{query}", body, headers, digits)
    body, headers = jd.sample_push(
        app_key, signing_secret, digits, lines, status=status, province=cn_province
    )
    return SignedPush("/webhooks/jd", body, headers, digits)


def send(
    platform: Annotated[
        str,
        typer.Argument(
            help=f"one of: {', '.join(SUPPORTED_PLATFORMS)} (pdd: explains why it cannot)"
        ),
    ],
    sku: Annotated[
        list[str] | None, typer.Option("--sku", help="SKU:QTY, repeatable (default TEE-WHITE-M:1)")
    ] = None,
    order_id: Annotated[
        str | None, typer.Option(help="platform order id (default: random)")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            help="order status: pending, paid, shipped, completed, cancelled (what the "
            "platform supports; default pending for shop, paid elsewhere)"
        ),
    ] = None,
    province: Annotated[
        str | None, typer.Option(help="buyer's province (default Zhejiang / 浙江省)")
    ] = None,
    gateway: Annotated[
        str,
        typer.Option(help="gateway base URL (default: $OMS_GATEWAY_URL, or `make run`'s)"),
    ] = "",
    secret: Annotated[
        str | None,
        typer.Option(help="signing secret (default: $OMS_PLATFORM_<PLATFORM>_SECRET)"),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(help="app key / client id (default: the platform's _KEY or _ID variable)"),
    ] = None,
    recipient: Annotated[
        str, typer.Option(help='shop only: the recipient\'s name ("" leaves it out)')
    ] = SAMPLE_RECIPIENT[0],
    phone: Annotated[
        str,
        typer.Option(
            help='shop only: the recipient\'s phone ("" leaves it out: the order '
            "then waits in review as INCOMPLETE_ADDRESS)"
        ),
    ] = SAMPLE_RECIPIENT[1],
) -> None:
    """Send a signed sample order push to the gateway and show what it answered."""
    if platform == "pdd":
        console.print(f"[yellow]{PDD_EXPLAINED}[/yellow]")
        raise typer.Exit(2)
    if platform not in SUPPORTED_PLATFORMS:
        raise typer.BadParameter(
            f"unknown platform {platform!r}; try one of {', '.join(SUPPORTED_PLATFORMS)}"
        )
    chosen = status or ("pending" if platform == "shop" else "paid")
    if chosen not in STATUSES[platform]:
        raise typer.BadParameter(
            f"status {chosen!r} for {platform}: try one of {', '.join(STATUSES[platform])}"
        )
    lines = [parse_line(spec) for spec in (sku or ["TEE-WHITE-M:1"])]
    push = build_push(
        platform,
        lines,
        order_id=order_id,
        status=chosen,
        province=province,
        secret=secret,
        key=key,
        recipient=(recipient, phone),
    )
    base = local_stack.gateway_url(gateway)
    try:
        reply = httpx.post(
            f"{base}{push.path}", content=push.body, headers=push.headers, timeout=10
        )
    except httpx.HTTPError as err:
        console.print(
            f"[red]cannot reach the gateway at {base}[/red]: {err}\nStart it with `make run`."
        )
        raise typer.Exit(1) from None
    console.print(f"gateway answered [bold]{reply.status_code}[/bold]: {reply.text}")
    if reply.status_code >= 300:
        raise typer.Exit(1)
    console.print(
        f"follow it with: [bold]oms order get platforms/{platform}/orders/{push.order_id}[/bold]"
    )
