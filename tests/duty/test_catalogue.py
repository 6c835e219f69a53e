"""The duty rule pack's parser: the built-in pack parses; each kind of bad pack is refused with
the line and the path of the fault and a message that says what to write instead; the limits
of a category and the escalation chain behave as the pack says."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from jianguan.core.errors import DomainError
from jianguan.duty.catalogue import BUILTIN_PATH, DutyPack, parse_pack
from jianguan.rules.api import parse_source

MINI = """\
kind: duty
version: "t1"
title: "测试目录"
urgencies:
  URGENT: {accept_minutes: 2, handle_minutes: 15, escalate_minutes: 2}
  HIGH: {accept_minutes: 5, handle_minutes: 60, escalate_minutes: 5}
  NORMAL: {accept_minutes: 30, handle_minutes: 480, escalate_minutes: 30}
escalation: [SUBCONTROL, COMMAND, LEADER]
categories:
  - code: A_MOOD
    name: "情绪异常"
    recorded_by: [PATROL, CUSTODIAN]
    task: true
    handler: MEDICAL
    urgency: HIGH
    accept_minutes: 3
    handle_minutes: 20
    basis: practice
  - code: B_TALK
    name: "谈话发现"
    recorded_by: [CUSTODIAN]
    task: false
    basis: law
    article: "看守所条例第二十条"
"""


def _line(text: str, needle: str, nth: int = 1) -> int:
    """The 1-based line number of the nth occurrence of `needle`."""
    at = -1
    for _ in range(nth):
        at = text.index(needle, at + 1)
    return text.count("\n", 0, at) + 1


def _refused(text: str) -> str:
    with pytest.raises(DomainError) as err:
        parse_source("duty", text)
    assert err.value.code == "RULEPACK_INVALID"
    return err.value.message


def _pack(text: str = MINI) -> DutyPack:
    _, pack = parse_source("duty", text)
    return pack


def test_builtin_pack_parses():
    pack = _pack(BUILTIN_PATH.read_text(encoding="utf-8"))
    assert pack.version == "2026.3"
    assert pack.escalation == ("SUBCONTROL", "COMMAND", "LEADER")
    assert len(pack.categories) == 24
    assert all(c.basis == "practice" for c in pack.categories.values())
    # Every category that becomes a task names the post that handles it.
    assert all(c.handler for c in pack.categories.values() if c.task)
    assert pack.category("DEADLINE_NOTICE").handler == "ADMISSION"
    assert pack.category("DEADLINE_NOTICE").recorded_by == ()
    assert [c.code for c in pack.recordable_by({"MEDICAL"})] == [
        "MEDICAL_CONDITION_CHANGE",
        "MEDICAL_REFUSES_MEDICINE",
    ]


def test_small_pack_parses_as_written():
    pack = _pack()
    mood = pack.category("A_MOOD")
    assert mood.recorded_by == ("PATROL", "CUSTODIAN")
    assert (mood.handler, mood.urgency, mood.verify) == ("MEDICAL", "HIGH", False)
    talk = pack.category("B_TALK")
    assert (talk.task, talk.handler, talk.article) == (False, "", "看守所条例第二十条")


def test_unknown_post_is_refused_at_its_line_with_the_posts_there_are():
    text = MINI.replace("recorded_by: [PATROL, CUSTODIAN]", "recorded_by: [PATROL, GUARD]")
    message = _refused(text)
    assert message.startswith(f"第 {_line(text, 'GUARD')} 行：categories.0.recorded_by.1：")
    assert "未知的岗位 GUARD" in message
    assert "CUSTODIAN" in message  # the list of posts one may write


def test_unknown_handler_post_is_refused():
    text = MINI.replace("handler: MEDICAL", "handler: DOCTOR")
    message = _refused(text)
    assert message == f"第 {_line(text, 'DOCTOR')} 行：categories.0.handler：未知的岗位 DOCTOR"


def test_unknown_post_in_the_escalation_chain_is_refused():
    text = MINI.replace("[SUBCONTROL, COMMAND, LEADER]", "[SUBCONTROL, CAPTAIN]")
    message = _refused(text)
    assert message.startswith(f"第 {_line(text, 'CAPTAIN')} 行：escalation.1：未知的岗位 CAPTAIN")


def test_task_category_without_a_handler_is_refused():
    text = MINI.replace("    handler: MEDICAL\n", "")
    message = _refused(text)
    # The key is missing, so the line is the category's own.
    assert message == f"第 {_line(text, 'code: A_MOOD')} 行：categories.0.handler：缺少此项"


def test_handling_limit_shorter_than_accepting_is_refused():
    text = MINI.replace(
        "HIGH: {accept_minutes: 5, handle_minutes: 60",
        "HIGH: {accept_minutes: 5, handle_minutes: 3",
    )
    message = _refused(text)
    assert message == (
        f"第 {_line(text, 'HIGH:')} 行：urgencies.HIGH.handle_minutes：办结时限不能短于接收时限"
    )


def test_category_handling_limit_shorter_than_accepting_is_refused():
    text = MINI.replace("handle_minutes: 20", "handle_minutes: 2")
    message = _refused(text)
    assert "办结时限不能短于接收时限" in message


def test_minutes_must_be_positive_whole_numbers():
    text = MINI.replace("    accept_minutes: 3\n", "    accept_minutes: -3\n")
    message = _refused(text)
    assert message == (
        f"第 {_line(text, '-3')} 行：categories.0.accept_minutes：应为正整数（分钟）"
    )


def test_duplicate_code_is_refused_at_the_repeat():
    text = MINI.replace("code: B_TALK", "code: A_MOOD")
    message = _refused(text)
    assert message == (
        f"第 {_line(text, 'code: A_MOOD', nth=2)} 行：categories.1.code：类别代码 A_MOOD 重复"
    )


def test_unknown_key_in_a_category_is_refused_at_its_line():
    text = MINI.replace("    basis: practice\n", "    basis: practice\n    colour: red\n")
    message = _refused(text)
    assert message == f"第 {_line(text, 'colour')} 行：categories.0.colour：未知的项"


def test_unknown_top_level_key_is_refused():
    text = MINI + "notes: 备注\n"
    message = _refused(text)
    assert message == f"第 {_line(text, 'notes')} 行：notes：未知的顶层项"


def test_law_basis_without_an_article_is_refused():
    text = MINI.replace('    article: "看守所条例第二十条"\n', "")
    message = _refused(text)
    assert message == (
        f"第 {_line(text, 'code: B_TALK')} 行：categories.1.article：依据为法律的类别必须写明条文"
    )


def test_basis_must_be_law_or_practice():
    text = MINI.replace("basis: practice", "basis: custom")
    message = _refused(text)
    assert message == (
        f"第 {_line(text, 'custom')} 行：categories.0.basis：应为 law（法律）或 practice（实践做法）"
    )


def test_bad_urgency_is_refused():
    text = MINI.replace("urgency: HIGH", "urgency: RED")
    message = _refused(text)
    assert (
        message == f"第 {_line(text, 'RED')} 行：categories.0.urgency：应为 URGENT、HIGH 或 NORMAL"
    )


def test_unknown_urgency_row_is_refused():
    text = MINI.replace(
        "escalation:",
        "  LOW: {accept_minutes: 60, handle_minutes: 960, escalate_minutes: 60}\nescalation:",
    )
    message = _refused(text)
    assert message.startswith(f"第 {_line(text, 'LOW')} 行：urgencies.LOW：未知的紧急程度")


def test_missing_urgency_row_is_refused():
    text = MINI.replace(
        "  NORMAL: {accept_minutes: 30, handle_minutes: 480, escalate_minutes: 30}\n", ""
    )
    message = _refused(text)
    assert message.endswith("urgencies.NORMAL：缺少此紧急程度的时限")


def test_task_must_be_true_or_false():
    text = MINI.replace("task: true", "task: yes please")
    message = _refused(text)
    assert message == (
        f"第 {_line(text, 'yes please')} 行：categories.0.task：应为 true 或 false（是否生成任务）"
    )


def test_broken_yaml_names_its_line():
    text = MINI.replace('name: "情绪异常"', 'name: "情绪异常')
    message = _refused(text)
    assert message.startswith("第 ")
    assert "不是有效的 YAML" in message


def test_wrong_kind_is_refused():
    message = _refused(MINI.replace("kind: duty", "kind: deadlines"))
    assert message == "第 1 行：kind 应为 duty，实为 'deadlines'"


# --- limits and escalation ------------------------------------------------------------------


def test_a_categorys_own_minutes_apply_at_its_own_urgency():
    pack = _pack()
    mood = pack.category("A_MOOD")
    limits = pack.limits_for(mood, "HIGH")
    assert (limits.accept, limits.handle) == (dt.timedelta(minutes=3), dt.timedelta(minutes=20))
    assert limits.escalate == dt.timedelta(minutes=5)


def test_a_raised_urgency_uses_that_urgencys_limits():
    pack = _pack()
    limits = pack.limits_for(pack.category("A_MOOD"), "URGENT")
    assert (limits.accept, limits.handle, limits.escalate) == (
        dt.timedelta(minutes=2),
        dt.timedelta(minutes=15),
        dt.timedelta(minutes=2),
    )


def test_a_category_without_own_minutes_uses_its_urgencys():
    pack = _pack(MINI.replace("    accept_minutes: 3\n", ""))
    limits = pack.limits_for(pack.category("A_MOOD"), "HIGH")
    assert (limits.accept, limits.handle) == (dt.timedelta(minutes=5), dt.timedelta(minutes=20))


def test_next_level_climbs_the_chain_and_stops_at_the_top():
    pack = _pack()
    assert pack.next_level("") == "SUBCONTROL"
    assert pack.next_level("SUBCONTROL") == "COMMAND"
    assert pack.next_level("COMMAND") == "LEADER"
    assert pack.next_level("LEADER") is None
    assert pack.next_level("PATROL") is None  # not on the chain: nowhere further


def test_an_empty_chain_never_escalates():
    pack = parse_pack(_content(MINI.replace("[SUBCONTROL, COMMAND, LEADER]", "[]")))
    assert pack.escalation == ()
    assert pack.next_level("") is None


def _content(text: str) -> dict:
    return yaml.safe_load(text)
