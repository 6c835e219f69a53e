"""Legal events: each recorded decision recomputes the clocks and the litigation stage; one that
contradicts the record is refused with its article, leaves no event and is audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from jianguan.audit.api import audit_entries
from jianguan.core.errors import DomainError
from jianguan.custody.api import Deadline, LegalEvent, legal_event_record
from tests.custody.factories import ago, person_step

pytestmark = pytest.mark.django_db


def _record(actor: Any, person: Any, kind: str, at: dt.datetime, **kw: Any) -> LegalEvent:
    return legal_event_record(actor=actor, detainee=person, kind=kind, at=at, **kw)


def _clocks(person: Any) -> dict[str, tuple[str, dt.datetime | None]]:
    return {d.clock: (d.state, d.expires_at) for d in Deadline.objects.filter(detainee=person)}


def _executed(person: Any) -> dt.datetime:
    return LegalEvent.objects.get(detainee=person, kind="DETENTION_EXECUTED").at


def _refused(actor: Any, person: Any, kind: str, at: dt.datetime, **kw: Any) -> DomainError:
    """Record an event that must be refused; check that it left no event and no clock change."""
    events_before = LegalEvent.objects.filter(detainee=person).count()
    clocks_before = _clocks(person)
    with pytest.raises(DomainError) as caught:
        _record(actor, person, kind, at, **kw)
    assert LegalEvent.objects.filter(detainee=person).count() == events_before
    assert _clocks(person) == clocks_before
    return caught.value


def _last_audit() -> Any:
    return audit_entries().first()


def test_recording_events_moves_the_clocks_and_the_stage(actor, admit):
    """拘留 (3 days to the hour) → 延长至七日 → 提请批准逮捕 (the 7-day review starts) → 逮捕
    (侦查羁押, stage 12) → 移送审查起诉 (stage 20): each step ends the clock it closes and
    starts the next, under the pack version in force."""
    person = admit()
    executed = _executed(person)
    assert person.litigation_stage == "11"
    assert _clocks(person) == {"CRIMINAL_DETENTION": ("RUNNING", executed + dt.timedelta(days=3))}

    now = timezone.now()
    event = _record(
        actor,
        person,
        "DETENTION_EXTENDED",
        now - dt.timedelta(minutes=60),
        approval="COUNTY_POLICE",
        params={"days": 4},
        document_number="穗天公延拘字〔2025〕1号",
    )
    assert (event.pack_version, event.recorded_by) == ("2026.1", "gz_shouya")
    assert _clocks(person) == {"CRIMINAL_DETENTION": ("RUNNING", executed + dt.timedelta(days=7))}

    _record(actor, person, "ARREST_REQUESTED", now - dt.timedelta(minutes=50))
    clocks = _clocks(person)
    assert clocks["CRIMINAL_DETENTION"][0] == "ENDED"
    assert clocks["ARREST_REVIEW"][0] == "RUNNING"

    _record(actor, person, "ARREST_EXECUTED", now - dt.timedelta(minutes=40))
    person.refresh_from_db()
    clocks = _clocks(person)
    assert person.litigation_stage == "12"
    assert (clocks["ARREST_REVIEW"][0], clocks["INVESTIGATION"][0]) == ("ENDED", "RUNNING")
    investigation = Deadline.objects.get(detainee=person, clock="INVESTIGATION")
    assert investigation.expires_at is not None
    assert 59 <= (investigation.expires_at - investigation.started_at).days <= 62

    _record(actor, person, "TRANSFERRED_FOR_PROSECUTION", now - dt.timedelta(minutes=30))
    person.refresh_from_db()
    clocks = _clocks(person)
    assert person.litigation_stage == "20"
    assert (clocks["INVESTIGATION"][0], clocks["PROSECUTION_REVIEW"][0]) == ("ENDED", "RUNNING")
    assert list(
        LegalEvent.objects.filter(detainee=person).order_by("at").values_list("kind", flat=True)
    ) == [
        "DETENTION_EXECUTED",
        "DETENTION_EXTENDED",
        "ARREST_REQUESTED",
        "ARREST_EXECUTED",
        "TRANSFERRED_FOR_PROSECUTION",
    ]


def test_recorded_event_is_published_with_the_new_clocks(actor, admit):
    from jianguan.outbox.models import Event

    person = admit()
    _record(
        actor,
        person,
        "DETENTION_EXTENDED",
        timezone.now() - dt.timedelta(minutes=5),
        approval="COUNTY_POLICE",
        params={"days": 4},
    )
    event = Event.objects.filter(type="custody.legal_event_recorded").latest("recorded_at")
    expires = Deadline.objects.get(detainee=person, clock="CRIMINAL_DETENTION").expires_at
    assert expires is not None
    assert (event.payload["kind"], event.payload["stage"], event.payload["clocks"]) == (
        "DETENTION_EXTENDED",
        "11",
        {"CRIMINAL_DETENTION": expires.isoformat()},
    )


def test_extension_by_the_wrong_authority_is_refused_and_audited(actor, admit):
    """A 拘留 extension approved by a procuratorate instead of the county police head is
    refused (刑事诉讼法第九十一条第一款) and an audit entry records the refusal."""
    person = admit()
    error = _refused(
        actor,
        person,
        "DETENTION_EXTENDED",
        timezone.now() - dt.timedelta(minutes=5),
        approval="PROCURATORATE",
        params={"days": 4},
    )
    assert (error.code, error.field) == ("LEGAL_EVENT_REFUSED", "kind")
    assert "县级以上公安机关负责人" in error.message
    assert "刑事诉讼法第九十一条第一款" in error.message
    entry = _last_audit()
    assert (
        entry.action,
        entry.outcome,
        entry.object_id,
        entry.username,
        entry.detail["kind"],
    ) == (
        "custody.legal_event_refused",
        "REFUSED",
        str(person.id),
        "gz_shouya",
        "DETENTION_EXTENDED",
    )
    assert "县级以上公安机关负责人" in entry.detail["reason"]


def test_extension_after_expiry_is_refused(actor, admit):
    """The 3-day 拘留 ran out yesterday: an extension decided now cannot revive it."""
    person = admit(person=person_step(executed_at=ago(days=4)))
    error = _refused(
        actor,
        person,
        "DETENTION_EXTENDED",
        timezone.now() - dt.timedelta(minutes=5),
        approval="COUNTY_POLICE",
        params={"days": 4},
    )
    assert error.code == "LEGAL_EVENT_REFUSED"
    assert "期限届满后不能再延长" in error.message
    assert (_last_audit().action, _last_audit().outcome) == (
        "custody.legal_event_refused",
        "REFUSED",
    )


def test_third_return_for_supplementary_investigation_is_refused(actor, admit):
    """补充侦查以二次为限 (刑事诉讼法第一百七十五条第三款): the third return is refused, the
    two earlier ones stand."""
    person = admit(person=person_step(executed_at=ago(days=20)))
    start = _executed(person)

    def day(n: float) -> dt.datetime:
        return start + dt.timedelta(days=n)

    _record(actor, person, "ARREST_REQUESTED", day(2))
    _record(actor, person, "ARREST_EXECUTED", day(5))
    _record(actor, person, "TRANSFERRED_FOR_PROSECUTION", day(6))
    for n in (7, 9):
        _record(actor, person, "RETURNED_FOR_SUPPLEMENT", day(n))
        _record(actor, person, "RETRANSFERRED", day(n + 1))
    error = _refused(actor, person, "RETURNED_FOR_SUPPLEMENT", day(12))
    assert error.code == "LEGAL_EVENT_REFUSED"
    assert "补充侦查以2次为限" in error.message
    assert "刑事诉讼法第一百七十五条第三款" in error.message
    assert LegalEvent.objects.filter(detainee=person, kind="RETURNED_FOR_SUPPLEMENT").count() == 2
    assert (_last_audit().outcome, _last_audit().detail["kind"]) == (
        "REFUSED",
        "RETURNED_FOR_SUPPLEMENT",
    )


def test_future_dated_event_is_refused(actor, admit):
    person = admit()
    with pytest.raises(DomainError) as caught:
        _record(actor, person, "ARREST_REQUESTED", timezone.now() + dt.timedelta(hours=1))
    assert (caught.value.code, caught.value.field) == ("FUTURE_EVENT", "at")
    assert LegalEvent.objects.filter(detainee=person).count() == 1


@pytest.mark.parametrize(
    ("kind", "approval", "code", "field"),
    [
        ("PAROLE", "", "UNKNOWN_LEGAL_EVENT", "kind"),
        ("DETENTION_EXTENDED", "MAYOR", "UNKNOWN_APPROVAL", "approval"),
    ],
)
def test_unknown_kind_or_approval_is_refused(actor, admit, kind, approval, code, field):
    person = admit()
    at = timezone.now() - dt.timedelta(minutes=5)
    with pytest.raises(DomainError) as caught:
        _record(actor, person, kind, at, approval=approval)
    assert (caught.value.code, caught.value.field) == (code, field)
    assert LegalEvent.objects.filter(detainee=person).count() == 1


def test_event_after_release_is_refused(actor, admit):
    """Once released, the stay is over: a later decision belongs to a new record."""
    from jianguan.custody.api import MovementKind, movement_record

    person = admit()
    movement_record(actor=actor, detainee=person, kind=MovementKind.RELEASE, document_number="释1")
    error = _refused(actor, person, "ARREST_EXECUTED", timezone.now())
    assert error.code == "LEGAL_EVENT_REFUSED"
    assert "本次羁押已经结束" in error.message


def test_a_stage_transfer_changes_the_case_unit_to_the_receiving_organ(actor, admit):
    """换押 (看守所条例第十五条): after 移送审查起诉 the procuratorate named on the notice is the
    case unit the deadline notices go to."""
    person = admit(person=person_step(executed_at=ago(days=30)))
    executed = _executed(person)
    _record(actor, person, "ARREST_REQUESTED", executed + dt.timedelta(days=2))
    _record(actor, person, "ARREST_EXECUTED", executed + dt.timedelta(days=5))
    _record(
        actor,
        person,
        "TRANSFERRED_FOR_PROSECUTION",
        executed + dt.timedelta(days=20),
        issued_by="广州市越秀区人民检察院",
    )
    person.refresh_from_db()
    assert person.case_unit == "广州市越秀区人民检察院"
    assert person.litigation_stage == "20"
