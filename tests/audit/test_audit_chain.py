"""The audit chain: gapless numbering, linked digests, and `jianguan audit verify` naming every
kind of tampering (ALTERED, REMOVED, TRUNCATED, INSERTED)."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from jianguan.audit import chain
from jianguan.audit.api import audit_record, audit_verify
from jianguan.audit.models import AuditChainHead, AuditEntry
from jianguan.core.actor import Actor

pytestmark = pytest.mark.django_db

ACTOR = Actor(
    user_id=None, username="auditor", unit_code="440100K01", posts=("LEADER",), address="10.0.0.1"
)


@pytest.fixture
def five() -> list[int]:
    """Five entries, seq 1..5, on an empty chain."""
    assert AuditEntry.objects.count() == 0
    return [
        audit_record(
            actor=ACTOR,
            action="detainee.view",
            object_type="detainee",
            object_id=f"id-{n}",
            detail={"n": n, "名": "张三"},
        )
        for n in range(1, 6)
    ]


def _verify() -> tuple[list[str], str | None]:
    """Run the command; return its output lines and the CommandError message (None if clean)."""
    out = io.StringIO()
    try:
        call_command("audit", "verify", "--quiet", stdout=out)
    except CommandError as exc:
        return out.getvalue().splitlines(), str(exc)
    return out.getvalue().splitlines(), None


def _sql(statement: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_entries_are_numbered_gaplessly_and_linked(five):
    """audit_record returns 1..n; each entry links to the previous digest; the head matches."""
    assert five == [1, 2, 3, 4, 5]
    entries = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_digest == chain.GENESIS
    assert [e.prev_digest for e in entries[1:]] == [e.digest for e in entries[:-1]]
    assert len({e.digest for e in entries}) == 5
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.digest) == (5, entries[-1].digest)
    first = entries[0]
    assert (first.username, first.unit_code, first.posts, first.address, first.outcome) == (
        "auditor",
        "440100K01",
        "LEADER",
        "10.0.0.1",
        "OK",
    )


def test_verify_passes_on_a_clean_chain(five):
    """`audit verify` on an untouched chain reports every entry checked and raises nothing."""
    lines, error = _verify()
    assert error is None
    assert lines == ["审计链完整：共 5 条，全部校验通过"]


def test_verify_passes_on_an_empty_chain(db):
    """An empty log is a clean log."""
    assert audit_verify() == (0, [])


def test_altered_field_is_reported_by_seq(five):
    """Changing one row's username with raw SQL is reported as ALTERED at that seq only."""
    _sql("UPDATE audit_auditentry SET username = %s WHERE seq = %s", ["mallory", 2])
    lines, error = _verify()
    assert lines == ["ALTERED seq=2: 第 2 条内容被改动"]
    assert error == "审计链校验失败：1 处问题（共检查 5 条）"


def test_altered_outcome_is_reported(five):
    """Turning a DENIED-style outcome field into something else is caught like any field."""
    _sql("UPDATE audit_auditentry SET outcome = %s WHERE seq = %s", ["DENIED", 4])
    lines, _ = _verify()
    assert lines == ["ALTERED seq=4: 第 4 条内容被改动"]


def test_removed_middle_row_is_reported_as_a_gap(five):
    """Deleting seq 3 is REMOVED naming the gap 3–3, and nothing else."""
    _sql("DELETE FROM audit_auditentry WHERE seq = %s", [3])
    lines, error = _verify()
    assert lines == ["REMOVED seq=3: 第 3–3 条缺失（被删除）"]
    assert error == "审计链校验失败：1 处问题（共检查 4 条）"


def test_removed_last_row_is_reported_as_truncated(five):
    """Deleting seq 5 while the head still says 5 is TRUNCATED."""
    _sql("DELETE FROM audit_auditentry WHERE seq = %s", [5])
    lines, error = _verify()
    assert lines == ["TRUNCATED seq=5: 链头记录到第 5 条，但日志止于第 4 条（末尾被删除）"]
    assert error == "审计链校验失败：1 处问题（共检查 4 条）"


def _forge(seq: int, prev_digest: str, key: str) -> None:
    at = timezone.now()
    fields = chain.entry_fields(
        seq=seq,
        at=at,
        user_id=None,
        username="mallory",
        unit_code="440100K01",
        posts="LEADER",
        address="",
        action="detainee.view",
        object_type="detainee",
        object_id="forged",
        outcome="OK",
        detail={},
    )
    AuditEntry.objects.create(
        seq=seq,
        at=at,
        username="mallory",
        unit_code="440100K01",
        posts="LEADER",
        action="detainee.view",
        object_type="detainee",
        object_id="forged",
        outcome="OK",
        detail={},
        prev_digest=prev_digest,
        digest=chain.digest(key, prev_digest, fields),
    )


def test_forged_row_after_head_is_reported_as_inserted(five):
    """A row appended at head+1 by someone without the key is ALTERED (bad digest) and
    INSERTED (beyond the head)."""
    head = AuditChainHead.objects.get(pk=1)
    _forge(6, head.digest, key="not-the-key")
    lines, error = _verify()
    assert lines == [
        "ALTERED seq=6: 第 6 条内容被改动",
        "INSERTED seq=6: 链头止于第 5 条，其后的第 6–6 条为追加插入",
    ]
    assert error == "审计链校验失败：2 处问题（共检查 6 条）"


def test_row_forged_with_the_key_is_still_reported_as_inserted(five):
    """Even with the chain key, a row appended without moving the head is INSERTED."""
    head = AuditChainHead.objects.get(pk=1)
    _forge(6, head.digest, key=settings.AUDIT_CHAIN_KEY)
    lines, _ = _verify()
    assert lines == ["INSERTED seq=6: 链头止于第 5 条，其后的第 6–6 条为追加插入"]


def test_replaced_middle_row_is_reported(five):
    """Replacing seq 3 with a correctly keyed row breaks both of its links: INSERTED at 3 (it
    does not follow seq 2) and at 4 (seq 4 does not follow the replacement)."""
    _sql("DELETE FROM audit_auditentry WHERE seq = %s", [3])
    _forge(3, "f" * 64, key=settings.AUDIT_CHAIN_KEY)
    lines, _ = _verify()
    assert lines == [
        "INSERTED seq=3: 第 3 条与前一条不衔接（被插入或替换）",
        "INSERTED seq=4: 第 4 条与前一条不衔接（被插入或替换）",
    ]


def _record_then_roll_back(**fields: str) -> int:
    """Record an entry inside a transaction that then rolls back; return the seq it was given."""
    given: list[int] = []

    def record_and_fail() -> None:
        with transaction.atomic():
            given.append(audit_record(actor=ACTOR, **fields))
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError, match="roll back"):
        record_and_fail()
    return given[0]


def test_rolled_back_entry_leaves_no_gap(five):
    """An entry recorded in a transaction that rolls back vanishes with its number: the next
    entry takes seq 6 and the chain still verifies."""
    assert _record_then_roll_back(action="detainee.view", object_id="gone") == 6
    assert AuditEntry.objects.filter(object_id="gone").count() == 0
    assert AuditChainHead.objects.get(pk=1).seq == 5
    assert audit_record(actor=ACTOR, action="detainee.view", object_id="kept") == 6
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, 7)
    )
    assert _verify() == (["审计链完整：共 6 条，全部校验通过"], None)


@pytest.mark.django_db(transaction=True)
def test_rolled_back_outer_transaction_leaves_no_gap_on_commit(db):
    """With real commits: a rolled-back append between two committed ones leaves 1, 2 gapless."""
    audit_record(actor=ACTOR, action="a")
    assert _record_then_roll_back(action="b") == 2
    audit_record(actor=ACTOR, action="c")
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", "action")) == [
        (1, "a"),
        (2, "c"),
    ]
    assert audit_verify() == (2, [])
