"""WeChat official-account customer-service messages (the account's server callback),
plaintext mode.

WeChat signs the callback URL's query: ``signature`` = hex SHA-1 of ``token``,
``timestamp`` and ``nonce`` sorted as strings and joined; ``token`` is the one set in the
account's console (``OMS_PLATFORM_WECHAT_TOKEN``). ``GET`` with ``echostr`` is the
console's URL check (answered with ``echostr``); ``POST`` carries one message as XML
(``ToUserName``, ``FromUserName`` = the sender's openid, ``CreateTime``, ``MsgType``,
``Content``, ``MsgId``...). Messages are identified by ``MsgId``; events (subscribe, menu
clicks), which have none, by ``FromUserName:CreateTime:Event`` as WeChat recommends, and are
stored but open no ticket. WeChat waits 5 s for a reply and expects the plain text
``success``. Safe (AES) mode is refused: it needs the EncodingAESKey, not configured here.

The XML is parsed with expat directly into the flat fields of ``<xml>``; any DOCTYPE or
entity declaration is refused, so no entity is ever expanded or fetched, and the body is
bounded (``MAX_XML_BYTES``) before parsing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from xml.parsers import expat

from omslib.clock import Clock
from omslib.platforms.signing.wechat import signature
from pydantic import BaseModel, ConfigDict, Field

from oms_gateway.domain.customer_message import (
    CustomerIdentity,
    CustomerMessage,
    MessageChannel,
    bounded_text,
    request_id,
)
from oms_gateway.domain.errors import (
    InvalidPayload,
    InvalidSignature,
    MissingSignatureHeaders,
    PayloadTooLarge,
    PlatformNotConfigured,
    StaleTimestamp,
)
from oms_gateway.domain.inbox import RawPush
from oms_gateway.domain.snapshot import Translation
from oms_gateway.platforms.common import event_id, query_params, same, unix_time, validate

NAME = "wechat"
TOKEN_ENV = "OMS_PLATFORM_WECHAT_TOKEN"
SIGNED_PARAMS = ("signature", "timestamp", "nonce")
#: A WeChat message is a few hundred bytes; a long text one a few KiB.
MAX_XML_BYTES = 64 * 1024
MAX_FIELDS = 64
MAX_ECHOSTR_LENGTH = 128
ACKNOWLEDGEMENT_TEXT = "success"
DEFAULT_TOLERANCE = timedelta(minutes=10)


class MalformedXml(InvalidPayload):
    reason = "MALFORMED_XML"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WechatMessage(_Model):
    """The fields of a WeChat callback message (sent as XML ``<xml>...</xml>``, not JSON)."""

    ToUserName: str = Field(min_length=1, max_length=64, description="The account's id.")
    FromUserName: str = Field(min_length=1, max_length=64, description="The sender's openid.")
    CreateTime: int = Field(gt=0, description="Unix seconds.")
    MsgType: str = Field(min_length=1, max_length=32, description="text, image, voice, event...")
    MsgId: str = Field("", max_length=64, description="The message id; absent on events.")
    Content: str = ""
    Event: str = Field("", max_length=64)
    PicUrl: str = ""
    Recognition: str = Field("", description="Speech recognised in a voice message.")
    Title: str = ""
    Description: str = ""
    Url: str = ""
    Label: str = Field("", description="A location message's place.")


class WechatAdapter:
    name = NAME
    body_model: type[BaseModel] = WechatMessage
    #: Sent as the plain text body of the answer (see ``entrypoints.push_endpoint``).
    acknowledge_text = ACKNOWLEDGEMENT_TEXT

    def __init__(
        self, token: str | None, *, clock: Clock, tolerance: timedelta = DEFAULT_TOLERANCE
    ) -> None:
        self._token = token
        self._clock = clock
        self._tolerance = tolerance

    @property
    def enabled(self) -> bool:
        return bool(self._token)

    def disabled_hint(self) -> str:
        return f"set {TOKEN_ENV} and restart"

    def check_query(self, params: Mapping[str, str]) -> None:
        """Raise an ``Unauthenticated`` subclass unless the query is signed with our token."""
        if not self._token:
            raise PlatformNotConfigured(self.disabled_hint())
        missing = [name for name in SIGNED_PARAMS if not params.get(name, "").strip()]
        if missing:
            raise MissingSignatureHeaders(
                f"missing WeChat query parameter(s): {', '.join(missing)}",
                metadata={"headers": ",".join(missing)},
            )
        stamp = params["timestamp"]
        if not stamp.isdigit() or len(stamp) > 12:
            raise StaleTimestamp(f"timestamp must be unix seconds, got {stamp[:20]!r}")
        skew = abs(self._clock.now().timestamp() - int(stamp))
        if skew > self._tolerance.total_seconds():
            raise StaleTimestamp(
                f"timestamp is {int(skew)} s away from our clock (tolerance "
                f"{int(self._tolerance.total_seconds())} s)"
            )
        expected = signature(self._token, stamp, params["nonce"])
        if not same(params["signature"], expected, ignore_case=True):
            raise InvalidSignature(
                "signature does not match SHA-1 of the sorted token, timestamp and nonce "
                f"(token from {TOKEN_ENV})"
            )

    def echo(self, params: Mapping[str, str]) -> str:
        """The answer to the console's URL check: ``echostr``, once the query is verified."""
        self.check_query(params)
        echostr = params.get("echostr", "")
        if not echostr or len(echostr) > MAX_ECHOSTR_LENGTH:
            raise InvalidPayload(
                f"echostr must be 1 to {MAX_ECHOSTR_LENGTH} characters",
                metadata={"field": "echostr"},
            )
        return echostr

    def verify(self, push: RawPush) -> None:
        self.check_query(query_params(push))

    def translate(self, push: RawPush) -> Translation:
        mode = query_params(push).get("encrypt_type", "raw")
        if mode not in ("", "raw"):
            raise InvalidPayload(
                f"encrypt_type {mode[:20]!r}: only plaintext mode is supported; set the "
                "account's message encryption mode to plaintext (明文模式)",
                metadata={"field": "encrypt_type"},
            )
        message = validate(WechatMessage, parse_flat_xml(push.body))
        if message.MsgType == "event":
            push_id = event_id(
                f"{message.FromUserName}:{message.CreateTime}:{message.Event}", field="Event"
            )
            return Translation(platform=NAME, event_id=push_id)
        msg_id = event_id(message.MsgId, field="MsgId")
        return Translation(
            platform=NAME,
            event_id=msg_id,
            messages=(
                CustomerMessage(
                    channel=MessageChannel.WECHAT,
                    request_id=request_id(NAME, msg_id),
                    merchant_id=message.ToUserName,
                    customer=CustomerIdentity(wechat_openid=message.FromUserName),
                    text=text_of(message),
                    message_time=unix_time(message.CreateTime, field="CreateTime"),
                    topic=message.MsgType,
                ),
            ),
        )


def text_of(message: WechatMessage) -> str:
    """What an agent reads: the text, or a tag and what the message carries."""
    kind = message.MsgType
    if kind == "text":
        return bounded_text(message.Content)
    if kind == "voice":
        return bounded_text("[语音]", message.Recognition)
    if kind == "image":
        return bounded_text("[图片]", message.PicUrl)
    if kind == "location":
        return bounded_text("[位置]", message.Label)
    if kind == "link":
        return bounded_text("[链接]", message.Title, message.Description, message.Url)
    return bounded_text(f"[{kind}]", message.Title, message.Content)


class _Refused(Exception):
    pass


def parse_flat_xml(body: bytes) -> dict[str, Any]:
    """The child elements of the root as ``{tag: text}`` (WeChat messages are flat)."""
    if len(body) > MAX_XML_BYTES:
        raise PayloadTooLarge(f"a WeChat message is at most {MAX_XML_BYTES} bytes")
    fields: dict[str, Any] = {}
    depth = 0
    current: list[str] = []
    tag = ""

    def start(name: str, _: Any) -> None:
        nonlocal depth, tag
        depth += 1
        if depth == 2:
            tag = name
            current.clear()

    def end(name: str) -> None:
        nonlocal depth
        if depth == 2:
            if len(fields) >= MAX_FIELDS:
                raise _Refused(f"more than {MAX_FIELDS} fields")
            fields[tag] = "".join(current).strip()
        depth -= 1

    def text(data: str) -> None:
        if depth == 2:
            current.append(data)

    def refuse(*_: Any) -> None:
        raise _Refused("DOCTYPE and entity declarations are not accepted")

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse  # type: ignore[assignment]
    try:
        parser.Parse(body, True)
    except _Refused as exc:
        raise MalformedXml(f"the body is refused: {exc}", metadata={"field": "body"}) from None
    except expat.ExpatError as exc:
        raise MalformedXml(
            f"the body is not well-formed XML: {exc}", metadata={"field": "body"}
        ) from None
    return fields
