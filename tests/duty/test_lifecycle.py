"""The closed loop: a record becomes a task for the right post, which is accepted, handled and
fed back; wrong posts, missing feedback and a lost accept race are refused and leave nothing."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from jianguan.core.errors import DomainError, PermissionDenied
from jianguan.duty.api import (
    TaskConflict,
    TaskState,
    TaskStep,
    info_record,
    task_accept,
    task_cancel,
    task_dispatch,
    task_handle,
    task_return,
    task_set_urgency,
    task_verify,
)

pytestmark = pytest.mark.django_db


def _actions(task):
    return [s.action for s in TaskStep.objects.filter(task=task).order_by("at", "id")]


def test_record_routes_to_custodian_with_time_limits(staff, anomaly, held):
    task = anomaly()
    assert task.state == TaskState.DISPATCHED
    assert task.post_kind == "CUSTODIAN"
    assert task.urgency == "HIGH"
    assert task.detainee_id == held.id
    assert task.title == "异常行为（张三）"
    # The default pack: HIGH is accepted within 5 minutes and handled within an hour.
    assert task.accept_due - task.created_at == dt.timedelta(minutes=5)
    assert task.handle_due - task.created_at == dt.timedelta(minutes=60)
    assert task.escalate_at == task.accept_due
    assert _actions(task) == ["created", "dispatched"]


def test_every_transition_is_an_event_and_an_audit_entry(staff, anomaly):
    from jianguan.audit.models import AuditEntry
    from jianguan.outbox.models import Event

    task = anomaly()
    task = task_accept(user=staff["custodian"], task=task)
    task = task_handle(
        user=staff["custodian"], task=task, feedback="谈话安抚，情绪平稳", outcome="RESOLVED"
    )
    types = list(
        Event.objects.filter(aggregate_id=str(task.id))
        .order_by("recorded_at", "id")
        .values_list("type", flat=True)
    )
    assert types == [
        "duty.task_created",
        "duty.task_dispatched",
        "duty.task_accepted",
        "duty.task_handled",
        "duty.task_closed",
    ]
    audited = AuditEntry.objects.filter(object_id=str(task.id)).values_list("action", flat=True)
    assert sorted(audited) == sorted(types)


def test_information_only_category_makes_no_task(staff, held):
    from jianguan.duty.api import InfoRecord

    rec = info_record(
        user=staff["custodian"],
        category="CUSTODIAN_TALK_FINDING",
        text="家中有变故",
        detainee_id=held.id,
    )
    assert InfoRecord.objects.filter(id=rec.id).exists()
    assert not hasattr(rec, "task") or rec.task is None


def test_recording_a_category_of_another_post_is_refused(staff, held, side_effects):
    before = side_effects()
    with pytest.raises(PermissionDenied, match="由巡控"):
        info_record(
            user=staff["medical"], category="PATROL_CELL_VIOLATION", text="x", detainee_id=held.id
        )
    assert side_effects() == before


def test_bad_record_input_is_refused_with_the_field(staff, held, make_detainee):
    other = make_detainee("sz_k", name="深圳甲")
    cases = [
        ({"category": "NOPE", "text": "x"}, "category"),
        ({"category": "PATROL_CELL_VIOLATION", "text": "  "}, "text"),
        ({"category": "PATROL_CELL_VIOLATION", "text": "x", "detainee_id": other.id}, "detainee"),
        ({"category": "PATROL_CELL_VIOLATION", "text": "x", "cell_id": "not-a-cell"}, "cell"),
        ({"category": "PATROL_ABNORMAL_BEHAVIOUR", "text": "x", "urgency": "NORMAL"}, "urgency"),
    ]
    for kwargs, field in cases:
        with pytest.raises(DomainError) as err:
            info_record(user=staff["patrol"], **kwargs)
        assert err.value.field == field, kwargs


def test_recorder_may_raise_urgency_and_the_limits_follow(staff, anomaly):
    task = anomaly(urgency="URGENT")
    assert task.urgency == "URGENT"
    assert task.handle_due - task.created_at == dt.timedelta(minutes=15)


def test_wrong_post_can_not_accept(staff, anomaly):
    task = anomaly()
    with pytest.raises(PermissionDenied, match="管教岗处置"):
        task_accept(user=staff["medical"], task=task)
    task.refresh_from_db()
    assert task.state == TaskState.DISPATCHED
    assert task.assignee_id is None


def test_other_facility_can_not_see_the_task(staff, anomaly):
    from jianguan.core.errors import NotFound
    from jianguan.duty.api import access_task

    task = anomaly()
    with pytest.raises(NotFound):
        access_task(user=staff["sz_custodian"], id=task.id)


def test_second_accept_is_told_who_has_it(staff, anomaly):
    task = anomaly()
    task_accept(user=staff["custodian"], task=task)
    with pytest.raises(TaskConflict, match="李管教"):
        task_accept(user=staff["custodian2"], task=task)


@pytest.mark.django_db(transaction=True)
def test_two_officers_accepting_at_once_exactly_one_wins(staff, anomaly):
    task = anomaly()
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def accept(key: str) -> None:
        try:
            barrier.wait()
            task_accept(user=staff[key], task=task)
            results[key] = "won"
        except TaskConflict as exc:
            results[key] = exc.message
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(k,)) for k in ("custodian", "custodian2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()).count("won") == 1
    loser = next(k for k, v in results.items() if v != "won")
    assert "已由" in results[loser]
    task.refresh_from_db()
    assert task.state == TaskState.ACCEPTED
    winner = next(k for k, v in results.items() if v == "won")
    assert task.assignee_id == staff[winner].id
    assert _actions(task).count("accepted") == 1


def test_handling_needs_feedback_and_outcome(staff, anomaly, side_effects):
    task = task_accept(user=staff["custodian"], task=anomaly())
    before = side_effects()
    with pytest.raises(DomainError) as err:
        task_handle(user=staff["custodian"], task=task, feedback="  ", outcome="RESOLVED")
    assert err.value.field == "feedback"
    with pytest.raises(DomainError) as err:
        task_handle(user=staff["custodian"], task=task, feedback="已谈话", outcome="")
    assert err.value.field == "outcome"
    assert side_effects() == before
    task.refresh_from_db()
    assert task.state == TaskState.ACCEPTED


def test_only_the_assignee_feeds_back(staff, anomaly):
    task = task_accept(user=staff["custodian"], task=anomaly())
    with pytest.raises(PermissionDenied):
        task_handle(user=staff["custodian2"], task=task, feedback="x", outcome="RESOLVED")


def test_feedback_closes_a_task_that_needs_no_verification(staff, anomaly):
    task = task_accept(user=staff["custodian"], task=anomaly())
    task = task_handle(
        user=staff["custodian"], task=task, feedback="谈话安抚，情绪平稳", outcome="RESOLVED"
    )
    assert task.state == TaskState.CLOSED
    assert task.feedback == "谈话安抚，情绪平稳"
    assert task.closed_at is not None
    assert _actions(task) == ["created", "dispatched", "accepted", "handled", "closed"]


def test_verification_return_and_rework(staff, held):
    rec = info_record(
        user=staff["patrol"], category="PATROL_EMERGENCY", text="疑似自伤", detainee_id=held.id
    )
    task = task_accept(user=staff["custodian"], task=rec.task)
    task = task_handle(user=staff["custodian"], task=task, feedback="已制止", outcome="RESOLVED")
    assert task.state == TaskState.HANDLED  # an emergency is verified by command
    with pytest.raises(PermissionDenied):
        task_verify(user=staff["custodian"], task=task)
    with pytest.raises(DomainError) as err:
        task_return(user=staff["command"], task=task, reason=" ")
    assert err.value.field == "reason"
    task = task_return(user=staff["command"], task=task, reason="未写明伤情与医务处置")
    assert task.state == TaskState.RETURNED
    assert task.return_count == 1
    task = task_handle(
        user=staff["custodian"], task=task, feedback="已制止，医务检查无外伤", outcome="RESOLVED"
    )
    task = task_verify(user=staff["leader"], task=task, note="同意")
    assert task.state == TaskState.CLOSED
    assert _actions(task) == [
        "created",
        "dispatched",
        "accepted",
        "handled",
        "returned",
        "handled",
        "closed",
    ]


def test_command_reassigns_to_one_officer_and_sets_priority(staff, anomaly):
    task = anomaly()
    task = task_dispatch(
        user=staff["command"], task=task, post_kind="CUSTODIAN", assignee=staff["custodian2"]
    )
    with pytest.raises(PermissionDenied, match="指派给其他民警"):
        task_accept(user=staff["custodian"], task=task)
    task = task_set_urgency(user=staff["leader"], task=task, urgency="URGENT")
    assert task.handle_due - task.created_at == dt.timedelta(minutes=15)
    task = task_accept(user=staff["custodian2"], task=task)
    assert task.assignee_id == staff["custodian2"].id
    with pytest.raises(DomainError) as err:
        task_dispatch(
            user=staff["command"], task=task, post_kind="MEDICAL", assignee=staff["custodian"]
        )
    assert err.value.field == "assignee"


def test_officers_can_not_dispatch_or_cancel(staff, anomaly):
    task = anomaly()
    with pytest.raises(PermissionDenied):
        task_dispatch(user=staff["patrol"], task=task, post_kind="MEDICAL")
    with pytest.raises(PermissionDenied):
        task_cancel(user=staff["custodian"], task=task, reason="重复")
    task = task_cancel(user=staff["subcontrol"], task=task, reason="与另一任务重复")
    assert task.state == TaskState.CANCELLED
    with pytest.raises(TaskConflict):
        task_accept(user=staff["custodian"], task=task)


def test_a_record_and_its_task_commit_together_or_not_at_all(
    staff, held, side_effects, monkeypatch
):
    """A process failing between the record and its task leaves neither behind."""
    from jianguan.duty import records

    def broken(**kwargs):
        raise RuntimeError("process died while routing")

    monkeypatch.setattr(records, "task_open", broken)
    before = side_effects()
    with pytest.raises(RuntimeError):
        info_record(
            user=staff["patrol"],
            category="PATROL_ABNORMAL_BEHAVIOUR",
            text="情绪激动",
            detainee_id=held.id,
        )
    assert side_effects() == before
    from jianguan.duty.api import InfoRecord, Task

    assert not InfoRecord.objects.exists()
    assert not Task.objects.exists()
