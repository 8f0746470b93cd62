"""Shopify order webhooks (``orders/create``, ``orders/paid``, ...).

``X-Shopify-Hmac-SHA256`` = base64 HMAC-SHA256(secret, raw body); the topic comes in
``X-Shopify-Topic`` and the delivery's id, used to deduplicate, in ``X-Shopify-Webhook-Id``.
The body is Shopify's Order resource; prices are decimal strings in the order's currency.
"""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal

from omslib.clock import Clock
from omslib.platforms.signing.shopify import HEADER_HMAC, HEADER_TOPIC, HEADER_WEBHOOK_ID, sign
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from oms_gateway.domain.errors import InvalidPayload, InvalidSignature
from oms_gateway.domain.inbox import RawPush
from oms_gateway.domain.snapshot import (
    Address,
    Buyer,
    Money,
    OrderLine,
    OrderSnapshot,
    PlatformOrderStatus,
    Translation,
)
from oms_gateway.platforms.common import (
    MAX_QUANTITY,
    CredentialedAdapter,
    Credentials,
    event_id,
    load_json,
    minor_units,
    require_headers,
    same,
    status_of,
    validate,
)

NAME = "shopify"
SECRET_ENV = "OMS_PLATFORM_SHOPIFY_SECRET"
TOPICS = frozenset(
    {
        "orders/create",
        "orders/updated",
        "orders/paid",
        "orders/cancelled",
        "orders/fulfilled",
        "orders/partially_fulfilled",
    }
)

#: ``financial_status`` -> canonical status while the order is neither cancelled nor fulfilled.
FINANCIAL_STATUS: dict[str, PlatformOrderStatus] = {
    "pending": PlatformOrderStatus.CREATED,
    "authorized": PlatformOrderStatus.CREATED,
    "partially_paid": PlatformOrderStatus.CREATED,
    "paid": PlatformOrderStatus.PAID,
    "partially_refunded": PlatformOrderStatus.PAID,
    "refunded": PlatformOrderStatus.CANCELLED,
    "voided": PlatformOrderStatus.CANCELLED,
}
#: ``fulfillment_status`` -> canonical status; ``None`` (unfulfilled) defers to the financial one.
FULFILLMENT_STATUS: dict[str | None, PlatformOrderStatus | None] = {
    None: None,
    "unfulfilled": None,
    "partial": None,
    "fulfilled": PlatformOrderStatus.SHIPPED,
    "restocked": PlatformOrderStatus.CANCELLED,
}
#: Currencies without minor units (ISO 4217 exponent 0); all others have two.
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "XAF", "XOF", "UGX"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ShopifyCustomer(_Model):
    id: int | str
    first_name: str | None = None
    last_name: str | None = None


class ShopifyAddress(_Model):
    province: str = Field(min_length=1, description="Province/state name, e.g. Zhejiang.")
    city: str = Field(min_length=1)
    address1: str = Field(min_length=1)
    address2: str | None = None
    zip: str | None = None
    name: str | None = None
    phone: str | None = None
    country_code: str | None = None


class ShopifyLineItem(_Model):
    sku: str = Field(min_length=1, description="The variant's SKU; must be set in Shopify.")
    quantity: int = Field(gt=0, le=MAX_QUANTITY)
    price: Decimal = Field(ge=0, description="Unit price as a decimal string, e.g. '99.00'.")
    title: str = ""


class ShopifyOrderWebhook(_Model):
    """Shopify's Order resource as sent by the ``orders/*`` webhook topics."""

    id: int = Field(gt=0, description="Shopify's order id.")
    name: str | None = Field(None, description="Human order name, e.g. #1001.")
    created_at: AwareDatetime
    updated_at: AwareDatetime
    processed_at: AwareDatetime | None = None
    cancelled_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    total_price: Decimal = Field(ge=0)
    financial_status: str
    fulfillment_status: str | None = None
    customer: ShopifyCustomer | None = None
    shipping_address: ShopifyAddress
    line_items: list[ShopifyLineItem] = Field(min_length=1)


class ShopifyAdapter(CredentialedAdapter):
    name = NAME
    body_model: type[BaseModel] = ShopifyOrderWebhook

    def __init__(self, secret: str | None, *, clock: Clock) -> None:
        self._credentials = Credentials(secret=secret, secret_env=SECRET_ENV)
        self._clock = clock

    def verify(self, push: RawPush) -> None:
        _, secret = self._credentials.require()
        (signature, _, _) = require_headers(
            push, (HEADER_HMAC, HEADER_TOPIC, HEADER_WEBHOOK_ID), "Shopify webhook"
        )
        if not same(signature, sign(secret, push.body)):
            raise InvalidSignature(
                f"{HEADER_HMAC} does not match base64 HMAC-SHA256 of the raw body "
                f"(the app's client secret, from {SECRET_ENV})"
            )

    def translate(self, push: RawPush) -> Translation:
        webhook_id = event_id(push.headers.get(HEADER_WEBHOOK_ID, ""), field=HEADER_WEBHOOK_ID)
        topic = push.headers.get(HEADER_TOPIC, "").strip()
        if topic not in TOPICS:
            raise InvalidPayload(
                f"{HEADER_TOPIC} {topic!r} is not an order topic; subscribe to "
                f"{', '.join(sorted(TOPICS))}",
                metadata={"field": HEADER_TOPIC},
            )
        order = validate(ShopifyOrderWebhook, load_json(push.body))
        return Translation(platform=NAME, event_id=webhook_id, snapshots=(to_snapshot(order),))


def canonical_status(order: ShopifyOrderWebhook) -> tuple[PlatformOrderStatus, str]:
    fulfillment = order.fulfillment_status
    platform_status = f"{order.financial_status}/{fulfillment or 'unfulfilled'}"
    financial = status_of(FINANCIAL_STATUS, order.financial_status, field="financial_status")
    by_fulfillment = status_of(FULFILLMENT_STATUS, fulfillment, field="fulfillment_status")
    if order.cancelled_at is not None:
        return PlatformOrderStatus.CANCELLED, platform_status + "/cancelled"
    if by_fulfillment is PlatformOrderStatus.SHIPPED and order.closed_at is not None:
        return PlatformOrderStatus.COMPLETED, platform_status + "/closed"
    return by_fulfillment or financial, platform_status


def to_snapshot(order: ShopifyOrderWebhook) -> OrderSnapshot:
    exponent = 0 if order.currency in ZERO_DECIMAL_CURRENCIES else 2
    status, platform_status = canonical_status(order)
    address = order.shipping_address
    customer = order.customer
    buyer_name = (
        " ".join(part for part in (customer.first_name, customer.last_name) if part)
        if customer
        else ""
    )
    paid = status not in {PlatformOrderStatus.CREATED, PlatformOrderStatus.CANCELLED}
    return OrderSnapshot(
        platform=NAME,
        platform_order_id=str(order.id),
        status=status,
        platform_status=platform_status,
        create_time=order.created_at.astimezone(UTC),
        update_time=order.updated_at.astimezone(UTC),
        total=Money(
            minor_units(order.total_price, field="total_price", exponent=exponent), order.currency
        ),
        buyer=Buyer(id=str(customer.id) if customer else "", name=buyer_name),
        shipping_address=Address(
            province=address.province,
            city=address.city,
            line1=" ".join(part for part in (address.address1, address.address2) if part),
            postal_code=address.zip or "",
            recipient_name=address.name or "",
            phone=address.phone or "",
            country_code=address.country_code or "",
        ),
        lines=tuple(
            OrderLine(
                sku=item.sku,
                quantity=item.quantity,
                unit_price=Money(
                    minor_units(item.price, field=f"line_items.{n}.price", exponent=exponent),
                    order.currency,
                ),
                title=item.title,
            )
            for n, item in enumerate(order.line_items)
        ),
        pay_time=(order.processed_at or order.updated_at).astimezone(UTC) if paid else None,
    )
