"""The kinds of fact a risk model can count (pure Python, no database).

A fact kind is `source.CODE`. Facts from other parts of the platform carry their own codes:
`duty.` + a duty-pack category (a behaviour record), `legal.` + a legal-event kind (a judgment,
a rejected arrest), `movement.` + a movement kind, `interrogation.ENDED`, `health.` + an admission
health flag, `device.` + a device alert type. Facts that only an officer can know are recorded by
hand: the `manual.` kinds below, and the incidents (`incident.`) the model exists to foresee.
"""

from __future__ import annotations

import re

FACT_KIND_PATTERN = re.compile(
    r"^(duty|legal|movement|interrogation|health|device|manual|incident)\.([A-Z][A-Z0-9_]*|\*)$"
)

# Recorded by hand on the person's risk page: kind → label.
MANUAL_FACTS: dict[str, str] = {
    "manual.COUNSELLING": "心理咨询（发现问题）",
    "manual.REFUSES_FOOD": "拒绝进食",
    "manual.LAWYER_MEETING": "律师会见后情绪波动",
    "manual.FAMILY_MEETING": "家属会见后情绪波动",
    "manual.FAMILY_EVENT": "家庭变故",
    "manual.BAIL_REJECTED": "取保候审申请被驳回",
    "manual.BAD_NEWS": "其他不利消息",
    "manual.SUICIDE_HISTORY": "有自杀、自伤史",
    "manual.MENTAL_ILLNESS": "精神疾病（经诊断）",
    "manual.INTELLECTUAL_DISABILITY": "智力障碍",
}

# The outcomes a model is judged by (backtest): also recorded by hand, and counted as facts.
INCIDENTS: dict[str, str] = {
    "incident.SELF_HARM": "自伤自残",
    "incident.VIOLENCE": "暴力行为（打架、伤人）",
    "incident.ESCAPE_ATTEMPT": "脱逃企图",
    "incident.SERIOUS_BREACH": "严重违反监规",
}

# Facts the platform derives from other records.
DERIVED_FACTS: dict[str, str] = {
    "interrogation.ENDED": "提讯结束",
    "health.PSYCHOSIS": "入所体检：精神病",
    "health.SERIOUS_ILLNESS": "入所体检：严重疾病",
}

RECORDED_BY_HAND = MANUAL_FACTS | INCIDENTS
OPEN_FAMILIES = ("duty.", "legal.", "movement.", "device.")  # codes defined elsewhere


def fact_kind_known(kind: str) -> bool:
    """Whether a pack may name this kind: a family of codes defined elsewhere, or one listed here."""
    if kind.endswith(".*") or kind.startswith(OPEN_FAMILIES):
        return True
    return kind in RECORDED_BY_HAND or kind in DERIVED_FACTS


def fact_label(kind: str) -> str:
    return RECORDED_BY_HAND.get(kind) or DERIVED_FACTS.get(kind) or kind
