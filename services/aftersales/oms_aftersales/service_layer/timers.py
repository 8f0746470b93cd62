"""Firing due timers: SLA warnings, escalations, and the not-shipped-on-time check of orders.

Only the replica holding the ``aftersales-timers`` lease (omslib NamedLease)
fires; each timer row is also marked fired with a conditional update in the
transaction that writes its events, so even two holders (a lease lost mid-round)
cannot fire one twice. A timer that came due while no replica ran fires at the
next round. Escalations are sent to the alert webhook after their commit,
and marked notified, by the lease holder.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from oms.events.v1.aftersales_events_pb2 import SlaWarning, TicketEscalated
from oms.events.v1.alert_events_pb2 import ALERT_SEVERITY_CRITICAL, ALERT_SEVERITY_WARNING, Alert
from omslib.alert_webhook import AlertWebhook
from omslib.clock import Clock
from omslib.outbox import STREAM_AFTERSALES, STREAM_ALERTS
from omslib.outbox.named_lease import NamedLease

from oms_aftersales.adapters import orm
from oms_aftersales.adapters.proto_mapping import escalation_to_proto, stamp, ticket_name
from oms_aftersales.adapters.repository import TICKET
from oms_aftersales.adapters.unit_of_work import AftersalesUnitOfWork
from oms_aftersales.domain.ticket import Escalation, Ticket
from oms_aftersales.domain.timers import ESCALATION, WARNING
from oms_aftersales.service_layer.ticket_log import TicketLog

log = logging.getLogger(__name__)
ORDER = "order"
ESCALATION_ALERT = "TICKET_ESCALATED"

# Opens the not-shipped ticket of an order (idempotently); the order module provides it.
#: Called with the order id and the timer's kind when an order timer comes due.
OrderTimer = Callable[[str, str, datetime], Awaitable[None]]


class TimerWorker:
    def __init__(
        self,
        uow_factory: Callable[[], AftersalesUnitOfWork],
        ticket_log: TicketLog,
        lease: NamedLease,
        clock: Clock,
        *,
        webhook: AlertWebhook | None,
        order_timer: OrderTimer | None = None,
        batch: int = 100,
    ) -> None:
        self._uow = uow_factory
        self._log = ticket_log
        self._lease = lease
        self._clock = clock
        self._webhook = webhook
        self._order_timer = order_timer
        self._batch = batch

    async def run_once(self) -> int:
        """One round: fire what is due, then notify. The number fired (0 without the lease)."""
        if not await self._lease.hold():
            return 0
        now = self._clock.now()
        c = orm.timers.c
        async with self._uow() as uow:
            due = (
                await uow.session.execute(
                    sa.select(orm.timers)
                    .where(c.fired_at.is_(None), c.due_at <= now)
                    .order_by(c.due_at, c.id)
                    .limit(self._batch)
                )
            ).all()
        fired = 0
        for row in due:
            fired += await self._fire(row, now)
        await self._notify()
        return fired

    async def _fire(self, row: Any, now: datetime) -> int:
        if row.subject_type == ORDER and self._order_timer is not None:
            # Idempotent by the order: safe to run before the row is marked.
            await self._order_timer(row.subject_id, row.kind, now)
        async with self._uow() as uow:
            c = orm.timers.c
            marked = await uow.session.execute(
                sa.update(orm.timers)
                .where(c.id == row.id, c.fired_at.is_(None))
                .values(fired_at=now, notified_at=None if row.kind == ESCALATION else now)
            )
            if getattr(marked, "rowcount", 0) != 1:
                return 0  # another replica fired it, or the ticket's change replaced it
            if row.subject_type == TICKET:
                ticket = await uow.tickets.get(row.subject_id, for_update=True)
                if ticket is not None:
                    await self._ticket_timer(uow, ticket, row, now)
            await uow.commit()
        return 1

    async def _ticket_timer(
        self, uow: AftersalesUnitOfWork, ticket: Ticket, row: Any, now: datetime
    ) -> None:
        name = ticket_name(ticket.ticket_id)
        if row.kind == WARNING:
            await uow.emit(
                STREAM_AFTERSALES,
                TICKET,
                ticket.ticket_id,
                SlaWarning(
                    ticket=name,
                    deadline=row.deadline,
                    due_time=stamp(row.deadline_due_at),
                    department=ticket.department,
                    assignee=ticket.assignee,
                ),
                occur_time=now,
            )
            log.warning(
                "ticket deadline near",
                extra={
                    "code": "TICKET_SLA_WARNING",
                    "ticket_id": ticket.ticket_id,
                    "deadline": row.deadline,
                    "due": row.deadline_due_at.isoformat(),
                },
            )
            return
        level = Escalation(row.level)
        change = ticket.escalate(level, now)
        if change is None:
            return
        await self._log.record(uow, ticket, change)
        notify = self._recipient(ticket, level)
        await uow.emit(
            STREAM_AFTERSALES,
            TICKET,
            ticket.ticket_id,
            TicketEscalated(
                ticket=name,
                level=escalation_to_proto(level),
                deadline=row.deadline,
                due_time=stamp(row.deadline_due_at),
                notify=notify,
                department=ticket.department,
            ),
            occur_time=now,
        )
        await uow.emit(
            STREAM_ALERTS,
            TICKET,
            ticket.ticket_id,
            Alert(
                code=ESCALATION_ALERT,
                severity=ALERT_SEVERITY_CRITICAL
                if level >= Escalation.SUPERVISOR
                else ALERT_SEVERITY_WARNING,
                message=_message(ticket, level, row.deadline, notify),
                subject=name,
                attributes={"level": level.name, "deadline": row.deadline, "notify": notify},
                raise_time=stamp(now),
            ),
            occur_time=now,
        )
        log.error(
            "ticket escalated",
            extra={
                "code": ESCALATION_ALERT,
                "ticket_id": ticket.ticket_id,
                "level": level.name,
                "deadline": row.deadline,
                "notify": notify,
            },
        )

    def _recipient(self, ticket: Ticket, level: Escalation) -> str:
        dept = self._log.catalogue.departments[ticket.department]
        if level is Escalation.AGENT:
            return ticket.assignee or f"queue:{ticket.department}"
        return dept.supervisor if level is Escalation.SUPERVISOR else dept.manager

    async def _notify(self) -> None:
        c = orm.timers.c
        async with self._uow() as uow:
            rows = (
                await uow.session.execute(
                    sa.select(orm.timers)
                    .where(c.kind == ESCALATION, c.fired_at.is_not(None), c.notified_at.is_(None))
                    .order_by(c.id)
                    .limit(self._batch)
                )
            ).all()
        for row in rows:
            delivered = True
            if self._webhook is not None:
                delivered = await self._webhook.send(
                    {
                        "code": ESCALATION_ALERT,
                        "ticket": ticket_name(row.subject_id),
                        "level": Escalation(row.level).name,
                        "deadline": row.deadline,
                        "due_time": row.deadline_due_at.isoformat()
                        if row.deadline_due_at
                        else None,
                    }
                )
            if delivered:
                async with self._uow() as uow:
                    await uow.session.execute(
                        sa.update(orm.timers)
                        .where(c.id == row.id)
                        .values(notified_at=self._clock.now())
                    )
                    await uow.commit()


def _message(ticket: Ticket, level: Escalation, deadline: str, notify: str) -> str:
    return (
        f"ticket {ticket.ticket_id} ({ticket.issue_code}, {ticket.department}) breached its "
        f"{deadline.replace('_', ' ')} deadline; escalated to {level.name.lower()} ({notify})"
    )
