"""A morning of the duty loop at the demo facility, so its screens are alive at first login.

Today's shifts are rostered, and about three hours of dynamic information, tasks and movements
are played through the real services (`duty.api.info_record`, `task_accept`, `task_handle`, …,
`custody.api.movement_record`), so every row, step, audit entry and event is one production
would write. The services stamp the wall-clock time; each call is therefore followed by moving
what it wrote back to its scripted moment (the task's times and steps, the record, the call's
outbox events' `occurred_at` — never `recorded_at`, which consumers follow). Escalation takes
its moment as an argument and needs no moving.

The script ends with tasks in every state: dispatched (one fresh, one escalated and overdue),
accepted (one escalated and overdue), handled awaiting verification, returned for rework,
closed and cancelled. A running demo's minute escalation then moves the late ones on.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jianguan.custody.api import DetaineeStatus, movement_record
from jianguan.custody.models import Deadline, Detainee
from jianguan.duty.api import (
    escalate_due,
    info_record,
    shift_add,
    task_accept,
    task_cancel,
    task_create_manual,
    task_handle,
    task_return,
    task_verify,
)
from jianguan.duty.models import InfoRecord, Task, TaskStep
from jianguan.org.api import Unit, User, actor_for, post_kinds
from jianguan.outbox.models import Event

T = TypeVar("T")

SHIFT: Final = dt.timedelta(hours=12)
SHIFT_CHANGE_HOUR: Final = 8  # 白班 08:00–20:00, 夜班 20:00–08:00 (local time)
ROSTER_BY: Final = "zhihui"  # the 指挥中心 account rosters the facility
TASK_TIMES: Final = (
    "created_at",
    "dispatched_at",
    "accepted_at",
    "handled_at",
    "closed_at",
    "accept_due",
    "handle_due",
    "escalate_at",
)
HOSPITAL: Final = "广州市第一人民医院"
PEOPLE_NAMED: Final = 14  # people the records name; movements take others


@dataclass
class MorningResult:
    shifts: int = 0
    records: int = 0
    movements: int = 0
    tasks: dict[str, int] = field(default_factory=dict)


def shift_start(moment: dt.datetime) -> dt.datetime:
    """The start of the 12-hour shift (08:00 or 20:00 local) that contains this moment."""
    local = timezone.localtime(moment)
    start = local.replace(hour=SHIFT_CHANGE_HOUR, minute=0, second=0, microsecond=0)
    while start > local:
        start -= SHIFT
    while start + SHIFT <= local:
        start += SHIFT
    return start


def duty_morning(
    *, unit: Unit, users: dict[str, User], seed: int, now: dt.datetime
) -> MorningResult:
    """Roster today's shifts and play the morning at `unit`; `now` is the end of the morning
    (never later than the wall clock: movements may not be recorded in the future)."""
    anchor = min(now, timezone.now())
    morning = _Morning(unit, users, anchor)
    result = MorningResult()
    with transaction.atomic():
        result.shifts = _roster(unit, users, anchor)
        people = morning_people(unit, seed, anchor)
        result.movements = morning.play(people)
    result.records = InfoRecord.objects.filter(unit=unit).count()
    states = Task.objects.filter(unit=unit).values_list("state", flat=True)
    for state in states:
        result.tasks[state] = result.tasks.get(state, 0) + 1
    return result


def _roster(unit: Unit, users: dict[str, User], anchor: dt.datetime) -> int:
    """Each officer of the facility on their post for the previous and the current shift."""
    rostering = users[ROSTER_BY]
    current = shift_start(anchor)
    made = 0
    for user in users.values():
        if user.unit_id != unit.id:
            continue
        for start in (current - SHIFT, current):
            shift_add(
                user=rostering,
                officer=user,
                post_kind=post_kinds(user)[0],
                starts_at=start,
                ends_at=start + SHIFT,
            )
            made += 1
    return made


def morning_people(unit: Unit, seed: int, anchor: dt.datetime) -> list[Detainee]:
    """Held people of the facility in a seed-determined order: in their cell, admitted before
    yesterday, and with no custody clock run out (a 提解 on a void warrant is refused)."""
    expired = Deadline.objects.filter(
        unit=unit, governs_custody=True, state="RUNNING", expires_at__lte=anchor
    ).values("detainee_id")
    pool = list(
        Detainee.objects.filter(
            unit=unit,
            status=DetaineeStatus.IN_CUSTODY,
            cell__isnull=False,
            admitted_at__lt=anchor - dt.timedelta(days=1),
        )
        .exclude(id__in=expired)
        .select_related("cell")
        .order_by("number")
    )
    random.Random(f"{seed}:duty-morning").shuffle(pool)
    return pool


class _Morning:
    def __init__(self, unit: Unit, users: dict[str, User], anchor: dt.datetime) -> None:
        self.unit = unit
        self.users = users
        self.anchor = anchor

    def ago(self, minutes: int) -> dt.datetime:
        return self.anchor - dt.timedelta(minutes=minutes)

    def as_of(self, minutes: int, call: Callable[[], T], *, stamped: bool = True) -> T:
        """Run one service call, then move what it wrote to `minutes` before the anchor.

        `stamped=False` for a call that was given its moment (escalation, a movement's time):
        only its events' occurrence times move."""
        when = self.ago(minutes)
        started = timezone.now()
        before = {t["id"]: t for t in Task.objects.filter(unit=self.unit).values("id", *TASK_TIMES)}
        result = call()
        delta = when - started
        if stamped:
            for row in Task.objects.filter(unit=self.unit).values("id", *TASK_TIMES):
                old = before.get(row["id"], {})
                moved = {
                    name: row[name] + delta
                    for name in TASK_TIMES
                    if row[name] is not None and row[name] != old.get(name)
                }
                if moved:
                    Task.objects.filter(id=row["id"]).update(**moved)
            TaskStep.objects.filter(task__unit=self.unit, at__gte=started).update(
                at=F("at") + delta
            )
            InfoRecord.objects.filter(unit=self.unit, recorded_at__gte=started).update(
                recorded_at=F("recorded_at") + delta
            )
        Event.objects.filter(unit_code=self.unit.code, recorded_at__gte=started).update(
            occurred_at=F("occurred_at") + delta
        )
        return result

    # --- the officers' acts, each at its moment ----------------------------------------

    def record(
        self,
        minutes: int,
        who: str,
        category: str,
        text: str,
        person: Detainee | None = None,
        **extra: Any,
    ) -> Task | None:
        made = self.as_of(
            minutes,
            lambda: info_record(
                user=self.users[who],
                category=category,
                text=text,
                detainee_id=person.id if person else None,
                **extra,
            ),
        )
        return Task.objects.filter(record=made).first()

    def task(
        self,
        minutes: int,
        who: str,
        category: str,
        text: str,
        person: Detainee | None = None,
    ) -> Task:
        """A record whose category the duty pack routes into a task."""
        task = self.record(minutes, who, category, text, person)
        if task is None:
            raise LookupError(f"动态信息类别 {category} 不再生成任务：演示脚本需要更新")
        return task

    def accept(self, minutes: int, who: str, task: Task) -> None:
        self.as_of(minutes, lambda: task_accept(user=self.users[who], task=_fresh(task)))
        # Accepting waits for the handling limit if it is still ahead at that moment.
        accepted = _fresh(task)
        if accepted.handle_due > self.ago(minutes):
            Task.objects.filter(id=task.id).update(escalate_at=accepted.handle_due)

    def handle(self, minutes: int, who: str, task: Task, feedback: str, outcome: str) -> None:
        self.as_of(
            minutes,
            lambda: task_handle(
                user=self.users[who], task=_fresh(task), feedback=feedback, outcome=outcome
            ),
        )

    def verify(self, minutes: int, who: str, task: Task, note: str) -> None:
        self.as_of(minutes, lambda: task_verify(user=self.users[who], task=_fresh(task), note=note))

    def send_back(self, minutes: int, who: str, task: Task, reason: str) -> None:
        self.as_of(
            minutes, lambda: task_return(user=self.users[who], task=_fresh(task), reason=reason)
        )

    def cancel(self, minutes: int, who: str, task: Task, reason: str) -> None:
        self.as_of(
            minutes, lambda: task_cancel(user=self.users[who], task=_fresh(task), reason=reason)
        )

    def escalate(self, minutes: int) -> None:
        when = self.ago(minutes)
        self.as_of(minutes, lambda: escalate_due(when), stamped=False)

    def move(self, minutes: int, person: Detainee, kind: str, **detail: str) -> None:
        actor = actor_for(self.users["shouya"])
        when = self.ago(minutes)
        self.as_of(
            minutes,
            lambda: movement_record(actor=actor, detainee=person, kind=kind, at=when, **detail),
            stamped=False,
        )

    # --- the script ---------------------------------------------------------------------

    def play(self, people: list[Detainee]) -> int:
        """The morning, oldest first; returns how many movements it recorded."""

        def who(i: int) -> Detainee | None:
            return people[i % len(people)] if people else None

        def cell_of(i: int) -> str:
            person = who(i)
            return f"{person.cell.number}监室" if person and person.cell else "监室"

        # Movements take three people the records do not name; a tiny facility has none.
        movers = people[-3:] if len(people) >= PEOPLE_NAMED + 3 else []

        t = self.task(
            175,
            "xunkong",
            "PATROL_ABNORMAL_BEHAVIOUR",
            f"夜间巡视发现{_name(who(0))}反复起身，不时自言自语，情绪低落",
            who(0),
        )
        if movers:
            self.move(
                173,
                movers[0],
                "OUT_INTERROGATION",
                destination=movers[0].case_unit or "办案单位",
                escort="王海涛、刘洋",
                document_number="提解证〔2026〕0815号",
                reason="指认现场",
            )
        self.accept(172, "guanjiao", t)
        self.handle(
            150,
            "guanjiao",
            t,
            "已个别谈话，系担心家中老人无人照料，已联系家属并安抚，情绪平稳",
            "RESOLVED",
        )

        t = self.task(160, "yiwu", "MEDICAL_REFUSES_MEDICINE", "晨间发药时拒绝服用降压药", who(1))
        self.accept(155, "guanjiao", t)
        self.handle(130, "guanjiao", t, "经说服已当面服药，继续观察服药情况", "WATCH")

        t = self.task(
            140, "xunkong", "PATROL_EMERGENCY", f"{cell_of(2)}两名在押人员因琐事发生推搡", who(2)
        )
        self.accept(139, "guanjiao", t)
        self.handle(128, "guanjiao", t, "已分开双方，均无外伤；已批评教育并调整铺位", "RESOLVED")
        self.verify(120, "fenkong", t, "已调取监控核实，处置得当")

        self.record(
            125, "guanjiao", "CUSTODIAN_TALK_FINDING", "个别谈话：对案件进展焦虑，已疏导", who(3)
        )
        clue = self.task(
            110, "guanjiao", "CUSTODIAN_CLUE", "谈话中反映同案以外另有涉案人员线索", who(4)
        )
        if movers:
            self.move(
                100,
                movers[1],
                "OUT_MEDICAL",
                destination=HOSPITAL,
                escort="张丽娟、李建华",
                reason="胸痛待查，外院检查",
            )
        violation = self.task(
            95, "xunkong", "PATROL_CELL_VIOLATION", f"{cell_of(5)}内发现私藏的塑料片", who(5)
        )
        self.accept(90, "guanjiao", violation)
        pressure = self.task(
            80, "yiwu", "MEDICAL_CONDITION_CHANGE", "测量血压 175/110 mmHg，诉头痛", who(6)
        )
        self.accept(77, "guanjiao", pressure)  # and then not reported back within the hour
        self.accept(70, "suozhang", clue)
        if movers:
            self.move(60, movers[0], "RETURN", reason="指认现场结束")

        # Nobody takes the parcel within its half hour.
        self.task(
            45, "jiedai", "RECEPTION_ITEM_ABNORMAL", "家属送来的衣物夹层内发现现金 200 元", who(7)
        )
        if movers:
            self.move(
                40,
                movers[2],
                "OUT_INTERROGATION",
                destination=movers[2].case_unit or "办案单位",
                escort="王海涛、陈志强",
                document_number="提解证〔2026〕0816号",
                reason="辨认",
            )
        t = self.task(35, "tixun", "INTERROGATION_ABNORMAL", "提讯过程中情绪激动，拍打桌面", who(8))
        self.accept(33, "guanjiao", t)
        self.handle(20, "guanjiao", t, "已带回监室单独谈话，情绪已稳定", "RESOLVED")

        search = self.as_of(
            30,
            lambda: task_create_manual(
                user=self.users["zhihui"],
                title="组织对一监区开展清监检查",
                detail="重点检查违禁物品、绳索类物品",
                post_kind="PATROL",
                urgency="HIGH",
            ),
        )
        self.accept(27, "xunkong", search)
        rope = self.task(
            25, "xunkong", "PATROL_EMERGENCY", f"{cell_of(9)}内发现用布条搓成的绳索", who(9)
        )
        self.accept(24, "guanjiao", rope)
        duplicate = self.task(
            20,
            "xunkong",
            "PATROL_CELL_VIOLATION",
            f"{cell_of(5)}内发现私藏的塑料片（补报）",
            who(5),
        )
        self.cancel(18, "zhihui", duplicate, "与 95 分钟前的记录重复，已并入处理")
        quarrel = self.task(
            16, "xunkong", "PATROL_EMERGENCY", f"{cell_of(10)}两名在押人员争抢物品发生口角", who(10)
        )
        self.accept(15, "guanjiao", quarrel)
        # The parcel was not taken within its half hour, the blood pressure not reported back
        # within its hour: both go up to 分控.
        self.escalate(14)
        self.handle(12, "guanjiao", rope, "已收缴绳索，对全监室进行清查", "RESOLVED")
        self.send_back(8, "fenkong", rope, "请查明绳索来源，对相关人员谈话后再反馈")
        self.handle(5, "guanjiao", quarrel, "已分开谈话，物品归还原主，双方认错", "RESOLVED")

        # Just in: waiting to be taken.
        self.task(
            4, "xunkong", "PATROL_CELL_VIOLATION", f"{cell_of(11)}有人员未按规定时间就寝", who(11)
        )
        self.task(
            3, "xunkong", "PATROL_ABNORMAL_BEHAVIOUR", "放风时独自站在角落，拒绝与他人交流", who(12)
        )
        self.task(2, "guanjiao", "CUSTODIAN_MOOD", "得知一审判决后情绪低落，早餐未进食", who(13))
        return 4 if movers else 0


def _fresh(task: Task) -> Task:
    return Task.objects.select_related("unit", "assignee").get(id=task.id)


def _name(person: Detainee | None) -> str:
    return f"在押人员{person.name}" if person else "在押人员"
