"""Talk reminders: each trigger opens one task for the 管教 with the deadline its trigger allows;
the talk record or the task's feedback closes it; misses are counted per trigger and officer."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.custody.conftest import actor, admission_steps, admit, fill, officers  # noqa: F401
from tests.prevention.conftest import T0, deliver

pytestmark = pytest.mark.django_db


def _reminders(person):
    from jianguan.prevention.api import TalkReminder

    return list(TalkReminder.objects.filter(detainee=person).order_by("triggered_at"))


def _task(reminder):
    from jianguan.duty.api import Task

    return Task.objects.get(id=reminder.task_id)


def _hours(task):
    return (task.handle_due - task.created_at) / dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("kind", "trigger", "hours"),
    [
        ("ARREST_EXECUTED", "STAGE_CHANGE", 48),
        ("FIRST_JUDGMENT", "JUDGMENT", 24),
    ],
)
def test_a_legal_event_opens_one_talk_task_with_its_deadline(held, staff, kind, trigger, hours):
    from django.utils import timezone

    from jianguan.core.actor import Actor
    from jianguan.custody.api import legal_event_record

    deliver()
    params = {"penalty": "FIXED_TERM", "term_years": 3} if kind == "FIRST_JUDGMENT" else {}
    legal_event_record(
        actor=Actor.system("test"),
        detainee=held,
        kind=kind,
        at=timezone.now() - dt.timedelta(hours=1),
        params=params,
        approval="PROCURATORATE" if kind == "ARREST_EXECUTED" else "",
    )
    deliver()
    deliver()  # a redelivery changes nothing
    (reminder,) = [r for r in _reminders(held) if r.trigger == trigger]
    task = _task(reminder)
    assert (task.category, task.post_kind, task.source) == ("TALK_REMINDER", "CUSTODIAN", "PREVENT")
    assert task.detainee_id == held.id
    assert _hours(task) == hours
    assert reminder.due_at == task.handle_due


def test_bad_news_and_meetings_each_open_their_talk(held, more_staff):
    from django.utils import timezone

    from jianguan.org.api import actor_for
    from jianguan.prevention.api import meeting_record
    from jianguan.risk.api import fact_record

    now = timezone.now()
    fact_record(
        actor=actor_for(more_staff["custodian"]),
        detainee=held,
        kind="manual.BAIL_REJECTED",
        at=now - dt.timedelta(minutes=30),
    )
    fact_record(  # not bad news: no talk
        actor=actor_for(more_staff["custodian"]),
        detainee=held,
        kind="manual.COUNSELLING",
        at=now - dt.timedelta(minutes=30),
    )
    meeting_record(
        user=more_staff["reception"],
        detainee_id=held.id,
        kind="LAWYER",
        visitor="刘律师（广东某律师事务所）",
        ended_at=now - dt.timedelta(minutes=10),
    )
    meeting_record(
        user=more_staff["reception"],
        detainee_id=held.id,
        kind="FAMILY",
        visitor="张母",
        ended_at=now - dt.timedelta(minutes=5),
    )
    deliver()
    found = {r.trigger: _hours(_task(r)) for r in _reminders(held)}
    assert found == {"BAD_NEWS": 12, "LAWYER_MEETING": 24, "FAMILY_MEETING": 24}


def test_only_reception_records_a_meeting(held, more_staff):
    from django.utils import timezone

    from jianguan.core.errors import PermissionDenied
    from jianguan.prevention.api import meeting_record

    with pytest.raises(PermissionDenied):
        meeting_record(
            user=more_staff["custodian"],
            detainee_id=held.id,
            kind="LAWYER",
            visitor="刘律师",
            ended_at=timezone.now(),
        )


def test_admission_opens_the_new_arrival_talk(admit):  # noqa: F811
    from jianguan.prevention.api import TalkReminder

    person = admit()
    deliver()
    (reminder,) = TalkReminder.objects.filter(detainee=person)
    assert reminder.trigger == "ADMISSION"
    assert _hours(_task(reminder)) == 24


def test_a_second_trigger_while_open_adds_to_the_task(held, staff):
    from jianguan.duty.api import Task
    from jianguan.prevention.api import talk_trigger

    first = talk_trigger(
        detainee=held, trigger="BAD_NEWS", source_ref="t1", label="家庭变故", at=T0
    )
    again = talk_trigger(
        detainee=held,
        trigger="BAD_NEWS",
        source_ref="t2",
        label="取保候审申请被驳回",
        at=T0 + dt.timedelta(hours=1),
    )
    assert (
        talk_trigger(detainee=held, trigger="BAD_NEWS", source_ref="t2", label="x", at=T0) is None
    )
    assert first is not None
    assert again is not None
    assert again.id == first.id
    assert Task.objects.filter(category="TALK_REMINDER").count() == 1
    again.refresh_from_db()
    assert again.triggers == 2
    assert "取保候审申请被驳回" in _task(again).detail
    assert again.due_at == T0 + dt.timedelta(hours=12)  # the first trigger's deadline stands


def test_the_talk_record_closes_the_task_and_counts_on_time(held, staff):
    from django.utils import timezone

    from jianguan.duty.api import info_record
    from jianguan.prevention.api import talk_report, talk_trigger

    now = timezone.now()
    reminder = talk_trigger(
        detainee=held,
        trigger="BAD_NEWS",
        source_ref="t1",
        label="家庭变故",
        at=now - dt.timedelta(hours=1),
    )
    info_record(
        user=staff["custodian"],
        category="CUSTODIAN_TALK_FINDING",
        text="谈话：情绪平稳，已疏导",
        detainee_id=held.id,
    )
    deliver()
    reminder.refresh_from_db()
    task = _task(reminder)
    assert (reminder.state, reminder.done_by, reminder.done_how) == ("DONE", "李管教", "RECORD")
    assert task.state == "CLOSED"
    report = talk_report(
        held.unit, since=now - dt.timedelta(days=1), until=now + dt.timedelta(days=1), now=now
    )
    (line,) = report.lines
    assert (line.trigger, line.officer, line.on_time, line.late, line.missed) == (
        "BAD_NEWS",
        "李管教",
        1,
        0,
        0,
    )


def test_handling_the_task_closes_the_reminder(held, staff):
    from django.utils import timezone

    from jianguan.duty.api import task_accept, task_handle
    from jianguan.prevention.api import TalkReminder, talk_trigger

    reminder = talk_trigger(
        detainee=held, trigger="JUDGMENT", source_ref="t1", label="一审宣判", at=timezone.now()
    )
    task = task_accept(user=staff["custodian"], task=_task(reminder))
    task_handle(user=staff["custodian"], task=task, feedback="已谈话，接受判决", outcome="RESOLVED")
    deliver()
    reminder = TalkReminder.objects.get(id=reminder.id)
    assert (reminder.state, reminder.done_how, reminder.done_by) == ("DONE", "TASK", "李管教")


def test_misses_late_and_pending_are_counted(held, make_detainee, cells, staff):
    from jianguan.prevention.api import TalkReminder, talk_report, talk_trigger

    other = make_detainee("gz_k", name="李四", cell=cells["101"], status="IN_CUSTODY")
    third = make_detainee("gz_k", name="王五", cell=cells["101"], status="IN_CUSTODY")
    missed = talk_trigger(detainee=held, trigger="BAD_NEWS", source_ref="a", label="x", at=T0)
    late = talk_trigger(detainee=other, trigger="BAD_NEWS", source_ref="b", label="x", at=T0)
    pending = talk_trigger(detainee=third, trigger="JUDGMENT", source_ref="c", label="x", at=T0)
    TalkReminder.objects.filter(id=late.id).update(
        state="DONE", done_at=T0 + dt.timedelta(hours=13), done_by="李管教"
    )
    now = T0 + dt.timedelta(hours=20)  # past BAD_NEWS's 12 hours, within JUDGMENT's 24
    report = talk_report(held.unit, since=T0 - dt.timedelta(days=1), until=now, now=now)
    t = report.total
    assert (t.on_time, t.late, t.missed, t.pending) == (0, 1, 1, 1)
    assert {r.id for r in report.open} == {missed.id, pending.id}
    assert [r.overdue for r in report.open] == [True, False]


def test_a_risk_grade_rise_task_is_the_talk_task(held, staff):
    from django.utils import timezone

    from jianguan.duty.api import Task
    from jianguan.prevention.api import TalkReminder
    from jianguan.risk.duty_tasks import risk_task_open

    now = timezone.now()
    rise = risk_task_open(
        unit=held.unit,
        category_code="RISK_GRADE_RISE",
        title=f"风险等级升高：{held.name}",
        detail="",
        source_ref="rise:test",
        detainee_id=held.id,
        now=now,
    )
    deliver()
    (reminder,) = TalkReminder.objects.filter(detainee=held)
    assert reminder.trigger == "RISK_RISE"
    assert reminder.task_id == rise.id
    assert reminder.due_at == rise.created_at + dt.timedelta(hours=12)
    assert not Task.objects.filter(category="TALK_REMINDER").exists()
