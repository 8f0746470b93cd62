"""The body our own web shop posts to ``/webhooks/shop`` (also published in OpenAPI)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

ShopEventType = Literal["order.created", "order.paid", "order.cancelled"]
ShopOrderStatus = Literal["pending", "paid", "cancelled", "shipped", "delivered", "completed"]


class _Model(BaseModel):
    # Unknown fields are refused (400 naming the field): a misspelt "phone_number" that
    # was silently dropped sent every shop order to review. The shop is ours, so a new
    # field is added here first (docs/platforms.md).
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShopBuyer(_Model):
    id: str = Field(min_length=1, description="The shop's buyer id.")
    name: str = Field(description="The buyer's display name.")


class ShopAddress(_Model):
    province: str = Field(min_length=1, max_length=64)
    city: str = Field(min_length=1, max_length=64)
    district: str = Field("", max_length=64, description="District or county, if any.")
    line1: str = Field(min_length=1, max_length=256, description="Street, building and unit.")
    postal_code: str = Field("", max_length=16)
    recipient_name: str = Field(
        "",
        max_length=64,
        description="Who receives the parcel. Without it (or the phone) the order is "
        "reviewed by hand (INCOMPLETE_ADDRESS) instead of approved at payment.",
    )
    phone: str = Field(
        "",
        max_length=32,
        pattern=r"^[0-9+()\- ]*$",
        description="The recipient's phone, digits with an optional +, spaces, dashes.",
    )


class ShopLine(_Model):
    sku: str = Field(min_length=1, description="Our SKU code.")
    quantity: int = Field(gt=0, le=1_000_000, description="Units ordered; positive.")
    unit_price: int = Field(
        ge=0, le=10**13, description="Price of one unit in minor units (cents/fen)."
    )


class ShopOrder(_Model):
    id: str = Field(min_length=1, max_length=128, description="The shop's order id.")
    status: ShopOrderStatus
    created_at: AwareDatetime = Field(
        description="RFC 3339 with offset, e.g. 2025-01-01T08:00:00Z."
    )
    updated_at: AwareDatetime = Field(
        description="RFC 3339; the newest snapshot of an order wins, older ones are ignored."
    )
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. CNY.")
    total: int = Field(ge=0, le=10**13, description="What the buyer pays, in minor units.")
    buyer: ShopBuyer
    shipping_address: ShopAddress
    lines: list[ShopLine] = Field(min_length=1)


class ShopWebhook(_Model):
    """One order event from our web shop, signed with Standard Webhooks."""

    type: ShopEventType
    order: ShopOrder

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "type": "order.created",
                "order": {
                    "id": "A1001",
                    "status": "pending",
                    "created_at": "2025-01-01T08:00:00Z",
                    "updated_at": "2025-01-01T08:00:00Z",
                    "currency": "CNY",
                    "total": 2598,
                    "buyer": {"id": "u-42", "name": "Li Lei"},
                    "shipping_address": {
                        "province": "Zhejiang",
                        "city": "Hangzhou",
                        "district": "Xihu",
                        "line1": "1 Wensan Rd",
                        "postal_code": "310000",
                        "recipient_name": "Li Lei",
                        "phone": "+86 138 0000 0000",
                    },
                    "lines": [{"sku": "SKU-RED-M", "quantity": 2, "unit_price": 1299}],
                },
            }
        }
    )
