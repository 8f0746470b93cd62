"""`oms profile get`: a customer's after-sales profile."""

from __future__ import annotations

from typing import Annotated

import typer
from oms.aftersales.v1 import aftersales_pb2 as apb
from oms.aftersales.v1 import aftersales_service_pb2 as pb
from oms.type.v1 import platform_pb2

from oms_cli import render
from oms_cli.commands.ticket_ops import AddrOption, JsonOption, _stub_call, print_profile

app = typer.Typer(help="Customer profiles.", no_args_is_help=True)


@app.command("get")
def get_profile(
    platform: Annotated[str, typer.Option(help="with --buyer: the platform, e.g. taobao")] = "",
    buyer: Annotated[str, typer.Option(help="the platform buyer id")] = "",
    phone: Annotated[str, typer.Option(help="the customer's phone")] = "",
    wechat: Annotated[str, typer.Option(help="the customer's WeChat openid")] = "",
    name: Annotated[
        str, typer.Option(help="customers/<key>, as printed by `oms ticket show`")
    ] = "",
    aftersales: AddrOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a customer's profile by any identity."""
    try:
        platform_value = platform_pb2.Platform.Value(
            f"PLATFORM_{platform.upper()}" if platform else "PLATFORM_UNSPECIFIED"
        )
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    if not (name or buyer or phone or wechat):
        raise typer.BadParameter("give --name, --platform with --buyer, --phone or --wechat")
    request = pb.GetCustomerProfileRequest(
        name=name,
        customer=apb.CustomerIdentity(
            platform=platform_value, buyer_id=buyer, phone=phone, wechat_openid=wechat
        ),
    )
    reply = _stub_call(aftersales, "GetCustomerProfile", request)
    assert isinstance(reply, pb.GetCustomerProfileResponse)
    if as_json:
        render.print_json(reply.profile)
    else:
        print_profile(reply.profile)
