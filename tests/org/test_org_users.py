"""Users and posts: refusals that write nothing, post permissions as data, TOTP, API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pyotp
import pytest
from django.utils import timezone
from tests.conftest import PASSWORD

from jianguan.audit.models import AuditEntry
from jianguan.core.actor import Actor
from jianguan.core.errors import DomainError
from jianguan.org.api import (
    Perm,
    api_token_issue,
    api_token_user,
    has_perm,
    post_update,
    totp_enrol,
    totp_verify,
    user_create,
)
from jianguan.org.models import ApiToken, Post, User
from jianguan.outbox.models import Event

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")


def _create_refused(side_effects, **kwargs) -> DomainError:
    before = side_effects()
    with pytest.raises(DomainError) as exc:
        user_create(actor=ACTOR, password=PASSWORD, full_name="某人", **kwargs)
    assert side_effects() == before
    return exc.value


# --- user_create --------------------------------------------------------------------------


def test_user_without_post_is_refused(tree, side_effects):
    """A user must hold a post: posts=[] is NO_POST on `posts` and writes nothing."""
    err = _create_refused(side_effects, username="nopost", unit=tree["gz_k"], posts=[])
    assert (err.code, err.field) == ("NO_POST", "posts")
    assert not User.objects.filter(username="nopost").exists()


def test_user_with_unknown_post_is_refused_naming_it(tree, side_effects):
    """An unknown post kind is UNKNOWN_POST on `posts`, naming only the unknown kind."""
    err = _create_refused(
        side_effects, username="chef", unit=tree["gz_k"], posts=["CUSTODIAN", "CHEF"]
    )
    assert (err.code, err.field, err.message) == ("UNKNOWN_POST", "posts", "未知的岗位：CHEF")
    assert not User.objects.filter(username="chef").exists()


def test_duplicate_username_is_refused(make_user, tree, side_effects):
    """A taken username (after trimming spaces) is DUPLICATE_USERNAME on `username`."""
    make_user("gz_guanjiao", "CUSTODIAN")
    err = _create_refused(
        side_effects, username=" gz_guanjiao ", unit=tree["gz_j"], posts=["PATROL"]
    )
    assert (err.code, err.field) == ("DUPLICATE_USERNAME", "username")
    assert User.objects.get(username="gz_guanjiao").unit == tree["gz_k"]


def test_user_create_writes_user_audit_and_event(tree, side_effects):
    """A valid create stores the user with posts, one audit entry and one event."""
    before = side_effects()
    user = user_create(
        actor=ACTOR,
        username="gz_xunkong",
        password=PASSWORD,
        full_name=" 李四 ",
        unit=tree["gz_k"],
        posts=["PATROL"],
        police_number="012345",
    )
    after = side_effects()
    assert {k: after[k] - before[k] for k in after} == {
        "units": 0,
        "users": 1,
        "tokens": 0,
        "audit": 1,
        "events": 1,
        "activity": 0,
    }
    user.refresh_from_db()
    assert (user.full_name, user.police_number, user.unit, user.check_password(PASSWORD)) == (
        "李四",
        "012345",
        tree["gz_k"],
        True,
    )
    assert list(user.posts.values_list("kind", flat=True)) == ["PATROL"]
    payload = {"username": "gz_xunkong", "name": "李四", "unit": "440100K01", "posts": ["PATROL"]}
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.object_id, entry.detail) == ("user.created", str(user.id), payload)
    event = Event.objects.get(aggregate_id=str(user.id))
    assert (event.type, event.unit_code, event.payload) == ("user.created", "440100K01", payload)


# --- posts and permissions ----------------------------------------------------------------


def test_patrol_post_lacks_admit(make_user):
    """A 巡控 may view detainees but not admit them (default permissions)."""
    patrol = make_user("gz_xunkong", "PATROL")
    assert has_perm(patrol, Perm.DETAINEE_VIEW) is True
    assert has_perm(patrol, Perm.DETAINEE_ADMIT) is False


def test_post_update_takes_effect_for_holders(make_user):
    """Granting detainee.admit to 巡控 lets a freshly loaded 巡控 user admit; it is audited."""
    patrol = make_user("gz_xunkong", "PATROL")
    post = Post.objects.get(kind="PATROL")
    before_events = Event.objects.count()
    post_update(actor=ACTOR, post=post, permissions=[*post.permissions, "detainee.admit"])
    assert has_perm(User.objects.get(pk=patrol.pk), Perm.DETAINEE_ADMIT) is True
    post.refresh_from_db()
    assert post.permissions == [
        "cell.view",
        "detainee.admit",
        "detainee.view",
        "patrol.handle",
    ]
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.object_id, entry.detail["permissions"]) == (
        "post.changed",
        str(post.id),
        post.permissions,
    )
    assert Event.objects.count() == before_events + 1


def test_post_update_revoking_view_hides_detainees(make_user):
    """Taking detainee.view away from 管教 removes the permission from its holders."""
    officer = make_user("gz_guanjiao", "CUSTODIAN")
    post = Post.objects.get(kind="CUSTODIAN")
    post_update(actor=ACTOR, post=post, permissions=["cell.view"])
    assert has_perm(User.objects.get(pk=officer.pk), Perm.DETAINEE_VIEW) is False


def test_post_update_with_unknown_permission_changes_nothing(make_user, side_effects):
    """An unknown permission code is UNKNOWN_PERMISSION; the post keeps its set."""
    post = Post.objects.get(kind="PATROL")
    original = list(post.permissions)
    before = side_effects()
    with pytest.raises(DomainError) as exc:
        post_update(actor=ACTOR, post=post, permissions=["detainee.view", "fly.away"])
    assert (exc.value.code, exc.value.field) == ("UNKNOWN_PERMISSION", "permissions")
    assert side_effects() == before
    assert Post.objects.get(kind="PATROL").permissions == original


def test_inactive_user_has_no_permissions(make_user):
    """A deactivated user holds no permission even though the post still grants it."""
    officer = make_user("gz_guanjiao", "CUSTODIAN")
    User.objects.filter(pk=officer.pk).update(is_active=False)
    assert has_perm(User.objects.get(pk=officer.pk), Perm.DETAINEE_VIEW) is False


# --- TOTP ---------------------------------------------------------------------------------


def _wrong_code(totp: pyotp.TOTP, at: dt.datetime) -> str:
    """A six-digit code valid in none of the three accepted windows around `at`."""
    valid = {totp.at(at + dt.timedelta(seconds=s)) for s in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def test_totp_accepts_current_code_and_rejects_a_wrong_one(make_user):
    """totp_verify accepts the code pyotp computes now and refuses any other six digits."""
    leader = make_user("gz_leader", "LEADER")
    secret = totp_enrol(actor=ACTOR, user=leader, secret=pyotp.random_base32())
    totp = pyotp.TOTP(secret)
    now = timezone.now()
    assert totp_verify(leader, totp.now()) is True
    assert totp_verify(leader, _wrong_code(totp, now)) is False
    assert totp_verify(leader, "12a456") is False
    assert totp_verify(leader, "") is False


def test_totp_accepts_adjacent_windows_only():
    """At a fixed instant the codes of the previous, current and next 30 s are accepted; the
    code of the window after next and one from ten minutes earlier are refused."""
    user = User(username="x", totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    at = dt.datetime(2025, 1, 1, 8, 0, tzinfo=dt.UTC)
    # pyotp.TOTP(secret).at(at + offset) for offsets -30 s, 0, +30 s, +60 s and -10 min.
    assert [totp_verify(user, c, at=at) for c in ("086657", "086516", "803398")] == [True] * 3
    assert totp_verify(user, "021637", at=at) is False
    assert totp_verify(user, "415769", at=at) is False


def test_totp_without_secret_refuses_everything(make_user):
    """A user who never enrolled cannot pass the second factor with any code."""
    leader = make_user("gz_leader", "LEADER")
    assert totp_verify(leader, "123456") is False


def test_totp_enrol_is_audited_without_the_secret(make_user):
    """Enrolment writes user.totp_enrolled; the secret appears in no audit entry."""
    leader = make_user("gz_leader", "LEADER")
    secret = totp_enrol(actor=ACTOR, user=leader)
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.object_id) == ("user.totp_enrolled", str(leader.id))
    assert not any(secret in json.dumps(e.detail) for e in AuditEntry.objects.all()), (
        "the TOTP secret leaked into the audit log"
    )


# --- API tokens (service level; HTTP in tests/api) ----------------------------------------


def test_api_token_stores_only_its_digest(make_user):
    """The raw token is returned once; the row holds its SHA-256 and an 8-char prefix only."""
    officer = make_user("gz_guanjiao", "CUSTODIAN")
    raw = api_token_issue(actor=ACTOR, user=officer, name="对接")
    token = ApiToken.objects.get(user=officer)
    assert raw.startswith("jg_")
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert token.prefix == raw[:8]
    stored = [str(v) for v in ApiToken.objects.values_list().get(pk=token.pk)]
    assert raw not in stored
    assert not any(raw in json.dumps(e.detail) for e in AuditEntry.objects.all())
    assert api_token_user(raw) == officer
    assert api_token_user(raw + "x") is None


def test_api_token_expires_after_the_given_days(make_user):
    """A token is issued for `days` days; past expiry it resolves to no user."""
    officer = make_user("gz_guanjiao", "CUSTODIAN")
    raw = api_token_issue(actor=ACTOR, user=officer, name="对接", days=30)
    token = ApiToken.objects.get(user=officer)
    assert token.expires_at - token.created_at == pytest.approx(
        dt.timedelta(days=30), abs=dt.timedelta(seconds=5)
    )
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert api_token_user(raw) is None
