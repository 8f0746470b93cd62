"""Customers, their identity aliases, and the orders we learnt of from oms.orders."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from omslib.db.inserts import dialect_insert, insert_if_absent
from sqlalchemy.ext.asyncio import AsyncSession

from oms_aftersales.adapters import orm
from oms_aftersales.domain.customers import CustomerIdentity, parse_key
from oms_aftersales.domain.profile import MessageFact, OrderFact, TicketFact
from oms_aftersales.domain.ticket import Channel, Mood

# Platform order ids quoted in a message: long digit runs or letter+digit codes.
ORDER_REF = re.compile(r"[A-Za-z]{0,4}\d{4,32}")


@dataclass(frozen=True)
class KnownOrder:
    order_id: str
    customer_key: str
    platform: str
    platform_order_id: str
    state: str
    total_minor_units: int
    currency: str
    created_at: datetime
    paid_at: datetime | None
    promised_ship_at: datetime | None
    shipped_at: datetime | None


class CustomerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def resolve(
        self, identity: CustomerIdentity, order: KnownOrder | None, at: datetime
    ) -> str:
        """The customer key for ``identity``; the order's buyer wins and adopts the others."""
        keys = identity.identity_keys()
        if order is not None:
            customer_key = order.customer_key
        else:
            found = await self._s.execute(
                sa.select(
                    orm.customer_aliases.c.identity, orm.customer_aliases.c.customer_key
                ).where(orm.customer_aliases.c.identity.in_(keys))
            )
            known = {identity: key for identity, key in found}
            # The strongest identity already known decides; else the strongest given.
            customer_key = next((known[k] for k in keys if k in known), keys[0])
        await self._ensure_customer(customer_key, at)
        for key in [*keys, customer_key]:
            await self._alias(key, customer_key)
        return customer_key

    async def _ensure_customer(self, customer_key: str, at: datetime) -> None:
        ident = parse_key(customer_key)
        await insert_if_absent(
            self._s,
            orm.customers,
            {
                "customer_key": customer_key,
                "platform": ident.platform,
                "buyer_id": ident.buyer_id,
                "phone": ident.phone,
                "wechat_openid": ident.wechat_openid,
                "created_at": at,
            },
            on=("customer_key",),
        )

    async def _alias(self, identity: str, customer_key: str) -> None:
        c = orm.customer_aliases.c
        await self._s.execute(
            dialect_insert(self._s, orm.customer_aliases)
            .values(identity=identity, customer_key=customer_key)
            .on_conflict_do_update(index_elements=[c.identity], set_={"customer_key": customer_key})
        )

    async def lookup(self, identity: str) -> str | None:
        c = orm.customer_aliases.c
        row = await self._s.execute(sa.select(c.customer_key).where(c.identity == identity))
        return row.scalar_one_or_none()

    async def identities(self, customer_key: str) -> CustomerIdentity:
        c = orm.customer_aliases.c
        rows = await self._s.execute(sa.select(c.identity).where(c.customer_key == customer_key))
        merged: dict[str, str] = {}
        for (key,) in rows:
            for name, value in parse_key(key).__dict__.items():
                if value and not merged.get(name):
                    merged[name] = value
        return CustomerIdentity(**merged)

    # --- orders -------------------------------------------------------------------

    async def order(self, order_id: str) -> KnownOrder | None:
        row = (
            await self._s.execute(
                sa.select(orm.known_orders).where(orm.known_orders.c.order_id == order_id)
            )
        ).first()
        return _order(row) if row else None

    async def order_by_ref(self, platform: str, platform_order_id: str) -> KnownOrder | None:
        c = orm.known_orders.c
        row = (
            await self._s.execute(
                sa.select(orm.known_orders).where(
                    c.platform == platform, c.platform_order_id == platform_order_id
                )
            )
        ).first()
        return _order(row) if row else None

    async def order_in_text(self, text: str, customer_keys: list[str]) -> KnownOrder | None:
        """An order whose platform id the message quotes (any customer), else None."""
        refs = list(dict.fromkeys(ORDER_REF.findall(text)))[:5]
        if not refs:
            return None
        c = orm.known_orders.c
        row = (
            await self._s.execute(
                sa.select(orm.known_orders)
                .where(sa.or_(c.platform_order_id.in_(refs), c.order_id.in_(refs)))
                .order_by(c.customer_key.in_(customer_keys).desc(), c.created_at.desc())
                .limit(1)
            )
        ).first()
        return _order(row) if row else None

    async def latest_order_of(self, customer_key: str) -> KnownOrder | None:
        c = orm.known_orders.c
        row = (
            await self._s.execute(
                sa.select(orm.known_orders)
                .where(c.customer_key == customer_key)
                .order_by(c.created_at.desc())
                .limit(1)
            )
        ).first()
        return _order(row) if row else None

    async def upsert_order(self, values: dict[str, Any]) -> None:
        c = orm.known_orders.c
        update = {
            k: v for k, v in values.items() if k not in ("order_id", "created_at") and v is not None
        }
        await self._s.execute(
            dialect_insert(self._s, orm.known_orders)
            .values(**values)
            .on_conflict_do_update(index_elements=[c.order_id], set_=update)
        )

    async def update_order(self, order_id: str, **values: Any) -> None:
        await self._s.execute(
            sa.update(orm.known_orders)
            .where(orm.known_orders.c.order_id == order_id)
            .values(**values)
        )

    # --- profile facts --------------------------------------------------------------

    async def profile_facts(
        self, customer_key: str, complaint_codes: frozenset[str]
    ) -> tuple[list[OrderFact], list[TicketFact], list[MessageFact]]:
        o = orm.known_orders.c
        orders = [
            OrderFact(r.order_id, r.total_minor_units, r.currency, r.paid_at or r.created_at)
            for r in await self._s.execute(
                sa.select(orm.known_orders).where(o.customer_key == customer_key).limit(5000)
            )
        ]
        t = orm.tickets.c
        tickets = [
            TicketFact(r.ticket_id, r.issue_code, r.issue_code in complaint_codes, r.opened_at)
            for r in await self._s.execute(
                sa.select(t.ticket_id, t.issue_code, t.opened_at)
                .where(t.customer_key == customer_key)
                .order_by(t.opened_at.desc())
                .limit(1000)
            )
        ]
        m = orm.ticket_messages.c
        messages = [
            MessageFact(Channel(r.channel), Mood(r.mood), r.created_at)
            for r in await self._s.execute(
                sa.select(m.channel, m.mood, m.created_at)
                .where(m.customer_key == customer_key, m.kind == "CUSTOMER")
                .order_by(m.created_at.desc())
                .limit(1000)
            )
        ]
        return orders, tickets, messages


def _order(r: Any) -> KnownOrder:
    return KnownOrder(
        r.order_id,
        r.customer_key,
        r.platform,
        r.platform_order_id,
        r.state,
        r.total_minor_units,
        r.currency,
        r.created_at,
        r.paid_at,
        r.promised_ship_at,
        r.shipped_at,
    )
