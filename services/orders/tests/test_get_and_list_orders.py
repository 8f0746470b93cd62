"""GetOrder by both name forms; ListOrders newest first, paged and filtered."""

from __future__ import annotations

from typing import Any

import grpc
import grpc.aio
import pytest
from oms.orders.v1 import order_pb2
from oms.orders.v1 import orders_service_pb2 as pb
from oms.orders.v1 import orders_service_pb2_grpc as pb_grpc
from oms.type.v1 import platform_pb2

Stub = pb_grpc.OrdersServiceStub
Fn = Any


async def test_get_order_by_id_and_by_platform_name(
    orders_stub: Stub, sync: Fn, make_snapshot: Fn, put_stock: Fn
) -> None:
    await put_stock("TEE", 10)
    created = (await sync(make_snapshot("G-1", [("TEE", 1)]))).order

    by_id = await orders_stub.GetOrder(pb.GetOrderRequest(name=f"orders/{created.order_id}"))
    by_platform = await orders_stub.GetOrder(pb.GetOrderRequest(name="platforms/shop/orders/G-1"))

    assert by_id.order == created
    assert by_platform.order == created


@pytest.mark.parametrize(
    ("name", "code", "reason"),
    [
        ("orders/01ARZ3NDEKTSV4RRFFQ69G5FAV", grpc.StatusCode.NOT_FOUND, "ORDER_NOT_FOUND"),
        ("platforms/taobao/orders/G-1", grpc.StatusCode.NOT_FOUND, "ORDER_NOT_FOUND"),
        ("platforms/nosuch/orders/G-1", grpc.StatusCode.INVALID_ARGUMENT, "INVALID_NAME"),
        # Malformed names stop at the request rules in the proto (omslib ValidationInterceptor).
        ("orders", grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT"),
        ("", grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT"),
    ],
)
async def test_get_order_errors(
    orders_stub: Stub, reason_of: Fn, name: str, code: grpc.StatusCode, reason: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await orders_stub.GetOrder(pb.GetOrderRequest(name=name))
    assert raised.value.code() == code
    assert reason_of(raised.value) == reason


async def test_list_orders_pages_newest_first_and_filters(
    orders_stub: Stub, sync: Fn, make_snapshot: Fn, put_stock: Fn
) -> None:
    await put_stock("TEE", 100)
    await put_stock("LAMP", 0)
    made = []
    for i in range(5):
        made.append((await sync(make_snapshot(f"L-{i}", [("TEE", 1)]))).order.order_id)
    rejected = (await sync(make_snapshot("L-R", [("LAMP", 1)]))).order.order_id
    taobao = (
        await sync(make_snapshot("L-T", [("TEE", 1)], platform=platform_pb2.PLATFORM_TAOBAO))
    ).order.order_id
    newest_first = [taobao, rejected, *reversed(made)]

    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await orders_stub.ListOrders(pb.ListOrdersRequest(page_size=3, page_token=token))
        seen += [o.order_id for o in page.orders]
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert seen == newest_first
    assert pages == 3

    only_rejected = await orders_stub.ListOrders(
        pb.ListOrdersRequest(states=[order_pb2.ORDER_STATE_REJECTED])
    )
    assert [o.order_id for o in only_rejected.orders] == [rejected]
    only_taobao = await orders_stub.ListOrders(
        pb.ListOrdersRequest(platform=platform_pb2.PLATFORM_TAOBAO)
    )
    assert [o.order_id for o in only_taobao.orders] == [taobao]
    pending_shop = await orders_stub.ListOrders(
        pb.ListOrdersRequest(
            states=[order_pb2.ORDER_STATE_PENDING_PAYMENT], platform=platform_pb2.PLATFORM_SHOP
        )
    )
    assert [o.order_id for o in pending_shop.orders] == list(reversed(made))


@pytest.mark.parametrize(
    "request_",
    [
        pb.ListOrdersRequest(page_token="not-a-token"),
        pb.ListOrdersRequest(page_size=-1),
        pb.ListOrdersRequest(states=[order_pb2.ORDER_STATE_UNSPECIFIED]),
    ],
)
async def test_list_orders_refuses_bad_requests(
    orders_stub: Stub, request_: pb.ListOrdersRequest
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await orders_stub.ListOrders(request_)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_cancelling_an_unknown_order_is_not_found(orders_stub: Stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await orders_stub.CancelOrder(pb.CancelOrderRequest(name="orders/x"))
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
