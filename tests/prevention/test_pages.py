"""The prevention pages render for the posts they serve and refuse the others; 接待 records a
meeting from the person's talk page and the 管教 is reminded."""

from __future__ import annotations

import pytest

from tests.prevention.conftest import deliver

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("who", "url", "status"),
    [
        ("custodian", "/prevention/talks/", 200),
        ("command", "/prevention/talks/", 200),
        ("reception", "/prevention/talks/", 403),
        ("admission", "/prevention/exits/", 200),
        ("command", "/prevention/exits/", 200),
        ("custodian", "/prevention/exits/", 403),
        ("command", "/prevention/outings/", 200),
        ("medical", "/prevention/outings/", 200),
        ("reception", "/prevention/outings/", 403),
    ],
)
def test_who_sees_which_page(sign_in, more_staff, held, who, url, status):
    client = sign_in(more_staff[who])
    assert client.get(url).status_code == status


def test_pages_show_the_open_talk_the_blocked_exit_and_the_outing(
    sign_in, more_staff, held, terminal, message, ward
):
    from jianguan.devices.api import ingest
    from jianguan.prevention.api import talk_trigger
    from tests.prevention.conftest import T0

    talk_trigger(detainee=held, trigger="BAD_NEWS", source_ref="x", label="家庭变故", at=T0)
    ingest([message(terminal, "MATCH", {"number": held.number, "matched": False})], now=T0)
    deliver()
    client = sign_in(more_staff["command"])
    talks = client.get("/prevention/talks/?days=3650").content.decode()
    assert held.name in talks
    assert "得知不利消息后谈话" in talks
    exits = client.get("/prevention/exits/").content.decode()
    assert 'data-result="BLOCK"' in exits
    assert "比对未通过" in exits
    outings = client.get("/prevention/outings/").content.decode()
    assert ward.name in outings


def test_reception_records_a_meeting_on_the_talk_page(sign_in, more_staff, held):
    from django.utils import timezone

    from jianguan.prevention.api import TalkReminder

    client = sign_in(more_staff["reception"])
    page = client.get(f"/prevention/talks/{held.id}/")
    assert page.status_code == 200
    assert 'data-testid="meeting-form"' in page.content.decode()
    ended = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    answer = client.post(
        f"/prevention/talks/{held.id}/",
        {"kind": "FAMILY", "visitor": "张母", "ended_at": ended},
    )
    assert answer.status_code == 302
    refused = client.post(
        f"/prevention/talks/{held.id}/", {"kind": "FAMILY", "visitor": "", "ended_at": ended}
    )
    assert "请填写会见人" in refused.content.decode()
    deliver()
    assert TalkReminder.objects.get(detainee=held).trigger == "FAMILY_MEETING"


def test_a_pass_is_prepared_and_approved_on_the_exits_page(sign_in, more_staff, held):
    from jianguan.prevention.api import ExitPass, pass_missing

    client = sign_in(more_staff["admission"])
    client.post(
        "/prevention/exits/",
        {
            "action": "prepare",
            "detainee": str(held.id),
            "kind": "RELEASE",
            "document_number": "穗公释字〔2026〕7号",
        },
    )
    p = ExitPass.objects.get(detainee=held)
    assert pass_missing(p) == ["所领导已批准"]
    leader = sign_in(more_staff["leader"])
    leader.post("/prevention/exits/", {"action": "approve", "pass": str(p.id)})
    p.refresh_from_db()
    assert pass_missing(p) == []


def test_the_meeting_api(client, more_staff, held, make_user):
    from django.utils import timezone

    client.force_login(more_staff["reception"])
    answer = client.post(
        "/api/v1/prevention/meetings",
        {
            "detainee": str(held.id),
            "kind": "LAWYER",
            "visitor": "刘律师",
            "ended_at": timezone.now().isoformat(),
        },
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    client.force_login(more_staff["custodian"])
    refused = client.post(
        "/api/v1/prevention/meetings",
        {
            "detainee": str(held.id),
            "kind": "LAWYER",
            "visitor": "刘律师",
            "ended_at": timezone.now().isoformat(),
        },
        content_type="application/json",
    )
    assert refused.status_code == 403
