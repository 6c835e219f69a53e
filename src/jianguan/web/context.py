"""Template context every page needs: which node this is, and the user's posts."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from jianguan.duty.api import catalogue_for
from jianguan.org.api import Perm, has_perm, post_kinds

LEVEL_LABELS = {"facility": "监所", "city": "地市", "province": "省级", "national": "部级"}


def node(request: HttpRequest) -> dict[str, Any]:
    user: Any = request.user
    authenticated = user.is_authenticated
    return {
        "node_level": LEVEL_LABELS.get(settings.JIANGUAN_LEVEL, settings.JIANGUAN_LEVEL),
        "my_posts": post_kinds(user) if authenticated else (),
        "can_view_detainees": authenticated and has_perm(user, Perm.DETAINEE_VIEW),
        "can_administer": authenticated and (user.is_superuser or has_perm(user, Perm.ADMINISTER)),
        "can_view_audit": authenticated and has_perm(user, Perm.AUDIT_VIEW),
        "can_admit": authenticated and has_perm(user, Perm.DETAINEE_ADMIT),
        "can_lead": authenticated and has_perm(user, Perm.LEAD),
        "can_dispatch_tasks": authenticated and has_perm(user, Perm.TASK_DISPATCH),
        "can_edit_roster": authenticated and has_perm(user, Perm.ROSTER_EDIT),
        # A callable: the template reads the facility's duty pack only when the nav asks.
        "can_record_info": lambda: authenticated and bool(catalogue_for(user)),
    }
