"""HTTP endpoints of the prevention app (mounted at /prevention): 接待 records a meeting's end;
the exit door controller asks whether to open."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from jianguan.core.http import client_address
from jianguan.prevention.exits import exit_check_http
from jianguan.prevention.meetings import meeting_record

router = Router(tags=["prevention"])


class MeetingIn(Schema):
    detainee: str
    kind: str  # LAWYER / FAMILY
    visitor: str
    ended_at: dt.datetime


class MeetingOut(Schema):
    id: str
    detainee: str
    kind: str
    ended_at: dt.datetime


class ExitOut(Schema):
    result: str  # PASS / BLOCK
    reasons: list[dict[str, str]]
    check: str | None = None


@router.post("/meetings", response={201: MeetingOut})
def record_meeting(request: HttpRequest, body: MeetingIn) -> Any:
    meeting = meeting_record(
        user=request.user,
        detainee_id=body.detainee,
        kind=body.kind,
        visitor=body.visitor,
        ended_at=body.ended_at,
        address=client_address(request),
    )
    return Status(
        201,
        {
            "id": str(meeting.id),
            "detainee": str(meeting.detainee_id),
            "kind": meeting.kind,
            "ended_at": meeting.ended_at,
        },
    )


@router.post("/exit-checks", response=ExitOut, auth=None)
def exit_check(request: HttpRequest) -> Any:
    """The body is the exit terminal's signed MATCH message itself; its HMAC signature with the
    device's secret is the authentication (the door controller holds no user account). The door
    stays shut unless the answer is PASS."""
    answer = exit_check_http(request.body)
    return {
        "result": answer.result,
        "reasons": answer.reasons,
        "check": str(answer.check.id) if answer.check else None,
    }
