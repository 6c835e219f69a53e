"""Turn each outbox event into a readable line of the activity feed."""

from __future__ import annotations

from typing import Any

from jianguan.activity.models import ActivityItem
from jianguan.outbox.api import DomainEvent, consumer

# How each event type reads in the feed; unknown types fall back to their name.
TEMPLATES: dict[str, str] = {
    "detainee.admitted": "收押 {name}（{number}）入 {cell}",
    "detainee.released": "{name}（{number}）出所：{reason}",
    "detainee.moved": "{name}（{number}）调至 {cell}",
    "custody.admission_started": "开始收押登记",
    "custody.admission_refused": "不予收押 {name}：{reason}",
    "custody.admitted": "收押 {name}（{number}）",
    "custody.cell_assigned": "{name}（{number}）安排至 {to_cell} 监室",
    "custody.override_reviewed": "所领导审核 {name} 安排至 {cell} 监室：{decision}",
    "custody.legal_event_recorded": "{name}（{number}）登记法律事项：{label}",
    "custody.movement": "{name}（{number}）{label}",
    "custody.deadline_notice": "{name}（{number}）{label}即将届满，通知{recipient}",
    "custody.deadline_expired": "超期警示：{name}（{number}）{label}已届满",
    "custody.interrogation_started": "{case_unit} 提讯 {name}（{number}）",
    "custody.interrogation_refused": "拒绝提讯 {name}（{number}）：提讯证 {warrant_number} 已失效",
    "rules.pack_published": "发布规则包 {kind} {version}",
    "unit.created": "新建单位 {name}",
    "unit.changed": "修改单位 {name}",
    "user.created": "新建用户 {name}",
    "user.changed": "修改用户 {name}",
    "post.changed": "修改岗位 {name}",
    "code.changed": "修改代码 {table} {code} {name}",
    "codes.loaded": "载入代码表 {table}（{count} 项）",
    "duty.info_recorded": "记录动态信息「{name}」{where}",
    "duty.task_created": "创建任务：{title}",
    "duty.task_dispatched": "任务「{title}」{note}",
    "duty.task_accepted": "接收任务：{title}",
    "duty.task_handled": "反馈任务「{title}」：{note}",
    "duty.task_closed": "任务办结：{title}",
    "duty.task_returned": "退回重办「{title}」：{note}",
    "duty.task_escalated": "任务升级「{title}」：{note}",
    "duty.task_cancelled": "撤销任务「{title}」：{note}",
    "duty.task_prioritised": "调整紧急程度「{title}」：{note}",
    "duty.shift_added": "排班 {officer}：{starts_at:.16} 至 {ends_at:.16}",
}


def summarise(event_type: str, payload: dict[str, Any]) -> str:
    template = TEMPLATES.get(event_type)
    if template is None:
        return event_type
    try:
        return template.format(**payload)[:300]
    except (KeyError, IndexError):
        return event_type


@consumer("activity")
def on_event(event: DomainEvent) -> None:
    ActivityItem.objects.get_or_create(
        event_id=event.id,
        defaults={
            "unit_code": event.unit_code,
            "at": event.occurred_at,
            "actor_name": event.actor_name,
            "event_type": event.type,
            "summary": summarise(event.type, event.payload),
        },
    )
