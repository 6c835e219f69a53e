"""The exit check (出监区核验): at the exit of the detention area a biometric terminal reports
whose identity it matched; the platform lets the person through only when the match holds and an
exit pass for that movement is complete. Anything else blocks the exit and alerts the command
centre at once (duty category EXIT_BLOCKED, URGENT). Basis: practice.

The terminal's result arrives two ways: as a `device.reading` through MQTT (the consumer decides),
and synchronously by HTTP from the door controller, which keeps the door shut unless the answer is
PASS. Both decide once per device message (device and sequence number), so whichever comes second
gets the same answer.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from jianguan.core.actor import Actor
from jianguan.core.errors import DomainError, NotFound, PermissionDenied
from jianguan.custody.api import HELD_STATUSES, Detainee, held_in_unit
from jianguan.devices.api import (
    Device,
    DeviceKind,
    DeviceStatus,
    Envelope,
    Incoming,
    LocationKind,
    Raised,
    Refused,
    alert_raise,
    decode,
    ingest,
    topic_for,
)
from jianguan.org.api import Perm, actor_for, has_perm
from jianguan.outbox.api import change_record
from jianguan.prevention.checklist import (
    ANKLE,
    APPROVAL,
    CHECKLIST,
    DESTINATION,
    DOCUMENT,
    ESCORT,
    GEOFENCE,
    KIND_LABELS,
    Item,
    checklist,
    missing,
)
from jianguan.prevention.models import ExitCheck, ExitPass, ExitResult, Geofence, PassState

ACTOR = Actor.system("prevention")
MATCH = "MATCH"
EXIT_BLOCKED = "EXIT_BLOCKED"
# A door controller may ask again about the same message (a lost answer); an old message sent
# again later is a replay and is refused.
RETRY_WINDOW = dt.timedelta(seconds=60)


# --- passes -----------------------------------------------------------------------------


def ankle_worn(detainee_id: Any) -> bool:
    return (
        Device.objects.filter(kind=DeviceKind.ANKLE, detainee_id=detainee_id)
        .exclude(status=DeviceStatus.DISABLED)
        .exists()
    )


def items_done(p: ExitPass) -> set[str]:
    done = set()
    if p.document_number.strip():
        done.add(DOCUMENT)
    if p.approved_at is not None:
        done.add(APPROVAL)
    if p.escort.strip():
        done.add(ESCORT)
    if p.destination.strip():
        done.add(DESTINATION)
    if p.geofence_id is not None:
        done.add(GEOFENCE)
    if ANKLE in CHECKLIST.get(p.kind, ()) and ankle_worn(p.detainee_id):
        done.add(ANKLE)
    return done


def pass_items(p: ExitPass) -> list[Item]:
    return checklist(p.kind, items_done(p))


def pass_missing(p: ExitPass) -> list[str]:
    return missing(p.kind, items_done(p))


def _record(actor: Actor, p: ExitPass, type: str) -> None:
    change_record(
        actor=actor,
        type=f"prevention.pass_{type}",
        aggregate_type="exit_pass",
        aggregate_id=p.id,
        unit_code=p.unit.code,
        payload={
            "detainee": str(p.detainee_id),
            "kind": p.kind,
            "state": p.state,
            "missing": pass_missing(p),
        },
    )


@transaction.atomic
def pass_prepare(
    *,
    user: Any,
    detainee_id: Any,
    kind: str,
    document_number: str = "",
    escort: str = "",
    destination: str = "",
    geofence_id: Any = None,
    address: str | None = None,
    now: dt.datetime | None = None,
) -> ExitPass:
    """Prepare (or amend) the person's pass for a movement. Amending takes back the approval:
    the leader approves what the pass says now."""
    now = now or timezone.now()
    if not has_perm(user, Perm.DETAINEE_MOVE):
        raise PermissionDenied("出监区通行单由负责出入所登记的岗位准备")
    unit = user.unit
    detainee = held_in_unit(unit.id, detainee_id) if unit is not None else None
    if detainee is None:
        raise DomainError("NOT_HELD", "该人员不在本所在押", field="detainee")
    if kind not in CHECKLIST:
        raise DomainError("BAD_KIND", "请选择提解、出所就医、释放、转所或交付执行", field="kind")
    fence = None
    if geofence_id:
        fence = Geofence.objects.filter(unit=unit, id=geofence_id, is_active=True).first()
        if fence is None:
            raise DomainError("UNKNOWN_FENCE", "本所没有该电子围栏", field="geofence")
    p = ExitPass.objects.filter(
        detainee=detainee, kind=kind, state=PassState.PREPARING
    ).first() or ExitPass(
        unit=unit,
        detainee=detainee,
        kind=kind,
        prepared_by=user.username,
        prepared_at=now,
    )
    p.document_number = document_number.strip()[:60]
    p.escort = escort.strip()[:100]
    p.destination = destination.strip()[:100]
    p.geofence = fence
    p.approved_by, p.approved_at = "", None
    p.save()
    _record(actor_for(user, address=address), p, "prepared")
    return p


def access_pass(*, user: Any, id: Any) -> ExitPass:
    """A pass of the user's own facility; missing and foreign both answer NotFound."""
    try:
        return ExitPass.objects.select_related("unit", "detainee").get(id=id, unit=user.unit)
    except (ExitPass.DoesNotExist, ValueError, ValidationError):
        raise NotFound("通行单") from None


@transaction.atomic
def pass_approve(
    *, user: Any, exit_pass: ExitPass, address: str | None = None, now: dt.datetime | None = None
) -> ExitPass:
    if not has_perm(user, Perm.LEAD):
        raise PermissionDenied("出监区通行单由所领导批准")
    p = ExitPass.objects.select_for_update().select_related("unit").get(id=exit_pass.id)
    if p.state != PassState.PREPARING:
        raise DomainError("BAD_STATE", "该通行单已使用或作废，不能批准")
    p.approved_by = user.full_name or user.username
    p.approved_at = now or timezone.now()
    p.save(update_fields=["approved_by", "approved_at"])
    _record(actor_for(user, address=address), p, "approved")
    return p


@transaction.atomic
def pass_cancel(*, user: Any, exit_pass: ExitPass, address: str | None = None) -> ExitPass:
    if not (has_perm(user, Perm.DETAINEE_MOVE) or has_perm(user, Perm.LEAD)):
        raise PermissionDenied("只有负责出入所登记的岗位或所领导可以作废通行单")
    p = ExitPass.objects.select_for_update().select_related("unit").get(id=exit_pass.id)
    if p.state == PassState.PREPARING:
        p.state = PassState.CANCELLED
        p.save(update_fields=["state"])
        _record(actor_for(user, address=address), p, "cancelled")
    return p


# --- the check --------------------------------------------------------------------------


@dataclass
class Decision:
    result: str
    reasons: list[dict[str, str]] = field(default_factory=list)

    def block(self, code: str, message: str) -> None:
        self.result = ExitResult.BLOCK
        self.reasons.append({"code": code, "message": message})


def _number(value: Any) -> str:
    return str(value).strip()[:40] if isinstance(value, str | int) else ""


def _score(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _decide(
    unit: Any, number: str, matched: bool, score: float | None
) -> tuple[Decision, Any, ExitPass | None]:
    decision = Decision(ExitResult.PASS)
    person = (
        Detainee.objects.select_related("unit")
        .filter(unit=unit, number=number, status__in=HELD_STATUSES)
        .first()
        if number
        else None
    )
    if person is None:
        decision.block("UNKNOWN_PERSON", f"编号 {number or '（空）'} 不是本所在押人员，禁止通行")
        return decision, None, None
    if not matched:
        shown = f"（分值 {score:g}）" if score is not None else ""
        decision.block("NOT_MATCHED", f"{person.name}的生物特征比对未通过{shown}，请人工核对身份")
    p = (
        ExitPass.objects.select_for_update()
        .filter(detainee=person, state=PassState.PREPARING)
        .order_by("-prepared_at")
        .first()
    )
    if p is None:
        decision.block("NO_PASS", f"{person.name}没有出监区通行单，请核实出监区事由")
        return decision, person, None
    gaps = pass_missing(p)
    if gaps:
        label = KIND_LABELS.get(p.kind, p.kind)
        decision.block("INCOMPLETE", f"{label}通行单未完成：{'、'.join(gaps)}")
    return decision, person, p


def exit_decide(
    *, device: Any, seq: int, data: dict[str, Any], at: dt.datetime, now: dt.datetime | None = None
) -> ExitCheck:
    """Decide one match result from the exit terminal; once per device message."""
    now = now or timezone.now()
    at = min(at, now)
    source_ref = f"exit:{device.id.hex}:{seq}"
    found = ExitCheck.objects.filter(source_ref=source_ref).first()
    if found is not None:
        return found
    number, matched, score = (
        _number(data.get("number")),
        data.get("matched") is True,
        _score(data.get("score")),
    )
    try:
        with transaction.atomic():
            decision, person, p = _decide(device.unit, number, matched, score)
            check = ExitCheck.objects.create(
                unit=device.unit,
                device_code=device.code,
                source_ref=source_ref,
                number=number,
                detainee=person,
                matched=matched,
                score=score,
                exit_pass=p,
                result=decision.result,
                reasons=decision.reasons,
                at=at,
            )
            if decision.result == ExitResult.PASS and p is not None:
                p.state, p.used_at = PassState.USED, at
                p.save(update_fields=["state", "used_at"])
                _passed(p, at)
            else:
                _alert(check, device, person, decision, now)
            change_record(
                actor=ACTOR,
                type="prevention.exit_checked",
                aggregate_type="exit_check",
                aggregate_id=check.id,
                unit_code=device.unit.code,
                payload={
                    "device": device.code,
                    "number": number,
                    "name": person.name if person else "",
                    "result": decision.result,
                    "reasons": [r["message"] for r in decision.reasons],
                    "at": at.isoformat(),
                },
            )
            return check
    except IntegrityError:  # the other path decided this message at the same moment
        return ExitCheck.objects.get(source_ref=source_ref)


def _passed(p: ExitPass, at: dt.datetime) -> None:
    """Out for medical care: the ankle monitor is tied to the fence from the exit on."""
    if p.kind == "OUT_MEDICAL" and p.geofence is not None:
        from jianguan.prevention.outings import outing_start

        outing_start(detainee=p.detainee, geofence=p.geofence, exit_pass=p, at=at)


def _alert(
    check: ExitCheck, device: Any, person: Any, decision: Decision, now: dt.datetime
) -> None:
    who = f"{person.name}（{person.number}）" if person else f"编号 {check.number or '（空）'}"
    alert = alert_raise(
        unit=device.unit,
        raised=Raised(
            type=EXIT_BLOCKED,
            name="出监区核验未通过",
            severity="URGENT",
            post="COMMAND",
            at=check.at,
            device=device,
            cell_id=person.cell_id if person else None,
            detainee_id=person.id if person else None,
            detail=f"{who}：" + "；".join(r["message"] for r in decision.reasons),
            data={"number": check.number, "reasons": decision.reasons},
            category=EXIT_BLOCKED,
            source_ref=check.source_ref,
        ),
        now=now,
    )
    if alert is not None:
        check.alert_id = alert.id
        check.save(update_fields=["alert_id"])


def exit_terminal(device_code: str) -> Any:
    """A registered exit terminal (a biometric device at the exit), or None."""
    return (
        Device.objects.select_related("unit")
        .filter(code=device_code, kind=DeviceKind.BIOMETRIC, location_kind=LocationKind.EXIT)
        .first()
    )


@dataclass(frozen=True)
class Answer:
    result: str
    reasons: list[dict[str, str]]
    check: ExitCheck | None = None


def _refused(code: str, message: str) -> Answer:
    return Answer(ExitResult.BLOCK, [{"code": code, "message": message}])


def exit_check_http(payload: bytes, *, now: dt.datetime | None = None) -> Answer:
    """The door controller's question: the terminal's signed MATCH message, as it would be
    published. The message goes through ingest like any other (signature, replay guard), then is
    decided here and now; anything wrong with it keeps the door shut."""
    now = now or timezone.now()
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, ValueError):
        return _refused("MALFORMED", "不是 UTF-8 JSON")
    code = body.get("device") if isinstance(body, dict) else None
    device = exit_terminal(code) if isinstance(code, str) else None
    if device is None:
        return _refused("UNKNOWN_DEVICE", "不是已登记的监区出口核验终端")
    event = body.get("event")
    if event != MATCH:
        return _refused("UNKNOWN_EVENT", "出监区核验只接受比对结果（MATCH）")
    topic = topic_for(device.unit.code, device.kind, device.code, MATCH)
    try:
        envelope: Envelope = decode(topic, payload)
    except Refused as refused:
        return _refused(refused.reason, refused.detail)
    verdicts, _ = ingest([Incoming(topic, payload, "HTTP")], now=now)
    if not verdicts[0].accepted:
        earlier = ExitCheck.objects.filter(
            source_ref=f"exit:{device.id.hex}:{envelope.seq}"
        ).first()
        fresh = abs(now - envelope.at) <= RETRY_WINDOW
        if verdicts[0].reason == "REPLAY" and earlier is not None and fresh:
            return Answer(earlier.result, earlier.reasons, earlier)  # the same question again
        return _refused(verdicts[0].reason, verdicts[0].detail)
    device.refresh_from_db()
    check = exit_decide(
        device=device, seq=envelope.seq, data=envelope.data, at=envelope.at, now=now
    )
    return Answer(check.result, check.reasons, check)
