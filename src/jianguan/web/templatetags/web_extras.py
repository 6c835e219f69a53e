from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    """Look a code's label up in a dict of labels: {{ labels|get_item:code }}."""
    return mapping.get(key)
