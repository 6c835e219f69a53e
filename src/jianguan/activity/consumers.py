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
    "unit.created": "新建单位 {name}",
    "unit.changed": "修改单位 {name}",
    "user.created": "新建用户 {name}",
    "user.changed": "修改用户 {name}",
    "post.changed": "修改岗位 {name}",
    "code.changed": "修改代码 {table} {code} {name}",
    "codes.loaded": "载入代码表 {table}（{count} 项）",
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
