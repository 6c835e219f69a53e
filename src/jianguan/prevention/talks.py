"""Talk reminders (谈话教育提醒): after a moment that unsettles a person — admission, a lawyer's or
family meeting, a change of litigation stage, a judgment, bad news, a rise in risk grade — the
管教 must talk with them within the hours the devices pack gives the trigger (basis practice:
看守所条例实施办法（试行）关于个别谈话教育的做法). A task carries each talk; the 管教's record of the
talk (谈话发现) or their feedback on the task closes it; a talk not held in time is a miss.

One open reminder per person and trigger kind: a second trigger while one is open is added to its
detail, not a new task. A rise in risk grade already sends the 管教 a RISK_GRADE_RISE task at once
(risk app); that task is treated as the talk task of the RISK_RISE reminder — no second task.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from jianguan.core.actor import Actor
from jianguan.custody.api import Detainee
from jianguan.devices.api import devices_pack
from jianguan.duty.api import (
    OPEN_STATES,
    Task,
    TaskSource,
    category_in_force,
    task_open,
    task_settle,
)
from jianguan.prevention.models import TalkCause, TalkReminder, TalkState, TalkTrigger
from jianguan.rules.api import builtin_pack

ACTOR = Actor.system("prevention")
TALK_CATEGORY = "TALK_REMINDER"
RISE_CATEGORY = "RISK_GRADE_RISE"
TALK_FINDING = "CUSTODIAN_TALK_FINDING"

# Legal events that move a case to another stage (a new organ, a new prospect) and judgments
# (刑事诉讼法 第一百六十二条 移送审查起诉, 第一百七十六条 提起公诉, 第二百零二条 宣判…).
STAGE_CHANGES = frozenset(
    {
        "ARREST_EXECUTED",
        "TRANSFERRED_FOR_PROSECUTION",
        "RETURNED_FOR_SUPPLEMENT",
        "RETRANSFERRED",
        "PROSECUTED",
        "APPEAL_ACCEPTED",
        "REMANDED",
    }
)
JUDGMENTS = frozenset({"FIRST_JUDGMENT", "JUDGMENT_EFFECTIVE"})
# Facts an officer records by hand that are bad news to the person (risk/facts.py).
BAD_NEWS = frozenset({"manual.FAMILY_EVENT", "manual.BAIL_REJECTED", "manual.BAD_NEWS"})


def trigger_of_legal_event(kind: str) -> str | None:
    if kind in JUDGMENTS:
        return TalkTrigger.JUDGMENT
    if kind in STAGE_CHANGES:
        return TalkTrigger.STAGE_CHANGE
    return None


def _within(unit: Any, trigger: str) -> tuple[str, dt.timedelta]:
    found = devices_pack(unit).talk.get(trigger)
    if found is None:  # a facility pack without this trigger: the built-in default, never silence
        found = builtin_pack("devices").pack.talk[trigger]
    return found.name, dt.timedelta(hours=found.within_hours)


def _open_task(
    detainee: Any, reminder: TalkReminder, within: dt.timedelta, at: dt.datetime
) -> Task | None:
    found = category_in_force(detainee.unit, TALK_CATEGORY)
    if found is None or not found[2].task:
        return None
    version, pack, category = found
    return task_open(
        actor=ACTOR,
        unit=detainee.unit,
        pack_version=version,
        pack=pack,
        category=category,
        urgency=category.urgency,
        title=f"【{reminder.name}】{detainee.name}（{detainee.number}）",
        detail=f"{reminder.detail}\n请于 {timezone.localtime(reminder.due_at):%m-%d %H:%M} "
        "前完成谈话，并登记“谈话发现”或反馈本任务。",
        source=TaskSource.PREVENT,
        source_ref=f"talk:{reminder.id.hex}",
        detainee_id=detainee.id,
        cell_id=detainee.cell_id,
        now=at,
        handle_minutes=int(within.total_seconds() // 60),
    )


def talk_trigger(
    *,
    detainee: Any,
    trigger: str,
    source_ref: str,
    label: str,
    at: dt.datetime,
    task: Task | None = None,
) -> TalkReminder | None:
    """A moment that calls for a talk: open a reminder and its task, or add to the open one of
    the same kind. `task` is an existing task that carries the talk (the risk app's). None when
    this source was already seen."""
    if trigger not in TalkTrigger.values:
        raise ValueError(f"unknown talk trigger {trigger}")
    with transaction.atomic():
        if TalkCause.objects.filter(source_ref=source_ref).exists():
            return None
        person = Detainee.objects.select_for_update().select_related("unit").get(id=detainee.id)
        reminder = TalkReminder.objects.filter(
            detainee=person, trigger=trigger, state=TalkState.OPEN
        ).first()
        line = f"{timezone.localtime(at):%m-%d %H:%M} {label}"
        if reminder is not None:
            reminder.triggers += 1
            reminder.detail = f"{reminder.detail}\n{line}"[:4000]
            reminder.save(update_fields=["triggers", "detail"])
            _task_note(reminder, line)
        else:
            name, within = _within(person.unit, trigger)
            reminder = TalkReminder.objects.create(
                unit=person.unit,
                detainee=person,
                trigger=trigger,
                name=name,
                triggered_at=at,
                due_at=at + within,
                detail=line,
                task_id=task.id if task is not None else None,
            )
            if task is None:
                opened = _open_task(person, reminder, within, at)
                reminder.task_id = opened.id if opened else None
                reminder.save(update_fields=["task_id"])
        try:
            with transaction.atomic():
                TalkCause.objects.create(
                    reminder=reminder, source_ref=source_ref[:80], at=at, label=label[:200]
                )
        except IntegrityError:  # the same event delivered twice at once: the other one wins
            transaction.set_rollback(True)
            return None
        return reminder


def _task_note(reminder: TalkReminder, line: str) -> None:
    """The open task's detail says every trigger it covers."""
    if reminder.task_id is None:
        return
    task = Task.objects.filter(id=reminder.task_id, state__in=OPEN_STATES).first()
    if task is not None:
        task.detail = f"{task.detail}\n又：{line}"[:8000]
        task.save(update_fields=["detail"])


def talk_recorded(*, detainee_id: Any, at: dt.datetime, by: str, record_ref: str) -> int:
    """The 管教 recorded a talk with the person (谈话发现): every reminder of theirs opened before
    it is done, and its task closed. Returns how many."""
    done = 0
    with transaction.atomic():
        for reminder in TalkReminder.objects.select_for_update().filter(
            detainee_id=detainee_id, state=TalkState.OPEN, triggered_at__lte=at
        ):
            _done(reminder, at=at, by=by, how="RECORD")
            done += 1
            task = Task.objects.filter(id=reminder.task_id).first() if reminder.task_id else None
            if task is not None and task.state in OPEN_STATES:
                task_settle(task=task, actor=ACTOR, note=f"已登记谈话发现（{by}，{record_ref}）")
    return done


def talk_task_done(task: Task) -> TalkReminder | None:
    """A talk task was handled or closed by its officer, or cancelled by command."""
    reminder = TalkReminder.objects.filter(task_id=task.id, state=TalkState.OPEN).first()
    if reminder is None:
        return None
    if task.state == "CANCELLED":
        reminder.state = TalkState.CANCELLED
        reminder.done_at = task.closed_at
        reminder.save(update_fields=["state", "done_at"])
        return reminder
    who = task.assignee
    name = (who.full_name or who.username) if who is not None else ""
    _done(reminder, at=task.handled_at or task.closed_at or timezone.now(), by=name, how="TASK")
    return reminder


def _done(reminder: TalkReminder, *, at: dt.datetime, by: str, how: str) -> None:
    reminder.state = TalkState.DONE
    reminder.done_at = at
    reminder.done_by = by[:150]
    reminder.done_how = how
    reminder.save(update_fields=["state", "done_at", "done_by", "done_how"])


def rise_task_seen(task: Task, at: dt.datetime) -> TalkReminder | None:
    """The risk app opened a RISK_GRADE_RISE task for the 管教: it is the RISK_RISE talk task."""
    if task.detainee_id is None:
        return None
    person = Detainee.objects.select_related("unit").filter(id=task.detainee_id).first()
    if person is None:
        return None
    return talk_trigger(
        detainee=person,
        trigger=TalkTrigger.RISK_RISE,
        source_ref=f"rise:{task.id.hex}",
        label=task.title,
        at=at,
        task=task,
    )
