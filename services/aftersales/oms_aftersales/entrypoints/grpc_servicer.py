"""AftersalesService: the v1 contract is served; behaviour beyond the issue-code
catalogue arrives with the after-sales issue, so other methods answer
UNIMPLEMENTED (inherited from the generated base class)."""

from __future__ import annotations

import grpc
from google.protobuf.duration_pb2 import Duration
from oms.aftersales.v1 import aftersales_pb2, aftersales_service_pb2, aftersales_service_pb2_grpc

from oms_aftersales.domain.issue_codes import CATALOGUE, IssueCode


def _issue_code_to_proto(code: IssueCode) -> aftersales_pb2.IssueCode:
    response_deadline = Duration()
    response_deadline.FromTimedelta(code.response_deadline)
    resolution_deadline = Duration()
    resolution_deadline.FromTimedelta(code.resolution_deadline)
    return aftersales_pb2.IssueCode(
        code=code.code,
        title=code.title,
        responsible_department=code.responsible_department,
        response_deadline=response_deadline,
        resolution_deadline=resolution_deadline,
        compensation_standard=code.compensation_standard,
    )


class AftersalesServicer(aftersales_service_pb2_grpc.AftersalesServiceServicer):
    """Translates AftersalesService calls; holds no business rules itself."""

    async def ListIssueCodes(
        self,
        request: aftersales_service_pb2.ListIssueCodesRequest,
        context: grpc.aio.ServicerContext,
    ) -> aftersales_service_pb2.ListIssueCodesResponse:
        return aftersales_service_pb2.ListIssueCodesResponse(
            issue_codes=[_issue_code_to_proto(code) for code in CATALOGUE]
        )
