"""The aftersales server answers its contract: the issue-code catalogue, and
UNIMPLEMENTED (not INTERNAL) for what is not built yet."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from oms.aftersales.v1 import aftersales_service_pb2 as pb
from oms.aftersales.v1 import aftersales_service_pb2_grpc as pb_grpc
from oms_aftersales.bootstrap import Running, start
from oms_aftersales.config import Settings


@pytest.fixture
async def aftersales(
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[pb_grpc.AftersalesServiceStub]:
    monkeypatch.setenv("OMS_AFTERSALES_PORT", "0")
    monkeypatch.setenv("OMS_AFTERSALES_HOST", "127.0.0.1")
    running: Running = await start(Settings())
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield pb_grpc.AftersalesServiceStub(channel)
    await running.stop()


async def test_issue_codes_include_not_shipped_on_time(
    aftersales: pb_grpc.AftersalesServiceStub,
) -> None:
    reply = await aftersales.ListIssueCodes(pb.ListIssueCodesRequest())

    codes = {code.code: code for code in reply.issue_codes}
    assert codes["RTS-001"].responsible_department == "warehouse"
    assert codes["RTS-001"].response_deadline.ToSeconds() == 2 * 3600


async def test_methods_not_built_yet_answer_unimplemented(
    aftersales: pb_grpc.AftersalesServiceStub,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await aftersales.GetTicket(pb.GetTicketRequest(name="tickets/1"))

    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
