"""The device message format (DESIGN.md §8), pure Python: decode, check, sign.

Topic: ``jianguan/<unit>/<device-kind>/<device-id>/<event>``. Payload, JSON in UTF-8::

    {"v": 1, "device": "D-001", "event": "CLIMB", "seq": 42, "ts": "2026-11-21T02:13:05+08:00",
     "data": {...}, "sig": "<hex HMAC-SHA256 of the payload without sig, canonical JSON>"}

`seq` grows with every message a device sends, so a captured message sent again is refused
(replay); the signature ties the message to the device's secret. The same payload may arrive by
HTTP, with the topic given by the request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

SCHEMA_VERSION = 1
TOPIC_ROOT = "jianguan"
MAX_PAYLOAD = 16 * 1024
PAYLOAD_KEEP = 4 * 1024  # how much of a refused payload is kept for inspection


class Refused(Exception):
    """A message that ingest does not accept; `reason` is a RejectReason value."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Envelope:
    unit_code: str
    kind: str
    device_code: str
    event: str
    seq: int
    at: dt.datetime
    data: dict[str, Any]
    sig: str
    body: dict[str, Any]  # everything but sig: what the signature covers


@dataclass(frozen=True)
class Topic:
    unit_code: str
    kind: str
    device_code: str
    event: str


def topic_for(unit_code: str, kind: str, device_code: str, event: str) -> str:
    return f"{TOPIC_ROOT}/{unit_code}/{kind}/{device_code}/{event}"


def topic_parse(topic: str) -> Topic:
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != TOPIC_ROOT or not all(parts):
        raise Refused(
            "MALFORMED", f"主题应为 {TOPIC_ROOT}/单位/设备类型/设备编号/事件：{topic[:120]}"
        )
    return Topic(*parts[1:])


def canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signature(body: dict[str, Any], secret: str) -> str:
    return hmac.new(secret.encode(), canonical(body), hashlib.sha256).hexdigest()


def signature_ok(envelope: Envelope, secret: str) -> bool:
    return hmac.compare_digest(signature(envelope.body, secret), envelope.sig)


def _timestamp(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise Refused("MALFORMED", "ts 应为带时区的 ISO 8601 时间")
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Refused("MALFORMED", f"ts 不是有效时间：{value[:40]}") from None
    if at.tzinfo is None:
        raise Refused("MALFORMED", "ts 缺少时区")
    return at


def decode(topic: str, payload: bytes) -> Envelope:
    """Read one message; raise Refused with the first thing wrong with it (not the signature:
    that needs the device's secret, see `signature_ok`)."""
    where = topic_parse(topic)
    if len(payload) > MAX_PAYLOAD:
        raise Refused("MALFORMED", f"消息过大（{len(payload)} 字节，上限 {MAX_PAYLOAD}）")
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as e:
        raise Refused("MALFORMED", f"不是 UTF-8 JSON：{str(e)[:120]}") from None
    if not isinstance(body, dict):
        raise Refused("MALFORMED", "消息应为 JSON 对象")
    if body.get("v") != SCHEMA_VERSION:
        raise Refused("SCHEMA", f"数据版本 {body.get('v')!r} 不支持（支持 {SCHEMA_VERSION}）")
    sig = body.pop("sig", None)
    if not sig:
        raise Refused("UNSIGNED", "消息没有签名（sig）")
    if not isinstance(sig, str):
        raise Refused("MALFORMED", "sig 应为十六进制字符串")
    seq, data = body.get("seq"), body.get("data", {})
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise Refused("MALFORMED", "seq 应为正整数")
    if not isinstance(data, dict):
        raise Refused("MALFORMED", "data 应为 JSON 对象")
    if body.get("device") != where.device_code or body.get("event") != where.event:
        raise Refused(
            "TOPIC",
            f"主题为 {where.device_code}/{where.event}，内容为 "
            f"{body.get('device')!r}/{body.get('event')!r}",
        )
    return Envelope(
        unit_code=where.unit_code,
        kind=where.kind,
        device_code=where.device_code,
        event=where.event,
        seq=seq,
        at=_timestamp(body.get("ts")),
        data=data,
        sig=sig,
        body=body,
    )


def encode(
    *,
    unit_code: str,
    kind: str,
    device_code: str,
    event: str,
    seq: int,
    at: dt.datetime,
    data: dict[str, Any],
    secret: str | None,
) -> tuple[str, bytes]:
    """A device's message (the simulator's and the tests'); secret None leaves it unsigned."""
    body: dict[str, Any] = {
        "v": SCHEMA_VERSION,
        "device": device_code,
        "event": event,
        "seq": seq,
        "ts": at.isoformat(),
        "data": data,
    }
    if secret is not None:
        body["sig"] = signature(body, secret)
    return topic_for(unit_code, kind, device_code, event), canonical(body)
