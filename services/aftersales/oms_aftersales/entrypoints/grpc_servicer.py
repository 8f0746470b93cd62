"""AftersalesService: thin translation between protos and the service layer.

The refund RPCs live in ``refund_servicer.RefundRpcs``.
"""

from __future__ import annotations

import grpc
from oms.aftersales.v1 import aftersales_service_pb2 as pb
from oms.aftersales.v1 import aftersales_service_pb2_grpc as pb_grpc

from oms_aftersales.adapters import proto_mapping as m
from oms_aftersales.adapters import refund_mapping as rm
from oms_aftersales.adapters.repository import TicketQuery
from oms_aftersales.domain.errors import InvalidRequest
from oms_aftersales.domain.ticket import ACTIVE, TicketState
from oms_aftersales.entrypoints.refund_servicer import RefundRpcs
from oms_aftersales.service_layer.commands import CustomerMessage
from oms_aftersales.service_layer.intake import CustomerIntake
from oms_aftersales.service_layer.platform_refunds import PlatformRefunds
from oms_aftersales.service_layer.profiles import ProfileService
from oms_aftersales.service_layer.refunds import RefundService
from oms_aftersales.service_layer.tickets import TicketService

DEFAULT_PAGE = 50
MAX_PAGE = 500
CASE_KINDS = {1: "REFUND", 2: "DISPUTE", 3: "RETURN"}
Ctx = grpc.aio.ServicerContext


def _ticket_id(name: str) -> str:
    ticket_id = name.removeprefix(m.TICKETS)
    if not name.startswith(m.TICKETS) or not ticket_id or len(ticket_id) > 26:
        raise InvalidRequest(f"name must be 'tickets/{{ticket_id}}', got {name[:60]!r}")
    return ticket_id


def _order_id(order: str) -> str:
    if not order:
        return ""
    if not order.startswith("orders/") or len(order) > 80:
        raise InvalidRequest(f"order must be 'orders/{{order_id}}', got {order[:60]!r}")
    return order.removeprefix("orders/")


class AftersalesServicer(RefundRpcs, pb_grpc.AftersalesServiceServicer):
    """Translates AftersalesService calls; holds no business rules itself."""

    def __init__(
        self,
        intake: CustomerIntake,
        tickets: TicketService,
        profiles: ProfileService,
        refunds: RefundService,
        platform_refunds: PlatformRefunds,
    ) -> None:
        self._intake = intake
        self._tickets = tickets
        self._profiles = profiles
        self._refunds = refunds
        self._platform_refunds = platform_refunds

    async def ListIssueCodes(
        self, request: pb.ListIssueCodesRequest, context: Ctx
    ) -> pb.ListIssueCodesResponse:
        codes = self._tickets.catalogue.codes.values()
        return pb.ListIssueCodesResponse(issue_codes=[m.issue_code_to_proto(c) for c in codes])

    async def RecordCustomerMessage(
        self, request: pb.RecordCustomerMessageRequest, context: Ctx
    ) -> pb.RecordCustomerMessageResponse:
        channel = m.channel_from_proto(request.channel)
        if channel is None:
            raise InvalidRequest("channel is required")
        intake = await self._intake.record_message(
            CustomerMessage(
                request_id=request.request_id,
                channel=channel,
                merchant_id=request.merchant_id,
                customer=m.identity_from_proto(request.customer),
                text=request.text,
                at=m.time_from(request, "message_time"),
                order_id=_order_id(request.order),
                platform=m.platform_from_proto(request.platform_order.platform),
                platform_order_id=request.platform_order.platform_order_id,
                case_id=request.platform_case.case_id,
                case_kind=CASE_KINDS.get(request.platform_case.kind, ""),
                operator=request.call.agent[:64] if request.HasField("call") else "",
                call_seconds=request.call.duration.seconds if request.HasField("call") else None,
            )
        )
        return pb.RecordCustomerMessageResponse(
            ticket=m.ticket_to_proto(intake.ticket, intake.customer),
            ticket_created=intake.created,
            duplicate=intake.duplicate,
            entry_id=intake.entry_id,
        )

    async def CreateTicket(
        self, request: pb.CreateTicketRequest, context: Ctx
    ) -> pb.CreateTicketResponse:
        channel = m.channel_from_proto(request.channel)
        if channel is None:
            raise InvalidRequest("channel is required")
        intake = await self._intake.record_message(
            CustomerMessage(
                request_id=request.request_id,
                channel=channel,
                merchant_id=request.merchant_id,
                customer=m.identity_from_proto(request.customer),
                text=request.text,
                order_id=_order_id(request.order),
                issue_code=request.issue_code,
                priority=m.priority_from_proto(request.priority),
                operator=request.operator,
                new_ticket=True,
            )
        )
        return pb.CreateTicketResponse(ticket=m.ticket_to_proto(intake.ticket, intake.customer))

    async def GetTicket(self, request: pb.GetTicketRequest, context: Ctx) -> pb.GetTicketResponse:
        view = await self._tickets.get(_ticket_id(request.name))
        profile, identity = await self._profiles.get(customer_key=view.ticket.customer_key)
        refunds, _ = await self._refunds.page(
            order_id="", ticket_id=view.ticket.ticket_id, state="", page_size=50, token=""
        )
        return pb.GetTicketResponse(
            ticket=m.ticket_to_proto(view.ticket, view.customer),
            thread=[m.thread_entry_to_proto(e) for e in view.thread],
            audit=[m.audit_to_proto(a) for a in view.audit],
            profile=m.profile_to_proto(profile, identity),
            refunds=[rm.refund_to_proto(r) for r in refunds],
        )

    async def ListTickets(
        self, request: pb.ListTicketsRequest, context: Ctx
    ) -> pb.ListTicketsResponse:
        if not 0 <= request.page_size <= MAX_PAGE:
            raise InvalidRequest(f"page_size must be 0 to {MAX_PAGE}")
        states = [m.state_from_proto(s) for s in request.states]
        if any(s is None for s in states):
            raise InvalidRequest("states holds an unknown state")
        wanted = [s.value for s in states if s] or [
            s.value for s in (*ACTIVE, TicketState.RESOLVED)
        ]
        query = TicketQuery(
            states=wanted,
            department=request.department[:64],
            assignee=request.assignee[:64],
            issue_code=request.issue_code[:16],
            escalation=int(request.escalation),
            order_id=_order_id(request.order),
            newest_first=request.order_by == pb.TICKET_ORDER_BY_NEWEST,
        )
        found, token = await self._tickets.list_tickets(
            query, request.page_size or DEFAULT_PAGE, request.page_token
        )
        return pb.ListTicketsResponse(
            tickets=[m.ticket_to_proto(t) for t in found], next_page_token=token
        )

    async def ReplyToTicket(
        self, request: pb.ReplyToTicketRequest, context: Ctx
    ) -> pb.ReplyToTicketResponse:
        ticket, entry = await self._tickets.reply(
            _ticket_id(request.name),
            request.text,
            request.template,
            request.operator,
            request.wait_for_customer,
            request.request_id,
        )
        return pb.ReplyToTicketResponse(
            ticket=m.ticket_to_proto(ticket), entry=m.thread_entry_to_proto(entry)
        )

    async def AssignTicket(
        self, request: pb.AssignTicketRequest, context: Ctx
    ) -> pb.AssignTicketResponse:
        t = await self._tickets.assign(_ticket_id(request.name), request.assignee, request.operator)
        return pb.AssignTicketResponse(ticket=m.ticket_to_proto(t))

    async def PauseTicket(
        self, request: pb.PauseTicketRequest, context: Ctx
    ) -> pb.PauseTicketResponse:
        t = await self._tickets.pause(
            _ticket_id(request.name), request.operator, request.reason[:500]
        )
        return pb.PauseTicketResponse(ticket=m.ticket_to_proto(t))

    async def ResolveTicket(
        self, request: pb.ResolveTicketRequest, context: Ctx
    ) -> pb.ResolveTicketResponse:
        t = await self._tickets.resolve(
            _ticket_id(request.name), request.operator, request.resolution
        )
        return pb.ResolveTicketResponse(ticket=m.ticket_to_proto(t))

    async def ReopenTicket(
        self, request: pb.ReopenTicketRequest, context: Ctx
    ) -> pb.ReopenTicketResponse:
        t = await self._tickets.reopen(
            _ticket_id(request.name), request.operator, request.reason[:500]
        )
        return pb.ReopenTicketResponse(ticket=m.ticket_to_proto(t))

    async def CloseTicket(
        self, request: pb.CloseTicketRequest, context: Ctx
    ) -> pb.CloseTicketResponse:
        t = await self._tickets.close(_ticket_id(request.name), request.operator)
        return pb.CloseTicketResponse(ticket=m.ticket_to_proto(t))

    async def ReclassifyTicket(
        self, request: pb.ReclassifyTicketRequest, context: Ctx
    ) -> pb.ReclassifyTicketResponse:
        t = await self._tickets.reclassify(
            _ticket_id(request.name), request.issue_code, request.operator, request.reason[:500]
        )
        return pb.ReclassifyTicketResponse(ticket=m.ticket_to_proto(t))

    async def ChangeTicketPriority(
        self, request: pb.ChangeTicketPriorityRequest, context: Ctx
    ) -> pb.ChangeTicketPriorityResponse:
        priority = m.priority_from_proto(request.priority)
        if priority is None:
            raise InvalidRequest("priority is required")
        t = await self._tickets.change_priority(
            _ticket_id(request.name), priority, request.operator, request.reason[:500]
        )
        return pb.ChangeTicketPriorityResponse(ticket=m.ticket_to_proto(t))

    async def GetCustomerProfile(
        self, request: pb.GetCustomerProfileRequest, context: Ctx
    ) -> pb.GetCustomerProfileResponse:
        if request.name:
            profile, identity = await self._profiles.get(
                customer_key=request.name.removeprefix("customers/")[:160]
            )
        else:
            profile, identity = await self._profiles.get(
                identity=m.identity_from_proto(request.customer)
            )
        return pb.GetCustomerProfileResponse(profile=m.profile_to_proto(profile, identity))
