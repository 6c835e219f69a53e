"""A leader's manual grade: only with a reason and a time limit, reviewed by another leader, and
the model's grade returns when it ends. Also: facts recorded by hand, fading with time, and a
model that does not validate."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from jianguan.core.errors import DomainError


@pytest.fixture
def leader(staff: dict[str, Any]) -> Any:
    from jianguan.org.api import actor_for

    return actor_for(staff["leader"])


@pytest.fixture
def leader2(staff: dict[str, Any]) -> Any:
    from jianguan.org.api import actor_for

    return actor_for(staff["leader2"])


@pytest.fixture
def scored(held: Any) -> Any:
    from jianguan.risk.api import rescore_person

    rescore_person(held.id, cause="收押入所")
    return held


def _live(person: Any) -> Any:
    from jianguan.risk.api import RiskScore

    return RiskScore.objects.get(detainee_id=person.id, track="LIVE")


REASON = "家属来信告知其母病危，本人情绪低落，需提高管控等级"


def test_an_override_applies_until_it_expires_and_is_sent_for_review(scored, leader):
    from jianguan.duty.api import Task, TaskSource
    from jianguan.risk.api import override_grant, overrides_expire

    now = timezone.now()
    override = override_grant(
        actor=leader, detainee=scored, grade="LEVEL2", reason=REASON, days=3, now=now
    )
    score = _live(scored)
    assert (score.grade, score.computed_grade, score.override_id) == (
        "LEVEL2",
        "NORMAL",
        override.id,
    )
    review = Task.objects.get(source=TaskSource.RISK, category="RISK_OVERRIDE_REVIEW")
    assert review.post_kind == "LEADER"
    assert REASON in review.detail
    # the manual rise is a rise: the 管教 is told too
    assert Task.objects.filter(category="RISK_GRADE_RISE", detainee_id=scored.id).exists()

    assert overrides_expire(now + dt.timedelta(days=2)) == 0
    assert overrides_expire(now + dt.timedelta(days=3, seconds=1)) == 1
    override.refresh_from_db()
    assert override.ended_at is not None
    score = _live(scored)
    assert (score.grade, score.override_id) == ("NORMAL", None)


@pytest.mark.parametrize(
    ("grade", "reason", "days", "field", "message"),
    [
        ("PURPLE", REASON, 3, "grade", "没有这个等级"),
        ("LEVEL2", "调整", 3, "reason", "请写明调整理由"),
        ("LEVEL2", REASON, 0, "days", "1 至 30 天"),
        ("LEVEL2", REASON, 31, "days", "1 至 30 天"),
        ("NORMAL", REASON, 3, "grade", "无需调整"),
    ],
)
def test_an_override_without_reason_or_limit_is_refused(
    scored, leader, grade, reason, days, field, message
):
    from jianguan.risk.api import RiskOverride, override_grant

    with pytest.raises(DomainError) as caught:
        override_grant(actor=leader, detainee=scored, grade=grade, reason=reason, days=days)
    assert caught.value.field == field
    assert message in caught.value.message
    assert not RiskOverride.objects.exists()
    assert _live(scored).grade == "NORMAL"


def test_the_review_is_by_another_leader_and_a_revocation_restores_the_model(
    scored, leader, leader2
):
    from jianguan.risk.api import ReviewStatus, override_grant, override_review

    override = override_grant(actor=leader, detainee=scored, grade="LEVEL1", reason=REASON, days=7)
    with pytest.raises(DomainError, match="不能审核自己的调整"):
        override_review(actor=leader, override=override, uphold=True)
    with pytest.raises(DomainError, match="撤销时请写明意见"):
        override_review(actor=leader2, override=override, uphold=False)
    reviewed = override_review(
        actor=leader2, override=override, uphold=False, note="谈话后情绪平稳，按模型等级管理"
    )
    assert reviewed.review_status == ReviewStatus.REVOKED
    assert reviewed.ended_at is not None
    assert _live(scored).grade == "NORMAL"
    with pytest.raises(DomainError, match="已审核"):
        override_review(actor=leader2, override=override, uphold=True)


def test_an_upheld_override_stays_in_force(scored, leader, leader2):
    from jianguan.risk.api import ReviewStatus, override_grant, override_review

    override = override_grant(actor=leader, detainee=scored, grade="LEVEL3", reason=REASON, days=7)
    assert override_review(actor=leader2, override=override, uphold=True).review_status == (
        ReviewStatus.UPHELD
    )
    assert _live(scored).grade == "LEVEL3"


def test_a_fact_recorded_by_hand_counts_at_once_and_fades(scored, leader):
    from jianguan.risk.api import RiskChange, fact_record, rescore_person

    now = timezone.now()
    fact_record(
        actor=leader, detainee=scored, kind="manual.BAIL_REJECTED", at=now, note="检察院不批准"
    )
    assert _live(scored).score == 30.0  # 18 + 12
    rescore_person(scored.id, cause="定时重算", now=now + dt.timedelta(days=7))
    assert _live(scored).score == 24.0  # 18 + 6 after one half-life
    rescore_person(scored.id, cause="定时重算", now=now + dt.timedelta(days=31))
    assert _live(scored).score == 18.0
    causes = list(
        RiskChange.objects.filter(detainee_id=scored.id)
        .order_by("at")
        .values_list("cause", flat=True)
    )
    assert causes == ["收押入所", "人工登记：取保候审申请被驳回", "定时重算", "定时重算"]


@pytest.mark.parametrize(
    ("kind", "offset", "field"),
    [
        ("manual.GOSSIP", dt.timedelta(0), "kind"),
        ("duty.PATROL_EMERGENCY", dt.timedelta(0), "kind"),  # comes from the duty loop, not by hand
        ("manual.FAMILY_EVENT", dt.timedelta(hours=1), "at"),
    ],
)
def test_a_bad_fact_is_refused_and_nothing_is_kept(scored, leader, kind, offset, field):
    from jianguan.risk.api import RiskFact, fact_record

    with pytest.raises(DomainError) as caught:
        fact_record(actor=leader, detainee=scored, kind=kind, at=timezone.now() + offset)
    assert caught.value.field == field
    assert not RiskFact.objects.exists()


def test_a_model_that_does_not_validate_is_refused_and_the_live_one_stays(scored):
    from jianguan.core.actor import Actor
    from jianguan.risk.api import live_model
    from jianguan.risk.model import BUILTIN_PATH
    from jianguan.rules.api import RulePack, pack_publish

    text = (
        BUILTIN_PATH.read_text(encoding="utf-8")
        .replace('version: "2026.1"', 'version: "2026.2"')
        .replace('colour: "#d9a800"', 'colour: "yellow"')
    )
    with pytest.raises(DomainError) as caught:
        pack_publish(actor=Actor.system("test"), kind="risk", text=text, unit_code="440100K01")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if 'colour: "yellow"' in row)
    assert caught.value.message.startswith(f"第 {line} 行：grades.1.colour：")
    assert not RulePack.objects.filter(kind="risk").exists()
    assert live_model(scored.unit.path)[0] == "2026.1"
