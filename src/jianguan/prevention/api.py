"""Public face of the prevention app: talk reminders and their report, meetings, exit passes
and exit checks, fences and outings for medical care."""

from __future__ import annotations

from jianguan.prevention.checklist import CHECKLIST, ITEM_LABELS, KIND_LABELS, Item
from jianguan.prevention.exits import (
    Answer,
    access_pass,
    exit_check_http,
    exit_decide,
    pass_approve,
    pass_cancel,
    pass_items,
    pass_missing,
    pass_prepare,
)
from jianguan.prevention.meetings import meeting_record
from jianguan.prevention.models import (
    ExitCheck,
    ExitPass,
    ExitResult,
    Geofence,
    Meeting,
    MeetingKind,
    Outing,
    PassState,
    TalkReminder,
    TalkState,
    TalkTrigger,
)
from jianguan.prevention.outings import (
    ankle_of,
    ankle_reading,
    distance_m,
    geofence_create,
    outing_end,
    outing_start,
    outing_start_by,
)
from jianguan.prevention.report import TalkReport, status_of, talk_report, talks_of
from jianguan.prevention.talks import talk_recorded, talk_trigger, trigger_of_legal_event

__all__ = [
    "CHECKLIST",
    "ITEM_LABELS",
    "KIND_LABELS",
    "Answer",
    "ExitCheck",
    "ExitPass",
    "ExitResult",
    "Geofence",
    "Item",
    "Meeting",
    "MeetingKind",
    "Outing",
    "PassState",
    "TalkReminder",
    "TalkReport",
    "TalkState",
    "TalkTrigger",
    "access_pass",
    "ankle_of",
    "ankle_reading",
    "distance_m",
    "exit_check_http",
    "exit_decide",
    "geofence_create",
    "meeting_record",
    "outing_end",
    "outing_start",
    "outing_start_by",
    "pass_approve",
    "pass_cancel",
    "pass_items",
    "pass_missing",
    "pass_prepare",
    "status_of",
    "talk_recorded",
    "talk_report",
    "talk_trigger",
    "talks_of",
    "trigger_of_legal_event",
]
