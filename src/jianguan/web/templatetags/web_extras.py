from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

register = template.Library()


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    """Look a code's label up in a dict of labels: {{ labels|get_item:code }}."""
    return mapping.get(key)


@register.simple_tag
def field_error(errors: dict[str, str] | None, name: str) -> str:
    """The refusal message for one field, shown beside it: {% field_error errors "name" %}."""
    message = (errors or {}).get(name)
    if not message:
        return ""
    return format_html('<span class="field-error" data-field="{}">{}</span>', name, message)


@register.filter
def contains(values: Any, value: Any) -> bool:
    """Whether a list of typed values holds this one: {% if chosen|contains:u.id %}."""
    return str(value) in {str(v) for v in values or ()}


@register.filter
def error_text(errors: dict[str, str] | None) -> str:
    """Every message of a refused form in one line (a field may be called "items")."""
    return " ".join(str(m) for m in (errors or {}).values())
