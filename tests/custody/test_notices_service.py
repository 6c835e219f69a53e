"""The deadline watch and 提讯: a notice to the case unit before a clock ends and an alert to the
leader after it ran out, each exactly once; a 提讯 on a void warrant is refused and recorded."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from jianguan.core.errors import DomainError
from jianguan.custody.api import (
    Deadline,
    DeadlineNotice,
    Interrogation,
    MovementKind,
    NoticeKind,
    deadline_watch,
    interrogation_end,
    interrogation_request,
    legal_event_record,
    movement_record,
    notice_handle,
    notices_open,
)
from jianguan.org.api import actor_for
from tests.custody.factories import ago, person_step

pytestmark = pytest.mark.django_db

MINUTE = dt.timedelta(minutes=1)


def _events(type_: str) -> list[Any]:
    from jianguan.outbox.models import Event

    return list(Event.objects.filter(type=type_))


def _detention(person: Any) -> Deadline:
    return Deadline.objects.get(detainee=person, clock="CRIMINAL_DETENTION")


def test_notice_before_expiry_is_created_once(admit):
    """At the clock's notice time the watch writes one 羁押期限即将届满通知 to the case unit;
    running it again (or a minute later) writes nothing more."""
    person = admit()
    clock = _detention(person)
    assert clock.notice_at is not None
    assert clock.expires_at is not None
    assert clock.expires_at - clock.notice_at == dt.timedelta(days=1)
    assert deadline_watch(now=clock.notice_at - MINUTE) == {"notices": 0, "alerts": 0}
    assert deadline_watch(now=clock.notice_at + MINUTE) == {"notices": 1, "alerts": 0}
    assert deadline_watch(now=clock.notice_at + MINUTE) == {"notices": 0, "alerts": 0}
    assert deadline_watch(now=clock.notice_at + 2 * MINUTE) == {"notices": 0, "alerts": 0}
    (notice,) = DeadlineNotice.objects.all()
    assert (
        notice.detainee_id,
        notice.clock,
        notice.kind,
        notice.expires_at,
        notice.recipient,
        notice.created_at,
    ) == (
        person.id,
        "CRIMINAL_DETENTION",
        NoticeKind.BEFORE_EXPIRY,
        clock.expires_at,
        "广州市公安局天河区分局",
        clock.notice_at + MINUTE,
    )
    assert person.name in notice.text
    assert "刑事拘留期限" in notice.text
    assert len(_events("custody.deadline_notice")) == 1


def test_alert_after_expiry_is_created_once(admit):
    """Past the expiry with no lawful change, the watch writes one 超期 alert to the leaders,
    citing 看守所条例第四十三条; the before-expiry notice is not written late."""
    person = admit()
    clock = _detention(person)
    assert clock.expires_at is not None
    later = clock.expires_at + MINUTE
    assert deadline_watch(now=later) == {"notices": 0, "alerts": 1}
    assert deadline_watch(now=later + MINUTE) == {"notices": 0, "alerts": 0}
    (alert,) = DeadlineNotice.objects.all()
    assert (alert.kind, alert.recipient) == (NoticeKind.EXPIRED, "所领导")
    assert "看守所条例第四十三条" in alert.article
    assert "已超期羁押" in alert.text
    assert len(_events("custody.deadline_expired")) == 1


def test_a_lawful_extension_makes_a_new_notice_due(actor, admit):
    """After 延长 the clock has a new expiry, so its notice falls due again for that expiry."""
    person = admit()
    first = _detention(person)
    assert first.notice_at is not None
    deadline_watch(now=first.notice_at + MINUTE)
    legal_event_record(
        actor=actor,
        detainee=person,
        kind="DETENTION_EXTENDED",
        at=timezone.now() - MINUTE,
        approval="COUNTY_POLICE",
        params={"days": 4},
    )
    extended = _detention(person)
    assert extended.notice_at is not None
    assert extended.expires_at != first.expires_at
    assert deadline_watch(now=extended.notice_at + MINUTE) == {"notices": 1, "alerts": 0}
    assert sorted(DeadlineNotice.objects.values_list("expires_at", flat=True)) == [
        first.expires_at,
        extended.expires_at,
    ]


def test_released_person_gets_no_alert(actor, admit):
    person = admit()
    clock = _detention(person)
    assert clock.expires_at is not None
    movement_record(actor=actor, detainee=person, kind=MovementKind.RELEASE, document_number="释1")
    assert deadline_watch(now=clock.expires_at + MINUTE) == {"notices": 0, "alerts": 0}


def test_notice_handle_records_how_it_was_served(admit, officers, tree):
    """Handling needs a note; it is kept with who handled it, and the notice leaves the open
    list; a second handling is refused."""
    person = admit()
    clock = _detention(person)
    assert clock.notice_at is not None
    deadline_watch(now=clock.notice_at + MINUTE)
    notice = DeadlineNotice.objects.get()
    handler = actor_for(officers["admission"])
    with pytest.raises(DomainError) as caught:
        notice_handle(actor=handler, notice=notice, note=" ")
    assert (caught.value.code, caught.value.field) == ("REQUIRED", "note")
    assert list(notices_open([tree["gz_k"].id])) == [notice]
    handled = notice_handle(actor=handler, notice=notice, note="已电话并送达书面通知，签收人王某")
    assert (handled.handled_by, handled.handling_note) == (
        "gz_shouya",
        "已电话并送达书面通知，签收人王某",
    )
    assert handled.handled_at is not None
    assert list(notices_open([tree["gz_k"].id])) == []
    with pytest.raises(DomainError) as caught:
        notice_handle(actor=handler, notice=notice, note="再次")
    assert caught.value.code == "ALREADY_HANDLED"


# --- 提讯 -----------------------------------------------------------------------------------


def _request(officer: Any, person: Any, **kw: Any) -> Interrogation:
    fields = {
        "warrant_number": "穗天公提字〔2025〕5号",
        "case_unit": "广州市公安局天河区分局",
        "officers": "刘侦查、黄侦查",
    } | kw
    return interrogation_request(actor=actor_for(officer), detainee=person, **fields)


def test_interrogation_on_an_expired_clock_is_refused_and_recorded(admit, officers):
    """The 拘留 ran out a day ago: the 提讯证 is void (公安机关适用刑事羁押期限规定第二十八条).
    The attempt raises WARRANT_VOID and is itself kept — admitted False, with the reason —
    and published for the leader and the resident prosecutor."""
    person = admit(person=person_step(executed_at=ago(days=4)))
    with pytest.raises(DomainError) as caught:
        _request(officers["interrogation"], person)
    assert (caught.value.code, caught.value.field) == ("WARRANT_VOID", "warrant_number")
    assert "公安机关适用刑事羁押期限规定第二十八条" in caught.value.message
    (record,) = Interrogation.objects.all()
    assert (record.detainee_id, record.admitted, record.ended_at, record.recorded_by) == (
        person.id,
        False,
        None,
        "gz_tixun",
    )
    assert record.refusal_reason == caught.value.message
    (event,) = _events("custody.interrogation_refused")
    assert event.payload["warrant_number"] == "穗天公提字〔2025〕5号"


def test_interrogation_within_the_term_runs_and_ends(admit, officers):
    person = admit()
    record = _request(officers["interrogation"], person)
    assert (record.admitted, record.refusal_reason) == (True, "")
    ended = interrogation_end(actor=actor_for(officers["interrogation"]), interrogation=record)
    assert ended.ended_at is not None
    with pytest.raises(DomainError) as caught:
        interrogation_end(actor=actor_for(officers["interrogation"]), interrogation=record)
    assert caught.value.code == "NOT_RUNNING"


@pytest.mark.parametrize("field", ["warrant_number", "case_unit", "officers"])
def test_interrogation_needs_warrant_unit_and_officers(admit, officers, field):
    person = admit()
    with pytest.raises(DomainError) as caught:
        _request(officers["interrogation"], person, **{field: ""})
    assert (caught.value.code, caught.value.field) == ("REQUIRED", field)
    assert Interrogation.objects.count() == 0


def test_interrogation_of_a_person_out_is_refused(actor, admit, officers):
    person = admit()
    movement_record(
        actor=actor,
        detainee=person,
        kind=MovementKind.OUT_MEDICAL,
        destination="医院",
        escort="陈收押",
    )
    person.refresh_from_db()
    with pytest.raises(DomainError) as caught:
        _request(officers["interrogation"], person)
    assert caught.value.code == "NOT_IN_FACILITY"
    assert Interrogation.objects.count() == 0
