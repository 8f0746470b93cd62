"""The merchants' web form for customer tickets (``POST /forms/{merchant}/tickets``).

No platform signs it: a browser posts it. Each merchant has a form token
(``OMS_FORM_TOKENS``) that its page sends in ``X-OMS-Form-Token``; it tells whose form it
is and keeps casual abuse out (it is visible in the page, so the per-merchant rate limit
is what bounds a determined sender). The token is checked by the endpoint and never
stored: the inbox keeps the body, the merchant and the time of receipt (pseudo-headers),
so delivery and replays translate exactly what was accepted. ``submission_id`` (made by the
page, e.g. a UUID per filled form) makes a resubmission a duplicate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from omslib.platforms.names import PLATFORM_NAMES
from pydantic import BaseModel, ConfigDict, Field, model_validator

from oms_gateway.domain.customer_message import (
    CustomerIdentity,
    CustomerMessage,
    MessageChannel,
    bounded_text,
    request_id,
)
from oms_gateway.domain.errors import InvalidPayload, InvalidSignature, MissingSignatureHeaders
from oms_gateway.domain.inbox import RawPush
from oms_gateway.domain.snapshot import Translation
from oms_gateway.platforms.common import load_json, same, validate

NAME = "form"
TOKEN_HEADER = "x-oms-form-token"
#: Pseudo-headers written by the endpoint (a sender's own values are dropped).
MERCHANT_HEADER = "x-oms-form-merchant"
RECEIVED_HEADER = "x-oms-received-at"
MERCHANT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class TicketForm(BaseModel):
    """What the form sends (JSON). ``phone`` identifies the customer; ``email`` is shown to
    the agent with the text."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    submission_id: str = Field(
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Made by the page once per filled form (e.g. a UUID); resubmits dedupe.",
    )
    name: str = Field("", max_length=100)
    phone: str = Field(
        min_length=5,
        max_length=20,
        pattern=r"^\+?[0-9][0-9 -]*$",
        description="Digits, optional leading + (spaces and dashes are dropped).",
    )
    email: str = Field("", max_length=254, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")
    order_id: str = Field("", max_length=64, pattern=r"^[A-Za-z0-9_-]*$")
    platform: str = Field(
        "",
        description="Where the order was placed, if order_id is a platform's order id; "
        "empty: order_id is our own order id.",
    )
    text: str = Field(min_length=1, max_length=4000)

    @model_validator(mode="after")
    def _known_platform(self) -> TicketForm:
        if self.platform and self.platform not in PLATFORM_NAMES:
            raise ValueError(f"platform must be one of {', '.join(PLATFORM_NAMES)} or empty")
        if self.platform and not self.order_id:
            raise ValueError("platform is given but order_id is empty")
        return self


class FormTokens:
    """The merchants' form tokens, compared in constant time."""

    def __init__(self, tokens: Mapping[str, str]) -> None:
        self._tokens = dict(tokens)

    def check(self, merchant: str, token: str) -> None:
        if not token:
            raise MissingSignatureHeaders(
                f"missing {TOKEN_HEADER} header", metadata={"headers": TOKEN_HEADER}
            )
        expected = self._tokens.get(merchant)
        # An unknown merchant is refused like a wrong token: the answer names no merchant.
        if expected is None or not same(token, expected):
            raise InvalidSignature(
                f"{TOKEN_HEADER} is not this merchant's form token (OMS_FORM_TOKENS)"
            )


def form_push(merchant: str, body: bytes, received_at: datetime) -> RawPush:
    """The push the inbox stores for one submission: the body plus our pseudo-headers."""
    return RawPush(
        platform=NAME,
        headers={
            "content-type": "application/json",
            MERCHANT_HEADER: merchant,
            RECEIVED_HEADER: received_at.isoformat(),
        },
        body=body,
    )


class FormAdapter:
    """A submission as the intake and the delivery worker see it. Not a webhook platform: it
    is never in the platform registry, so ``/webhooks/form`` does not exist."""

    name = NAME
    body_model: type[BaseModel] = TicketForm
    enabled = True

    def disabled_hint(self) -> str:
        return "set OMS_FORM_TOKENS and restart"

    def verify(self, push: RawPush) -> None:
        """Nothing to verify here: the endpoint checked the merchant's form token, which
        is not stored."""

    def translate(self, push: RawPush) -> Translation:
        merchant = push.headers.get(MERCHANT_HEADER, "")
        if not MERCHANT_PATTERN.match(merchant):
            raise InvalidPayload("the merchant is missing", metadata={"field": "merchant"})
        form = validate(TicketForm, load_json(push.body))
        received = push.headers.get(RECEIVED_HEADER, "")
        push_id = f"{merchant}:{form.submission_id}"
        # The name and email travel with the text: the customer is identified by phone.
        contact = " ".join(part for part in (form.name, form.email) if part)
        message = CustomerMessage(
            channel=MessageChannel.WEB_FORM,
            request_id=request_id(NAME, push_id),
            merchant_id=merchant,
            customer=CustomerIdentity(phone=re.sub(r"[ -]", "", form.phone)),
            text=bounded_text(form.text, f"({contact})" if contact else ""),
            message_time=datetime.fromisoformat(received) if received else None,
            topic="ticket",
            platform=form.platform,
            platform_order_id=form.order_id if form.platform else "",
            order=f"orders/{form.order_id}" if form.order_id and not form.platform else "",
        )
        return Translation(platform=NAME, event_id=push_id, messages=(message,))
