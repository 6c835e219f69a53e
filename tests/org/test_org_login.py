"""Logging in: throttling, the post requirement, the leaders' second factor and API tokens."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.utils import timezone
from tests.conftest import PASSWORD

from jianguan.audit.models import AuditEntry
from jianguan.core.actor import Actor
from jianguan.org.api import api_token_issue, totp_enrol
from jianguan.org.middleware import SECOND_FACTOR_SESSION_KEY
from jianguan.org.models import ApiToken, LoginAttempt, User

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")
LOCKED = "登录失败次数过多，账号已暂时锁定"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _post_login(client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password})


def _actions() -> list[str]:
    return list(AuditEntry.objects.order_by("seq").values_list("action", flat=True))


# --- password step ------------------------------------------------------------------------


def test_officer_logs_in_and_lands_on_home(make_user, client):
    """A 管教 with the right password is logged in, redirected to / and audited."""
    officer = make_user("gz_guanjiao", "CUSTODIAN")
    response = _post_login(client, "gz_guanjiao", PASSWORD)
    assert (response.status_code, response["Location"]) == (302, "/")
    assert client.session[SESSION_KEY] == str(officer.pk)
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.username, entry.unit_code, entry.address) == (
        "login.succeeded",
        "gz_guanjiao",
        "440100K01",
        "127.0.0.1",
    )
    assert client.get("/").status_code == 200


def test_wrong_password_is_refused_and_recorded(make_user, client):
    """A wrong password shows the error, logs nobody in and records one failure."""
    make_user("gz_guanjiao", "CUSTODIAN")
    response = _post_login(client, "gz_guanjiao", "wrong-password")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()
    assert SESSION_KEY not in client.session
    assert list(LoginAttempt.objects.values_list("username", "address")) == [
        ("gz_guanjiao", "127.0.0.1")
    ]
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.outcome, entry.username) == (
        "login.failed",
        "DENIED",
        "gz_guanjiao",
    )


def test_too_many_failures_lock_out_the_right_password(make_user, client):
    """After LOGIN_MAX_FAILURES failures even the right password is refused with the lock
    message; the refusal logs nobody in and adds no further failure row."""
    make_user("gz_guanjiao", "CUSTODIAN")
    limit = settings.LOGIN_MAX_FAILURES
    for _ in range(limit):
        assert "用户名或密码错误" in _post_login(client, "gz_guanjiao", "nope").content.decode()
    response = _post_login(client, "gz_guanjiao", PASSWORD)
    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    assert SESSION_KEY not in client.session
    assert LoginAttempt.objects.count() == limit
    assert "login.succeeded" not in _actions()


def test_failures_count_per_account_case_insensitively(make_user, client):
    """Failures typed with another letter case count against the same account."""
    make_user("gz_guanjiao", "CUSTODIAN")
    for _ in range(settings.LOGIN_MAX_FAILURES):
        _post_login(client, "GZ_GuanJiao", "nope")
    assert LOCKED in _post_login(client, "gz_guanjiao", PASSWORD).content.decode()


def test_lock_expires_after_the_window(make_user, client):
    """Failures older than LOGIN_LOCK_SECONDS no longer lock the account."""
    make_user("gz_guanjiao", "CUSTODIAN")
    for _ in range(settings.LOGIN_MAX_FAILURES):
        _post_login(client, "gz_guanjiao", "nope")
    LoginAttempt.objects.update(
        at=timezone.now() - dt.timedelta(seconds=settings.LOGIN_LOCK_SECONDS + 1)
    )
    assert _post_login(client, "gz_guanjiao", PASSWORD).status_code == 302


def test_success_clears_the_failures(make_user, client):
    """A success below the limit deletes the account's failures, so the count restarts."""
    make_user("gz_guanjiao", "CUSTODIAN")
    limit = settings.LOGIN_MAX_FAILURES
    for _ in range(limit - 1):
        _post_login(client, "gz_guanjiao", "nope")
    assert LoginAttempt.objects.count() == limit - 1
    assert _post_login(client, "gz_guanjiao", PASSWORD).status_code == 302
    assert LoginAttempt.objects.count() == 0
    client.post("/logout/")
    for _ in range(limit - 1):
        _post_login(client, "gz_guanjiao", "nope")
    assert _post_login(client, "gz_guanjiao", PASSWORD).status_code == 302


def test_user_without_post_cannot_log_in(tree, client):
    """A user with the right password but no post sees "尚未分配岗位" and stays logged out."""
    User.objects.create_user("nopost", password=PASSWORD, unit=tree["gz_k"])
    response = _post_login(client, "nopost", PASSWORD)
    assert response.status_code == 200
    assert "尚未分配岗位" in response.content.decode()
    assert SESSION_KEY not in client.session
    assert "login.succeeded" not in _actions()


def test_next_parameter_is_followed_only_within_the_site(make_user, client):
    """?next=/detainees/ is honoured; an off-site //evil.example is replaced by /."""
    make_user("gz_guanjiao", "CUSTODIAN")
    ok = client.post("/login/?next=/detainees/", {"username": "gz_guanjiao", "password": PASSWORD})
    assert ok["Location"] == "/detainees/"
    client.post("/logout/")
    evil = client.post(
        "/login/", {"username": "gz_guanjiao", "password": PASSWORD, "next": "//evil.example/"}
    )
    assert evil["Location"] == "/"


# --- second factor ------------------------------------------------------------------------


@pytest.fixture
def leader(make_user):
    user = make_user("gz_leader", "LEADER")
    totp_enrol(actor=ACTOR, user=user, secret=SECRET)
    return user


def test_leader_is_sent_to_totp_and_held_there(leader, client):
    """After the password a 所领导 is redirected to /login/totp/; /, /detainees/ and the API
    are closed (the API answers 401 SECOND_FACTOR_REQUIRED) and no success is audited yet."""
    response = _post_login(client, "gz_leader", PASSWORD)
    assert (response.status_code, response["Location"]) == (302, "/login/totp/")
    assert client.get("/")["Location"] == "/login/totp/"
    assert client.get("/detainees/")["Location"] == "/login/totp/"
    api = client.get("/api/v1/me")
    assert api.status_code == 401
    assert api.json() == {
        "code": "SECOND_FACTOR_REQUIRED",
        "message": "请先完成动态口令验证",
        "field": None,
    }
    assert "login.succeeded" not in _actions()
    assert client.get("/login/totp/").status_code == 200


def test_leader_with_wrong_code_stays_held(leader, client):
    """A wrong TOTP code shows an error, records a failure and keeps the pages closed."""
    _post_login(client, "gz_leader", PASSWORD)
    valid = {pyotp.TOTP(SECRET).at(timezone.now() + dt.timedelta(seconds=s)) for s in (-30, 0, 30)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)
    response = client.post("/login/totp/", {"code": wrong})
    assert response.status_code == 200
    assert "动态口令不正确" in response.content.decode()
    assert SECOND_FACTOR_SESSION_KEY not in client.session
    assert LoginAttempt.objects.filter(username="gz_leader").count() == 1
    assert client.get("/api/v1/me").status_code == 401


def test_leader_with_current_code_gets_in(leader, client):
    """The current TOTP code opens / and /api/v1/me and audits the success once."""
    _post_login(client, "gz_leader", PASSWORD)
    response = client.post("/login/totp/", {"code": pyotp.TOTP(SECRET).now()})
    assert (response.status_code, response["Location"]) == (302, "/")
    assert client.get("/").status_code == 200
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert (me.json()["username"], me.json()["posts"]) == ("gz_leader", ["LEADER"])
    assert _actions().count("login.succeeded") == 1


def test_leader_without_enrolment_cannot_pass(make_user, client):
    """A 所领导 who never enrolled is told to have TOTP bound and cannot reach the pages."""
    make_user("gz_leader", "LEADER")
    _post_login(client, "gz_leader", PASSWORD)
    response = client.post("/login/totp/", {"code": "123456"})
    assert "尚未绑定" in response.content.decode()
    assert client.get("/")["Location"] == "/login/totp/"


def test_leader_cannot_skip_totp_on_pages_with_a_bogus_authorization_header(leader, client):
    """An Authorization header that authenticates nobody must not open staff pages to a
    session that has not passed the second factor."""
    _post_login(client, "gz_leader", PASSWORD)
    response = client.get("/", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert (response.status_code, response.get("Location")) == (302, "/login/totp/")


def test_leader_cannot_skip_totp_on_the_api_with_a_bogus_bearer_token(leader, client):
    """A bogus Bearer token must not let the half-logged-in session through the API."""
    _post_login(client, "gz_leader", PASSWORD)
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 401
    assert response.json()["code"] in {"SECOND_FACTOR_REQUIRED", "UNAUTHENTICATED"}


# --- API tokens over HTTP -----------------------------------------------------------------


UNAUTHENTICATED = {"code": "UNAUTHENTICATED", "message": "未登录或令牌无效", "field": None}


def test_bearer_token_authenticates_the_api(make_user, client):
    """GET /api/v1/me with a valid Bearer token answers the token's user."""
    officer = make_user("gz_guanjiao", "CUSTODIAN")
    raw = api_token_issue(actor=ACTOR, user=officer, name="对接")
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    body = response.json()
    assert (body["username"], body["posts"], body["unit"]["code"]) == (
        "gz_guanjiao",
        ["CUSTODIAN"],
        "440100K01",
    )
    assert body["permissions"] == ["cell.view", "detainee.view", "education.handle"]


def test_revoked_token_is_unauthenticated(make_user, client):
    """A revoked token gets 401 UNAUTHENTICATED."""
    officer = make_user("gz_guanjiao", "CUSTODIAN")
    raw = api_token_issue(actor=ACTOR, user=officer, name="对接")
    ApiToken.objects.update(revoked_at=timezone.now())
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert (response.status_code, response.json()) == (401, UNAUTHENTICATED)


def test_expired_token_is_unauthenticated(make_user, client):
    """A token past its expiry gets 401 UNAUTHENTICATED."""
    officer = make_user("gz_guanjiao", "CUSTODIAN")
    raw = api_token_issue(actor=ACTOR, user=officer, name="对接")
    ApiToken.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert (response.status_code, response.json()) == (401, UNAUTHENTICATED)


def test_token_of_deactivated_user_is_unauthenticated(make_user, client):
    """Deactivating a user disables their tokens at once."""
    officer = make_user("gz_guanjiao", "CUSTODIAN")
    raw = api_token_issue(actor=ACTOR, user=officer, name="对接")
    User.objects.filter(pk=officer.pk).update(is_active=False)
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert (response.status_code, response.json()) == (401, UNAUTHENTICATED)


def test_unknown_token_and_no_credentials_are_unauthenticated(tree, client):
    """Neither a made-up token nor no credentials at all reach /api/v1/me."""
    bogus = client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer jg_made_up")
    assert (bogus.status_code, bogus.json()) == (401, UNAUTHENTICATED)
    anonymous = client.get("/api/v1/me")
    assert (anonymous.status_code, anonymous.json()) == (401, UNAUTHENTICATED)
