"""Public face of the patrol app: welfare checks (巡视) and cell duty (监室值班)."""

from __future__ import annotations

from jianguan.patrol.common import facility_of, may_view, viewer_facility
from jianguan.patrol.duty_watch import CAUSES, duty_check, duty_check_cell, duty_check_person
from jianguan.patrol.intervals import Interval, intervals_for
from jianguan.patrol.models import (
    CheckVia,
    DutyPost,
    LapseState,
    PatrolCheck,
    PatrolLapse,
)
from jianguan.patrol.rota import (
    CellRota,
    DutyCheckin,
    Shift,
    ShiftRow,
    duty_checkin,
    held_in,
    may_edit_rota,
    night_of,
    night_shifts,
    rota_night,
    rota_set,
    shift_at,
)
from jianguan.patrol.welfare import (
    REASON_MIN,
    CellDue,
    check_by_hand,
    check_record,
    due_list,
    lapse_explain,
    lapses_explained,
    lapses_open,
    lapses_unexplained,
    may_explain,
)

__all__ = [
    "CAUSES",
    "REASON_MIN",
    "CellDue",
    "CellRota",
    "CheckVia",
    "DutyCheckin",
    "DutyPost",
    "Interval",
    "LapseState",
    "PatrolCheck",
    "PatrolLapse",
    "Shift",
    "ShiftRow",
    "check_by_hand",
    "check_record",
    "due_list",
    "duty_check",
    "duty_check_cell",
    "duty_check_person",
    "duty_checkin",
    "facility_of",
    "held_in",
    "intervals_for",
    "lapse_explain",
    "lapses_explained",
    "lapses_open",
    "lapses_unexplained",
    "may_edit_rota",
    "may_explain",
    "may_view",
    "night_of",
    "night_shifts",
    "rota_night",
    "rota_set",
    "shift_at",
    "viewer_facility",
]
