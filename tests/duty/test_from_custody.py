"""Deadline notices of the custody core become tasks; the task's feedback handles the notice."""

from __future__ import annotations

import pytest

from jianguan.duty.api import Task, TaskSource, task_accept, task_handle

pytestmark = pytest.mark.django_db


def _notice_event(held, notice_kind="BEFORE_EXPIRY"):
    from django.db import transaction
    from django.utils import timezone

    from jianguan.core.actor import Actor
    from jianguan.custody.models import DeadlineNotice
    from jianguan.outbox.api import change_record, deliver

    with transaction.atomic():
        notice = DeadlineNotice.objects.create(
            detainee=held,
            unit=held.unit,
            clock="CRIMINAL_DETENTION",
            kind=notice_kind,
            expires_at=timezone.now(),
            recipient="广州市公安局刑警支队",
            article="刑事诉讼法第九十一条",
            text="请办理手续",
            created_at=timezone.now(),
        )
        change_record(
            actor=Actor.system("test"),
            type="custody.deadline_notice"
            if notice_kind == "BEFORE_EXPIRY"
            else "custody.deadline_expired",
            aggregate_type="detainee",
            aggregate_id=held.id,
            unit_code=held.unit.code,
            payload={
                "notice": str(notice.id),
                "name": held.name,
                "number": held.number,
                "clock": "CRIMINAL_DETENTION",
                "label": "刑事拘留",
                "expires_at": notice.expires_at.isoformat(),
                "recipient": notice.recipient,
            },
        )
    deliver()
    return notice


def test_notice_becomes_a_task_for_admission_and_feedback_handles_it(staff, held, make_user):
    clerk = make_user("gz_shouya", "ADMISSION", full_name="陈收押")
    notice = _notice_event(held)
    task = Task.objects.get(source=TaskSource.NOTICE, source_ref=str(notice.id))
    assert task.post_kind == "ADMISSION"
    assert task.title == "刑事拘留即将届满：张三（" + held.number + "）"
    from jianguan.outbox.api import deliver

    deliver()  # delivered twice: still one task
    assert Task.objects.filter(source=TaskSource.NOTICE).count() == 1

    task = task_accept(user=clerk, task=task)
    task_handle(user=clerk, task=task, feedback="已电话并书面通知刑警支队", outcome="RESOLVED")
    deliver()
    notice.refresh_from_db()
    assert notice.handled_at is not None
    assert "已电话并书面通知刑警支队" in notice.handling_note


def test_overdue_alert_is_an_urgent_task_for_the_leader(staff, held):
    notice = _notice_event(held, "EXPIRED")
    task = Task.objects.get(source=TaskSource.NOTICE, source_ref=str(notice.id))
    assert (task.post_kind, task.urgency) == ("LEADER", "URGENT")


def test_notice_handled_on_the_notices_page_closes_its_task(staff, held, make_user):
    from jianguan.custody.api import notice_handle
    from jianguan.duty.api import TaskState, TaskStep
    from jianguan.org.api import actor_for
    from jianguan.outbox.api import deliver

    clerk = make_user("gz_shouya", "ADMISSION", full_name="陈收押")
    notice = _notice_event(held)
    notice_handle(actor=actor_for(clerk), notice=notice, note="已送达刑警支队")
    deliver()
    task = Task.objects.get(source=TaskSource.NOTICE, source_ref=str(notice.id))
    assert task.state == TaskState.CLOSED
    assert "已送达刑警支队" in task.feedback
    closing = TaskStep.objects.get(task=task, action="closed")
    assert closing.from_state == TaskState.DISPATCHED
    assert "期限通知页" in closing.note
