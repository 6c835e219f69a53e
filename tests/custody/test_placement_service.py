"""Cell placement under 分押分管: legal separations refuse outright, practice rules need a
reason and go to the leader, and every placement is recorded as a movement between cells."""

from __future__ import annotations

from typing import Any

import pytest

from jianguan.core.errors import DomainError, NotFound
from jianguan.custody.api import (
    Movement,
    MovementKind,
    PlacementOverride,
    ReviewStatus,
    cell_assign,
    cell_verdicts,
    override_review,
)
from jianguan.housing.api import Cell, CellGender
from jianguan.org.api import actor_for
from tests.custody.factories import person_step, resident_id, woman_step

pytestmark = pytest.mark.django_db


def _man(n: int, case: str) -> dict[str, Any]:
    """A different man for each n, in case `case`."""
    return person_step(
        name=f"男{n}",
        document_name=f"男{n}",
        id_number=resident_id(f"440103199001{n:02d}123"),
        case_number=case,
    )


@pytest.fixture
def people(admit: Any) -> dict[str, Any]:
    """Three men in three different cases, and a co-defendant of the first."""
    return {
        "a": admit(person=_man(1, "CASE-A")),
        "b": admit(person=_man(2, "CASE-B")),
        "c": admit(person=_man(3, "CASE-C")),
        "a2": admit(person=_man(4, "CASE-A")),
    }


def _refused(call: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def _moves(detainee: Any) -> list[tuple[str | None, str | None]]:
    return [
        (m.from_cell.number if m.from_cell else None, m.to_cell.number if m.to_cell else None)
        for m in Movement.objects.filter(detainee=detainee, kind=MovementKind.CELL_MOVE).order_by(
            "at", "id"
        )
    ]


def test_verdicts_cover_every_active_cell_with_reasons(actor, people, cells):
    """A new man: the transition cell is clean and first; the women's cell is blocked by 男女分押
    with its article; ordinary cells only warn (过渡管理)."""
    cells["102"].is_active = False
    cells["102"].save()
    verdicts, live = cell_verdicts(people["a"])
    by_number = {v.cell.number: v for v in verdicts}
    assert set(by_number) == {"T1", "101", "201"}
    assert verdicts[0].cell.number == "T1"
    assert by_number["T1"].findings == ()
    women = by_number["201"]
    assert not women.allowed
    assert {(f.rule, f.hard) for f in women.findings} >= {("SEX", True)}
    assert "看守所条例" in next(f.article for f in women.findings if f.rule == "SEX")
    assert by_number["101"].allowed
    assert [f.rule for f in by_number["101"].findings] == ["TRANSITION"]
    assert live.version == "2026.1"


def test_first_placement_in_the_transition_cell_is_recorded(actor, people, cells):
    placed = cell_assign(actor=actor, detainee=people["a"], cell_id=cells["T1"].id)
    assert placed.cell_id == cells["T1"].id
    assert _moves(people["a"]) == [(None, "T1")]
    assert PlacementOverride.objects.count() == 0


def test_co_defendant_cell_is_refused(actor, people, cells):
    """同案犯 never share a cell: PLACEMENT_REFUSED naming 同案, no movement, no override, even
    with a reason given."""
    cell_assign(actor=actor, detainee=people["a"], cell_id=cells["T1"].id)
    error = _refused(
        lambda: cell_assign(
            actor=actor,
            detainee=people["a2"],
            cell_id=cells["T1"].id,
            override_reason="监室紧张",
        )
    )
    assert (error.code, error.field) == ("PLACEMENT_REFUSED", "cell")
    assert "同案" in error.message
    assert "CASE-A" in error.message
    people["a2"].refresh_from_db()
    assert people["a2"].cell_id is None
    assert _moves(people["a2"]) == []
    assert PlacementOverride.objects.count() == 0


def test_opposite_sex_cell_is_refused(actor, admit, cells):
    """A woman may not be placed in a men's cell, whatever the reason."""
    woman = admit(person=woman_step())
    error = _refused(
        lambda: cell_assign(
            actor=actor, detainee=woman, cell_id=cells["T1"].id, override_reason="临时"
        )
    )
    assert error.code == "PLACEMENT_REFUSED"
    assert "男女分押" in error.message
    woman.refresh_from_db()
    assert woman.cell_id is None


def _fill_101(actor: Any, people: dict[str, Any], cells: dict[str, Any]) -> None:
    """a and b through the transition cell into 101 (capacity 2); c waits in T1."""
    for key in ("a", "b", "c"):
        cell_assign(actor=actor, detainee=people[key], cell_id=cells["T1"].id)
    for key in ("a", "b"):
        cell_assign(actor=actor, detainee=people[key], cell_id=cells["101"].id)


def test_full_cell_needs_a_reason_then_goes_to_the_leader(actor, people, cells):
    """Placing a third man in the full cell 101 warns (核定容量, practice): without a reason it
    answers PLACEMENT_NEEDS_REASON on override_reason and nothing moves; with one the placement
    is made and a PENDING override records the rule, reason, officer and pack version."""
    _fill_101(actor, people, cells)
    error = _refused(
        lambda: cell_assign(actor=actor, detainee=people["c"], cell_id=cells["101"].id)
    )
    assert (error.code, error.field) == ("PLACEMENT_NEEDS_REASON", "override_reason")
    assert "监室已满" in error.message
    people["c"].refresh_from_db()
    assert people["c"].cell_id == cells["T1"].id
    placed = cell_assign(
        actor=actor, detainee=people["c"], cell_id=cells["101"].id, override_reason="102 消毒中"
    )
    assert placed.cell_id == cells["101"].id
    (override,) = PlacementOverride.objects.all()
    assert (
        override.detainee_id,
        override.cell_id,
        [f["rule"] for f in override.findings],
        override.reason,
        override.decided_by,
        override.review_status,
        override.pack_version,
    ) == (
        people["c"].id,
        cells["101"].id,
        ["CAPACITY"],
        "102 消毒中",
        "gz_shouya",
        ReviewStatus.PENDING,
        "2026.1",
    )


def _pending(actor: Any, people: dict[str, Any], cells: dict[str, Any]) -> PlacementOverride:
    _fill_101(actor, people, cells)
    cell_assign(actor=actor, detainee=people["c"], cell_id=cells["101"].id, override_reason="满")
    return PlacementOverride.objects.get()


def test_leader_approves_an_override(actor, people, cells, officers):
    override = _pending(actor, people, cells)
    leader = actor_for(officers["leader"])
    reviewed = override_review(actor=leader, override=override, approve=True)
    assert (reviewed.review_status, reviewed.reviewed_by, reviewed.review_note) == (
        ReviewStatus.APPROVED,
        "gz_suozhang",
        "",
    )
    assert reviewed.reviewed_at is not None


def test_leader_rejects_an_override_only_with_a_note(actor, people, cells, officers):
    """不同意 needs a note (NOTE_REQUIRED, nothing changes); once reviewed, a second review is
    refused with ALREADY_REVIEWED."""
    override = _pending(actor, people, cells)
    leader = actor_for(officers["leader"])
    error = _refused(lambda: override_review(actor=leader, override=override, approve=False))
    assert (error.code, error.field) == ("NOTE_REQUIRED", "note")
    override.refresh_from_db()
    assert override.review_status == ReviewStatus.PENDING
    reviewed = override_review(actor=leader, override=override, approve=False, note="调至102监室")
    assert (reviewed.review_status, reviewed.review_note) == (ReviewStatus.REJECTED, "调至102监室")
    error = _refused(lambda: override_review(actor=leader, override=override, approve=True))
    assert error.code == "ALREADY_REVIEWED"


def test_a_move_records_the_cells_it_went_between(actor, people, cells):
    """T1 → 102 → 101 leaves three CELL_MOVE movements with their from and to cells."""
    person = people["a"]
    cell_assign(actor=actor, detainee=person, cell_id=cells["T1"].id)
    cell_assign(actor=actor, detainee=person, cell_id=cells["102"].id)
    cell_assign(actor=actor, detainee=person, cell_id=cells["101"].id)
    assert _moves(person) == [(None, "T1"), ("T1", "102"), ("102", "101")]
    person.refresh_from_db()
    assert person.cell_id == cells["101"].id


def test_moving_into_the_same_cell_is_refused(actor, people, cells):
    cell_assign(actor=actor, detainee=people["a"], cell_id=cells["T1"].id)
    error = _refused(lambda: cell_assign(actor=actor, detainee=people["a"], cell_id=cells["T1"].id))
    assert error.code == "SAME_CELL"


def test_cell_of_another_facility_is_not_found(actor, people, tree):
    """A 深圳 cell id answers NotFound, exactly like a missing one."""
    foreign = Cell.objects.create(
        unit=tree["sz_k"], number="T1", gender=CellGender.MALE, kind="TRANSITION", capacity=10
    )
    with pytest.raises(NotFound):
        cell_assign(actor=actor, detainee=people["a"], cell_id=foreign.id)
    people["a"].refresh_from_db()
    assert people["a"].cell_id is None
