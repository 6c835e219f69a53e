"""Public face of the org app: who a user is, what they may do, which units they may see."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from typing import Any

import pyotp
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from jianguan.audit.api import audit_record
from jianguan.codes.api import require_code
from jianguan.core.actor import Actor, actor_of, post_kinds_of
from jianguan.core.errors import DomainError, NotFound, PermissionDenied
from jianguan.org.models import (
    ApiToken,
    FacilityKind,
    LoginAttempt,
    Post,
    Unit,
    UnitLevel,
    User,
)
from jianguan.org.permissions import DEFAULT_POST_PERMS, SECOND_FACTOR_POSTS, Perm, PostKind
from jianguan.outbox.api import change_record

# The session flag set once a user has passed the second factor.
SECOND_FACTOR_SESSION_KEY = "jianguan_second_factor_ok"

__all__ = [
    "FacilityKind",
    "Perm",
    "PostKind",
    "Unit",
    "UnitLevel",
    "User",
]

_PARENT_LEVEL = {
    UnitLevel.PROVINCE: UnitLevel.NATIONAL,
    UnitLevel.CITY: UnitLevel.PROVINCE,
    UnitLevel.FACILITY: UnitLevel.CITY,
}


# --- who is acting ------------------------------------------------------------------------


def post_kinds(user: User) -> tuple[str, ...]:
    return post_kinds_of(user)


def actor_for(user: User, *, address: str | None = None) -> Actor:
    return actor_of(user, address=address)


def user_perms(user: User) -> frozenset[str]:
    """The permissions of all the user's posts, read in one query and kept for the request."""
    cached = getattr(user, "_jianguan_perms", None)
    if cached is None:
        perms: set[str] = set()
        kinds: list[str] = []
        for kind, granted in user.posts.values_list("kind", "permissions"):
            kinds.append(kind)
            perms.update(granted)
        cached = frozenset(perms) if user.is_active else frozenset()
        user._jianguan_perms = cached  # type: ignore[attr-defined]
        user._jianguan_post_kinds = tuple(sorted(kinds))  # type: ignore[attr-defined]
    return cached


def has_perm(user: Any, perm: Perm) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and perm.value in user_perms(user)


def require_perm(user: Any, perm: Perm) -> None:
    if not has_perm(user, perm):
        raise PermissionDenied(f"当前岗位无“{perm.label}”权限")


def needs_second_factor(user: User) -> bool:
    return user.is_superuser or bool(set(post_kinds(user)) & {str(k) for k in SECOND_FACTOR_POSTS})


# --- scope: which units a user may see ---------------------------------------------------


def scope_units(user: User) -> QuerySet[Unit]:
    """The user's unit and every unit below it; nothing for a user without a unit."""
    if user.unit is None:
        return Unit.objects.none()
    return Unit.objects.filter(path__startswith=user.unit.path)


def scope_unit_codes(user: User) -> QuerySet[Any]:
    return scope_units(user).values("code")


def scope_unit_ids(user: User) -> QuerySet[Any]:
    return scope_units(user).values("id")


def access_unit(*, user: User, id: uuid.UUID | str) -> Unit:
    """A unit in the user's scope; missing and out-of-scope both answer NotFound, audited."""
    try:
        return scope_units(user).get(id=id)
    except (Unit.DoesNotExist, ValueError, ValidationError):
        audit_record(
            actor=actor_for(user),
            action="unit.view",
            object_type="unit",
            object_id=str(id)[:64],
            outcome="DENIED",
        )
        raise NotFound("单位") from None


def units_facilities(user: User) -> QuerySet[Unit]:
    return scope_units(user).filter(level=UnitLevel.FACILITY)


# --- units -------------------------------------------------------------------------------


def _unit_path(parent: Unit | None, code: str) -> str:
    return f"{parent.path if parent else '/'}{code}/"


def unit_check_new(
    *, code: str, name: str, level: str, region_code: str, parent: Unit | None, facility_kind: str
) -> None:
    """Raise DomainError if such a unit may not be created (used by forms before saving)."""
    if not code.strip() or not name.strip():
        raise DomainError(
            "REQUIRED", "单位代码和名称不能为空", field="code" if not code.strip() else "name"
        )
    if Unit.objects.filter(code=code.strip()).exists():
        raise DomainError("DUPLICATE_CODE", f"单位代码 {code.strip()} 已存在", field="code")
    if level not in UnitLevel.values:
        raise DomainError("UNKNOWN_LEVEL", f"未知的单位层级 {level}", field="level")
    expected_parent = _PARENT_LEVEL.get(UnitLevel(level))
    if expected_parent is None and parent is not None:
        raise DomainError("BAD_PARENT", "部级单位没有上级单位", field="parent")
    if expected_parent is not None and (parent is None or parent.level != expected_parent):
        raise DomainError(
            "BAD_PARENT",
            f"{UnitLevel(level).label}单位的上级必须是{expected_parent.label}单位",
            field="parent",
        )
    if level == UnitLevel.FACILITY and facility_kind not in FacilityKind.values:
        raise DomainError(
            "FACILITY_KIND_REQUIRED",
            "监所必须选择类型（看守所/拘留所/戒毒所）",
            field="facility_kind",
        )
    if level != UnitLevel.NATIONAL:
        # The region table holds provinces and cities; a county code is checked by its city.
        known = region_code if level == UnitLevel.PROVINCE else region_code[:4] + "00"
        require_code(table="REGION", code=known, field="region_code")


@transaction.atomic
def unit_create(
    *,
    actor: Actor,
    code: str,
    name: str,
    level: str,
    region_code: str,
    parent: Unit | None,
    facility_kind: str = "",
) -> Unit:
    """Create a unit under its parent, checking the level order and the region code."""
    unit_check_new(
        code=code,
        name=name,
        level=level,
        region_code=region_code,
        parent=parent,
        facility_kind=facility_kind,
    )
    code, name = code.strip(), name.strip()
    if level != UnitLevel.FACILITY:
        facility_kind = ""
    unit = Unit.objects.create(
        code=code,
        name=name,
        level=level,
        facility_kind=facility_kind,
        region_code=region_code,
        parent=parent,
        path=_unit_path(parent, code),
    )
    _record(actor, "unit.created", unit, {"code": code, "name": name, "level": level})
    return unit


@transaction.atomic
def unit_update(*, actor: Actor, unit: Unit, name: str, is_active: bool) -> Unit:
    """Rename or (de)activate a unit. Codes and places in the tree do not change."""
    if not name.strip():
        raise DomainError("REQUIRED", "名称不能为空", field="name")
    unit.name, unit.is_active = name.strip(), is_active
    unit.save(update_fields=["name", "is_active"])
    _record(
        actor, "unit.changed", unit, {"code": unit.code, "name": unit.name, "is_active": is_active}
    )
    return unit


def _record(actor: Actor, event_type: str, unit: Unit, payload: dict[str, Any]) -> None:
    change_record(
        actor=actor,
        type=event_type,
        aggregate_type="unit",
        aggregate_id=unit.id,
        unit_code=unit.code,
        payload=payload,
    )


# --- posts and users ---------------------------------------------------------------------


@transaction.atomic
def posts_ensure_defaults() -> int:
    """Create any missing post with its default permissions; existing posts keep their set."""
    created = 0
    for kind in PostKind:
        _, was_created = Post.objects.get_or_create(
            kind=kind,
            defaults={
                "name": kind.label,
                "permissions": [p.value for p in DEFAULT_POST_PERMS[kind]],
            },
        )
        created += was_created
    return created


@transaction.atomic
def post_update(*, actor: Actor, post: Post, permissions: list[str]) -> Post:
    unknown = sorted(set(permissions) - set(Perm.values))
    if unknown:
        raise DomainError(
            "UNKNOWN_PERMISSION", f"未知的权限：{'、'.join(unknown)}", field="permissions"
        )
    post.permissions = sorted(set(permissions))
    post.save(update_fields=["permissions"])
    payload = {"kind": post.kind, "name": post.name, "permissions": post.permissions}
    change_record(
        actor=actor,
        type="post.changed",
        aggregate_type="post",
        aggregate_id=post.id,
        unit_code=actor.unit_code,
        payload=payload,
    )
    return post


@transaction.atomic
def user_create(
    *,
    actor: Actor,
    username: str,
    password: str,
    full_name: str,
    unit: Unit,
    posts: list[str],
    police_number: str = "",
    gender: str = "",
) -> User:
    """Create a user at a unit holding at least one post."""
    username = username.strip()
    if not username:
        raise DomainError("REQUIRED", "用户名不能为空", field="username")
    if User.objects.filter(username=username).exists():
        raise DomainError("DUPLICATE_USERNAME", f"用户名 {username} 已存在", field="username")
    if not posts:
        raise DomainError("NO_POST", "用户必须至少担任一个岗位", field="posts")
    post_rows = list(Post.objects.filter(kind__in=posts))
    if len(post_rows) != len(set(posts)):
        missing = sorted(set(posts) - {p.kind for p in post_rows})
        raise DomainError("UNKNOWN_POST", f"未知的岗位：{'、'.join(missing)}", field="posts")
    if gender not in ("", "1", "2"):
        raise DomainError("BAD_GENDER", "性别只能是 1（男）或 2（女）", field="gender")
    user = User(
        username=username,
        full_name=full_name.strip(),
        unit=unit,
        police_number=police_number,
        gender=gender,
    )
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError("WEAK_PASSWORD", "；".join(exc.messages), field="password") from None
    user.set_password(password)
    user.save()
    user.posts.set(post_rows)
    payload = {
        "username": username,
        "name": user.full_name,
        "unit": unit.code,
        "posts": sorted(posts),
    }
    change_record(
        actor=actor,
        type="user.created",
        aggregate_type="user",
        aggregate_id=user.id,
        unit_code=unit.code,
        payload=payload,
    )
    return user


# --- second factor (TOTP) -----------------------------------------------------------------


@transaction.atomic
def totp_enrol(*, actor: Actor, user: User, secret: str | None = None) -> str:
    """Give the user a TOTP secret (shown once as a provisioning URI) and return the secret."""
    user.totp_secret = secret or pyotp.random_base32()
    user.save(update_fields=["totp_secret"])
    audit_record(actor=actor, action="user.totp_enrolled", object_type="user", object_id=user.id)
    return user.totp_secret


def totp_uri(user: User) -> str:
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.username, issuer_name="jianguan")


def totp_verify(user: User, code: str, *, at: dt.datetime | None = None) -> bool:
    if not user.totp_secret or not code.strip().isdigit():
        return False
    return bool(pyotp.TOTP(user.totp_secret).verify(code.strip(), for_time=at, valid_window=1))


# --- login throttling ---------------------------------------------------------------------


def login_locked(*, username: str, address: str | None) -> bool:
    """Too many recent failures for this account, or from this address."""
    since = timezone.now() - dt.timedelta(seconds=settings.LOGIN_LOCK_SECONDS)
    recent = LoginAttempt.objects.filter(at__gte=since)
    limit = settings.LOGIN_MAX_FAILURES
    if recent.filter(username=username.lower()).count() >= limit:
        return True
    # An address gets more room: one office may share a NAT address.
    return bool(address) and recent.filter(address=address).count() >= limit * 4


def login_failed(*, username: str, address: str | None) -> None:
    with transaction.atomic():
        LoginAttempt.objects.create(username=username.lower(), address=address, at=timezone.now())
        audit_record(
            actor=Actor(user_id=None, username=username, unit_code="", posts=(), address=address),
            action="login.failed",
            outcome="DENIED",
        )


def login_succeeded(*, user: User, address: str | None) -> None:
    with transaction.atomic():
        LoginAttempt.objects.filter(username=user.username.lower()).delete()
        audit_record(actor=actor_for(user, address=address), action="login.succeeded")


# --- API tokens ---------------------------------------------------------------------------


def _token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_issue(*, actor: Actor, user: User, name: str, days: int = 365) -> str:
    """Issue a token for a machine client; the raw value is returned once and never stored."""
    raw = "jg_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        digest=_token_digest(raw),
        prefix=raw[:8],
        expires_at=timezone.now() + dt.timedelta(days=days),
    )
    audit_record(
        actor=actor,
        action="api_token.issued",
        object_type="api_token",
        object_id=token.id,
        detail={"user": user.username, "name": name},
    )
    return raw


def api_token_user(raw: str) -> User | None:
    """The active user a valid, unexpired, unrevoked token belongs to."""
    token = (
        ApiToken.objects.select_related("user", "user__unit")
        .filter(digest=_token_digest(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    if token.expires_at and token.expires_at < timezone.now():
        return None
    return token.user


@transaction.atomic
def user_record_admin_change(*, actor: Actor, user: User, created: bool) -> None:
    """Audit and publish an administrator's save of a user in the admin site."""
    if not user.is_superuser and not user.posts.exists():
        raise DomainError("NO_POST", "用户必须至少担任一个岗位", field="posts")
    unit_code = user.unit.code if user.unit else ""
    payload = {
        "username": user.username,
        "name": user.full_name or user.username,
        "unit": unit_code,
        "posts": sorted(user.posts.values_list("kind", flat=True)),
        "is_active": user.is_active,
    }
    event_type = "user.created" if created else "user.changed"
    change_record(
        actor=actor,
        type=event_type,
        aggregate_type="user",
        aggregate_id=user.id,
        unit_code=unit_code,
        payload=payload,
    )


def user_by_username(username: str) -> User | None:
    return User.objects.select_related("unit").filter(username=username).first()


def user_by_id_in_unit(unit: Unit, id: str) -> User | None:
    """An active user of this unit, or None (a wrong or foreign id is not an error here)."""
    try:
        return User.objects.filter(unit=unit, is_active=True, id=id).first()
    except (ValueError, ValidationError):
        return None


def users_of_unit(unit: Unit) -> QuerySet[User]:
    return User.objects.filter(unit=unit, is_active=True).order_by("full_name", "username")
