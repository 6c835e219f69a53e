"""Movements: going out and coming back changes the status; leaving for good ends the clocks
through a legal event, clears the cell and dates the departure; 提解 on a void warrant and
delivery without a judgment are refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from jianguan.core.errors import DomainError
from jianguan.custody.api import (
    Deadline,
    DetaineeStatus,
    LegalEvent,
    Movement,
    MovementKind,
    cell_assign,
    movement_record,
    roll_by_cell,
    unplaced,
)
from tests.custody.factories import ago, person_step

pytestmark = pytest.mark.django_db


def _refused(call: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


@pytest.fixture
def placed(actor: Any, admit: Any, cells: dict[str, Any]) -> Any:
    """A man admitted two hours after his 拘留 and placed in the transition cell T1."""
    person = admit()
    return cell_assign(actor=actor, detainee=person, cell_id=cells["T1"].id)


def _out(actor: Any, person: Any, kind: str = MovementKind.OUT_MEDICAL, **kw: Any) -> Movement:
    fields = {"destination": "广州市第一人民医院", "escort": "陈收押、吴巡控"} | kw
    return movement_record(actor=actor, detainee=person, kind=kind, **fields)


def test_temporary_exit_and_return(actor, placed, cells):
    """出所就医 leaves the person OUT_TEMPORARILY, still on T1's roll as out; 回所 brings them
    back IN_CUSTODY. The cell is kept and the clocks keep running."""
    movement = _out(actor, placed)
    placed.refresh_from_db()
    assert (placed.status, placed.cell_id, placed.left_at) == (
        DetaineeStatus.OUT_TEMPORARILY,
        cells["T1"].id,
        None,
    )
    assert (movement.kind, movement.from_cell_id, movement.destination) == (
        MovementKind.OUT_MEDICAL,
        cells["T1"].id,
        "广州市第一人民医院",
    )
    t1 = next(r for r in roll_by_cell(placed.unit_id) if r.number == "T1")
    assert (t1.present, t1.out) == (0, 1)
    movement_record(actor=actor, detainee=placed, kind=MovementKind.RETURN)
    placed.refresh_from_db()
    assert placed.status == DetaineeStatus.IN_CUSTODY
    t1 = next(r for r in roll_by_cell(placed.unit_id) if r.number == "T1")
    assert (t1.present, t1.out) == (1, 0)
    assert set(Deadline.objects.filter(detainee=placed).values_list("state", flat=True)) != {
        "ENDED"
    }


@pytest.mark.parametrize(
    ("missing", "field"), [("destination", "destination"), ("escort", "escort")]
)
def test_temporary_exit_needs_destination_and_escort(actor, placed, missing, field):
    error = _refused(lambda: _out(actor, placed, **{missing: " "}))
    assert (error.code, error.field) == ("REQUIRED", field)
    placed.refresh_from_db()
    assert placed.status == DetaineeStatus.IN_CUSTODY
    assert not Movement.objects.filter(detainee=placed).exclude(kind=MovementKind.CELL_MOVE)


def test_return_when_not_out_is_refused(actor, placed):
    error = _refused(
        lambda: movement_record(actor=actor, detainee=placed, kind=MovementKind.RETURN)
    )
    assert error.code == "NOT_OUT"


def test_person_out_cannot_go_out_again(actor, placed):
    _out(actor, placed)
    error = _refused(lambda: _out(actor, placed, kind=MovementKind.OUT_INTERROGATION))
    assert error.code == "NOT_IN_FACILITY"


@pytest.mark.parametrize("kind", ["CELL_MOVE", "ESCAPE", ""])
def test_unknown_movement_kind_is_refused(actor, placed, kind):
    error = _refused(lambda: movement_record(actor=actor, detainee=placed, kind=kind))
    assert (error.code, error.field) == ("UNKNOWN_MOVEMENT", "kind")


def test_future_movement_is_refused(actor, placed):
    later = timezone.now() + dt.timedelta(hours=1)
    error = _refused(lambda: _out(actor, placed, at=later))
    assert (error.code, error.field) == ("FUTURE_EVENT", "at")


def test_release_ends_the_clocks_and_clears_the_cell(actor, placed, cells):
    """释放 needs its document number; it records the RELEASED legal event, ends every clock,
    sets left_at to the moment given, clears the cell and takes the person off the roll."""
    error = _refused(
        lambda: movement_record(actor=actor, detainee=placed, kind=MovementKind.RELEASE)
    )
    assert (error.code, error.field) == ("REQUIRED", "document_number")
    at = timezone.now() - dt.timedelta(minutes=10)
    movement = movement_record(
        actor=actor,
        detainee=placed,
        kind=MovementKind.RELEASE,
        at=at,
        document_number="穗天公释字〔2025〕7号",
        reason="检察院不批准逮捕",
    )
    placed.refresh_from_db()
    assert (placed.status, placed.left_at, placed.cell_id) == (DetaineeStatus.RELEASED, at, None)
    assert (movement.from_cell_id, movement.document_number) == (
        cells["T1"].id,
        "穗天公释字〔2025〕7号",
    )
    states = set(Deadline.objects.filter(detainee=placed).values_list("state", flat=True))
    assert states == {"ENDED"}
    assert (
        list(
            LegalEvent.objects.filter(detainee=placed).order_by("at").values_list("kind", flat=True)
        )[-1]
        == "RELEASED"
    )
    t1 = next(r for r in roll_by_cell(placed.unit_id) if r.number == "T1")
    assert (t1.present, t1.out) == (0, 0)
    error = _refused(lambda: _out(actor, placed))
    assert error.code == "NOT_IN_FACILITY"


def test_transfer_leaves_the_person_transferred(actor, placed):
    movement_record(
        actor=actor,
        detainee=placed,
        kind=MovementKind.TRANSFER,
        document_number="换押证〔2025〕3号",
        destination="广州市第二看守所",
    )
    placed.refresh_from_db()
    assert (placed.status, placed.cell_id) == (DetaineeStatus.TRANSFERRED, None)
    assert set(Deadline.objects.filter(detainee=placed).values_list("state", flat=True)) == {
        "ENDED"
    }


def test_delivery_without_a_judgment_is_refused(actor, placed, cells):
    """交付执行 needs an effective judgment or the execution notice on record (刑事诉讼法第二百
    六十四条): refused with NO_JUDGMENT, the person still held in T1, no legal event added."""
    events_before = LegalEvent.objects.filter(detainee=placed).count()
    error = _refused(
        lambda: movement_record(
            actor=actor, detainee=placed, kind=MovementKind.DELIVER, document_number="执字1号"
        )
    )
    assert (error.code, error.field) == ("NO_JUDGMENT", "kind")
    assert "刑事诉讼法第二百六十四条" in error.message
    placed.refresh_from_db()
    assert (placed.status, placed.cell_id) == (DetaineeStatus.IN_CUSTODY, cells["T1"].id)
    assert LegalEvent.objects.filter(detainee=placed).count() == events_before


def test_escort_out_on_an_expired_clock_is_refused(actor, admit):
    """A man whose three-day 拘留 ran out yesterday with no extension: 提解出所 is refused with
    CUSTODY_EXPIRED citing 公安机关适用刑事羁押期限规定第二十八条; he stays in custody."""
    person = admit(person=person_step(executed_at=ago(days=4)))
    error = _refused(
        lambda: _out(actor, person, kind=MovementKind.OUT_INTERROGATION, destination="天河分局")
    )
    assert error.code == "CUSTODY_EXPIRED"
    assert "公安机关适用刑事羁押期限规定第二十八条" in error.message
    person.refresh_from_db()
    assert person.status == DetaineeStatus.IN_CUSTODY
    assert not Movement.objects.filter(detainee=person).exists()
    # 出所就医 is not a use of the warrant: it stays possible.
    _out(actor, person)


def test_unplaced_counts_people_without_a_cell(actor, admit, placed):
    admit(person=person_step(name="王五", document_name="王五", case_number="OTHER"))
    assert unplaced(placed.unit_id) == 1
