"""Public face of the audit app: record an act, verify the chain, read entries."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from jianguan.audit import chain
from jianguan.audit.models import AuditChainHead, AuditEntry
from jianguan.core.actor import Actor


def audit_record(
    *,
    actor: Actor,
    action: str,
    object_type: str = "",
    object_id: str | uuid.UUID = "",
    detail: dict[str, Any] | None = None,
    outcome: str = "OK",
    wait_for_flush: bool = True,
) -> int:
    """Append one entry to the chain and return its sequence number.

    Runs inside the caller's transaction when there is one, so the entry commits or rolls
    back with the act it records. The head row is locked for the append: entries are
    numbered without gaps and each links to the one before.

    A read's entry in a transaction of its own may pass wait_for_flush=False: on PostgreSQL
    the commit then returns before the WAL reaches disk, so the chain lock is not held across
    an fsync. A crash can lose the last fraction of a second of such entries, never a part of
    the chain's middle (ADR 0004).
    """
    detail = detail or {}
    own_transaction = not connection.in_atomic_block
    # Inside the caller's transaction no savepoint: the entry and the act stand or fall together.
    with transaction.atomic(savepoint=False):
        if not wait_for_flush and own_transaction and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        seq = head.seq + 1
        at = timezone.now()
        fields = chain.entry_fields(
            seq=seq,
            at=at,
            user_id=actor.user_id,
            username=actor.username,
            unit_code=actor.unit_code,
            posts=actor.posts_label,
            address=actor.address or "",
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            outcome=outcome,
            detail=detail,
        )
        digest = chain.digest(settings.AUDIT_CHAIN_KEY, head.digest, fields)
        AuditEntry.objects.create(
            seq=seq,
            at=at,
            user_id=actor.user_id,
            username=actor.username,
            unit_code=actor.unit_code,
            posts=actor.posts_label,
            address=actor.address or "",
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            outcome=outcome,
            detail=detail,
            prev_digest=head.digest,
            digest=digest,
        )
        head.seq, head.digest = seq, digest
        head.save(update_fields=["seq", "digest"])
    return seq


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    kind: str  # ALTERED, REMOVED, INSERTED, TRUNCATED
    message: str


def audit_verify(*, progress: Any = None) -> tuple[int, list[ChainProblem]]:
    """Walk the chain from the first entry; return the number checked and every problem found.

    ALTERED: the entry's digest does not match its fields. REMOVED: numbers are missing.
    INSERTED: an entry does not link to the digest before it. TRUNCATED: the chain ends
    before the head says it does.
    """
    problems: list[ChainProblem] = []
    key = settings.AUDIT_CHAIN_KEY
    expected_seq = 1
    prev_digest = chain.GENESIS
    checked = 0
    for entry in _entries_in_order():
        checked += 1
        if progress is not None:
            progress(1)
        after_gap = entry.seq > expected_seq
        if after_gap:
            problems.append(
                ChainProblem(
                    expected_seq, "REMOVED", f"第 {expected_seq}–{entry.seq - 1} 条缺失（被删除）"
                )
            )
        fields = chain.entry_fields(
            seq=entry.seq,
            at=entry.at,
            user_id=entry.user_id,
            username=entry.username,
            unit_code=entry.unit_code,
            posts=entry.posts,
            address=entry.address,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            outcome=entry.outcome,
            detail=entry.detail,
        )
        if chain.digest(key, entry.prev_digest, fields) != entry.digest:
            problems.append(ChainProblem(entry.seq, "ALTERED", f"第 {entry.seq} 条内容被改动"))
        elif entry.prev_digest != prev_digest and not after_gap:
            # A link broken right after a gap is the removal already reported.
            problems.append(
                ChainProblem(
                    entry.seq, "INSERTED", f"第 {entry.seq} 条与前一条不衔接（被插入或替换）"
                )
            )
        prev_digest = entry.digest
        expected_seq = entry.seq + 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.seq >= expected_seq:
        problems.append(
            ChainProblem(
                expected_seq,
                "TRUNCATED",
                f"链头记录到第 {head.seq} 条，但日志止于第 {expected_seq - 1} 条（末尾被删除）",
            )
        )
    elif head is not None and head.seq < expected_seq - 1:
        problems.append(
            ChainProblem(
                head.seq + 1,
                "INSERTED",
                f"链头止于第 {head.seq} 条，其后的第 {head.seq + 1}–{expected_seq - 1} 条为追加插入",
            )
        )
    elif head is not None and head.digest != prev_digest:
        problems.append(ChainProblem(head.seq, "ALTERED", "链头摘要与最后一条不符"))
    return checked, problems


def _entries_in_order() -> Iterator[AuditEntry]:
    return AuditEntry.objects.order_by("seq").iterator(chunk_size=5000)


def audit_count() -> int:
    return AuditEntry.objects.count()


def audit_entries(*, unit_codes: QuerySet[Any] | list[str] | None = None) -> QuerySet[AuditEntry]:
    """Newest first; limited to the given unit codes when given."""
    qs = AuditEntry.objects.order_by("-seq")
    if unit_codes is not None:
        qs = qs.filter(unit_code__in=unit_codes)
    return qs
