"""Duty pages: who may open each, recording dynamic information, every action on a task through
its form, the refusals shown to the officer, and feedback photos kept inside the facility."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jianguan.duty.api import (
    InfoRecord,
    ShiftAssignment,
    Task,
    TaskState,
    TaskStep,
    info_record,
    task_accept,
    task_handle,
)

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def staff(make_user: Callable[..., Any]) -> dict[str, Any]:
    """广州一看's officers on the posts of the duty loop, and one officer elsewhere."""
    return {
        "patrol": make_user("gz_xunkong", "PATROL", full_name="吴巡控"),
        "custodian": make_user("gz_guanjiao", "CUSTODIAN", full_name="李管教"),
        "custodian2": make_user("gz_guanjiao2", "CUSTODIAN", full_name="王管教"),
        "admission": make_user("gz_shouya", "ADMISSION", full_name="郑收押"),
        "subcontrol": make_user("gz_fenkong", "SUBCONTROL", full_name="钱分控"),
        "command": make_user("gz_zhihui", "COMMAND", full_name="孙指挥"),
        "leader": make_user("gz_suozhang", "LEADER", full_name="周所长"),
        "sz_custodian": make_user("sz_guanjiao", "CUSTODIAN", unit="sz_k", full_name="深圳管教"),
        "city": make_user("gz_zhidao", "SUPERVISOR", unit="gz", full_name="市局指导"),
    }


@pytest.fixture
def held(make_detainee: Callable[..., Any]) -> Any:
    return make_detainee("gz_k", name="张三")


@pytest.fixture
def as_user() -> Callable[[Any], Client]:
    """A fresh client signed in as `user`, second factor passed (one client per officer)."""
    from jianguan.org.middleware import SECOND_FACTOR_SESSION_KEY

    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        session = client.session
        session[SECOND_FACTOR_SESSION_KEY] = True
        session.save()
        return client

    return make


@pytest.fixture
def anomaly(staff: dict[str, Any], held: Any) -> Callable[..., Task]:
    """The 巡控 officer records something about the held person; returns the task it became."""

    def record(category: str = "PATROL_ABNORMAL_BEHAVIOUR", **extra: Any) -> Task:
        saved = info_record(
            user=staff["patrol"],
            category=category,
            text=extra.pop("text", "凌晨2时在监室内来回走动，情绪激动"),
            detainee_id=held.id,
            **extra,
        )
        return saved.task  # type: ignore[attr-defined,no-any-return]

    return record


def _text(response: Any) -> str:
    return response.content.decode()


def _act(client: Client, task: Task, action: str, **data: Any) -> Any:
    return client.post(f"/duty/tasks/{task.id}/{action}/", data)


def _state(task: Task) -> str:
    return Task.objects.get(id=task.id).state


# --- who may open what -------------------------------------------------------------------


def test_anonymous_is_sent_to_login(db: Any) -> None:
    for url in ("/duty/", "/duty/record/", "/duty/board/", "/duty/roster/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


@pytest.mark.parametrize(
    ("who", "url", "status"),
    [
        ("patrol", "/duty/", 200),
        ("patrol", "/duty/record/", 200),
        ("patrol", "/duty/board/", 403),
        ("patrol", "/duty/roster/", 403),
        ("custodian", "/duty/", 200),
        ("custodian", "/duty/record/", 200),
        ("custodian", "/duty/board/", 403),
        ("admission", "/duty/", 200),
        ("admission", "/duty/record/", 403),  # 收押 records no dynamic information
        ("subcontrol", "/duty/board/", 200),
        ("subcontrol", "/duty/roster/", 200),
        ("command", "/duty/board/", 200),
        ("command", "/duty/roster/", 200),
        ("leader", "/duty/board/", 200),
        ("city", "/duty/", 403),  # the duty loop runs inside a facility
        ("city", "/duty/record/", 403),
    ],
)
def test_pages_open_for_the_right_posts(staff, as_user, who, url, status):
    response = as_user(staff[who]).get(url)
    assert response.status_code == status
    if status == 403:
        assert 'role="alert"' in _text(response)


def test_nav_offers_what_the_post_may_use(staff, as_user):
    patrol = _text(as_user(staff["patrol"]).get("/"))
    assert "/duty/record/" in patrol
    assert 'href="/duty/"' in patrol
    assert "/duty/board/" not in patrol
    assert "/duty/roster/" not in patrol
    admission = _text(as_user(staff["admission"]).get("/"))
    assert 'href="/duty/"' in admission
    assert "/duty/record/" not in admission
    command = _text(as_user(staff["command"]).get("/"))
    assert "/duty/board/" in command
    assert "/duty/roster/" in command
    city = _text(as_user(staff["city"]).get("/"))
    assert 'href="/duty/"' not in city


# --- 记录动态信息 ----------------------------------------------------------------------------


def test_record_form_lists_the_posts_catalogue_and_held_people(staff, held, make_detainee, as_user):
    make_detainee("sz_k", name="深圳甲")
    page = _text(as_user(staff["patrol"]).get("/duty/record/"))
    assert 'value="PATROL_ABNORMAL_BEHAVIOUR"' in page
    assert 'value="CUSTODIAN_MOOD"' not in page  # 管教's category
    assert "张三" in page
    assert "深圳甲" not in page


def test_record_makes_a_task_and_says_where_it_went(staff, held, as_user):
    patrol = as_user(staff["patrol"])
    response = patrol.post(
        "/duty/record/",
        {
            "category": "PATROL_ABNORMAL_BEHAVIOUR",
            "detainee": str(held.id),
            "text": "来回走动，情绪激动",
            "urgency": "",
        },
        follow=True,
    )
    assert response.redirect_chain == [("/duty/record/", 302)]
    page = _text(response)
    assert "已记录；已生成任务：异常行为（张三），派发至管教" in page
    task = Task.objects.get()
    assert (task.state, task.post_kind, task.urgency) == ("DISPATCHED", "CUSTODIAN", "HIGH")
    # My recent records show the task's state, linked.
    assert f'href="/duty/tasks/{task.id}/"' in page
    assert "待接收" in page

    mine = _text(as_user(staff["custodian"]).get("/duty/"))
    assert "异常行为（张三）" in mine
    assert f'action="/duty/tasks/{task.id}/accept/"' in mine


def test_information_only_record_opens_no_task(staff, held, as_user):
    response = as_user(staff["custodian"]).post(
        "/duty/record/",
        {"category": "CUSTODIAN_TALK_FINDING", "detainee": str(held.id), "text": "家中有变故"},
        follow=True,
    )
    assert "已记录：谈话发现" in _text(response)
    assert InfoRecord.objects.count() == 1
    assert Task.objects.count() == 0


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"text": "  "}, "text", "请写明情况"),
        ({"urgency": "NORMAL"}, "urgency", "只能调高不能调低"),
        ({"category": ""}, "category", "未知的信息类别"),
        ({"cell": "00000000-0000-0000-0000-000000000000"}, "cell", "本所没有该监室"),
    ],
)
def test_refused_record_shows_why_beside_the_field_and_keeps_input(
    staff, held, as_user, side_effects, form, field, message
):
    before = side_effects()
    data = {
        "category": "PATROL_ABNORMAL_BEHAVIOUR",
        "detainee": str(held.id),
        "text": "来回走动，情绪激动",
        **form,
    }
    response = as_user(staff["patrol"]).post("/duty/record/", data)
    assert response.status_code == 400
    page = _text(response)
    assert f'data-field="{field}"' in page
    assert message in page
    if data["category"]:
        assert f'value="{data["category"]}" selected' in page
    assert f'value="{held.id}" selected' in page
    if data["text"].strip():
        assert "来回走动，情绪激动</textarea>" in page
    assert InfoRecord.objects.count() == 0
    assert side_effects()["events"] == before["events"]


def test_category_of_another_post_is_refused(staff, held, as_user):
    response = as_user(staff["patrol"]).post(
        "/duty/record/", {"category": "CUSTODIAN_MOOD", "text": "情绪低落"}
    )
    assert response.status_code == 403
    assert InfoRecord.objects.count() == 0


# --- the loop through the task page -----------------------------------------------------


def test_accept_feedback_closes_with_every_step_shown(staff, anomaly, as_user):
    task = anomaly()
    custodian = as_user(staff["custodian"])

    response = _act(custodian, task, "accept")
    assert response.status_code == 302
    assert response["Location"] == f"/duty/tasks/{task.id}/"
    assert _state(task) == TaskState.ACCEPTED
    page = _text(custodian.get(f"/duty/tasks/{task.id}/"))
    assert "已接收，处置后请反馈" in page
    assert f'action="/duty/tasks/{task.id}/handle/"' in page
    assert 'enctype="multipart/form-data"' in page

    # Without feedback the task can not be closed; what was chosen stays.
    response = _act(custodian, task, "handle", feedback=" ", outcome="RESOLVED")
    assert response.status_code == 400
    page = _text(response)
    assert "请填写处置反馈" in page
    assert '<option value="RESOLVED" selected>' in page
    assert _state(task) == TaskState.ACCEPTED

    response = _act(custodian, task, "handle", feedback="谈话安抚，情绪平稳", outcome="RESOLVED")
    assert response.status_code == 302
    assert _state(task) == TaskState.CLOSED
    page = _text(custodian.get(f"/duty/tasks/{task.id}/"))
    assert "已反馈，任务已办结" in page
    assert "谈话安抚，情绪平稳" in page
    timeline = page[page.index('class="timeline"') :]
    assert [label for label in ("创建", "派发", "接收", "反馈", "办结") if label in timeline] == [
        "创建",
        "派发",
        "接收",
        "反馈",
        "办结",
    ]
    assert "已处置" in timeline
    assert "李管教 · 管教" in timeline
    # A closed task offers nothing more.
    assert "/accept/" not in page
    assert "/handle/" not in page
    assert "/duty/tasks/" not in _text(custodian.get("/duty/"))


def test_verify_and_return_are_for_dispatchers(staff, anomaly, as_user):
    task = anomaly("PATROL_EMERGENCY", text="两人在监室内发生推搡")  # needs verifying
    custodian, subcontrol = as_user(staff["custodian"]), as_user(staff["subcontrol"])
    _act(custodian, task, "accept")
    _act(custodian, task, "handle", feedback="已分开两人并谈话", outcome="RESOLVED")
    assert _state(task) == TaskState.HANDLED

    assert _act(custodian, task, "verify").status_code == 403
    page = _text(subcontrol.get(f"/duty/tasks/{task.id}/"))
    assert f'action="/duty/tasks/{task.id}/verify/"' in page
    assert f'action="/duty/tasks/{task.id}/return/"' in page

    response = _act(subcontrol, task, "return", reason="")
    assert response.status_code == 400
    assert "请写明退回的理由" in _text(response)
    assert _state(task) == TaskState.HANDLED

    assert _act(subcontrol, task, "return", reason="未说明是否有人受伤").status_code == 302
    assert _state(task) == TaskState.RETURNED
    _act(custodian, task, "handle", feedback="已查看，两人均未受伤", outcome="RESOLVED")
    assert _state(task) == TaskState.HANDLED
    assert _act(subcontrol, task, "verify", note="情况属实").status_code == 302
    assert _state(task) == TaskState.CLOSED
    actions = list(TaskStep.objects.filter(task=task).values_list("action", flat=True))
    assert actions == [
        "created",
        "dispatched",
        "accepted",
        "handled",
        "returned",
        "handled",
        "closed",
    ]


def test_reassign_to_one_officer_then_priority_and_cancel(staff, anomaly, as_user):
    task = anomaly()
    command = as_user(staff["command"])

    response = _act(command, task, "dispatch", post="CUSTODIAN", assignee=staff["sz_custodian"].id)
    assert response.status_code == 400
    assert "请选择本单位民警" in _text(response)

    response = _act(command, task, "dispatch", post="CUSTODIAN", assignee=staff["custodian2"].id)
    assert response.status_code == 302
    fresh = Task.objects.get(id=task.id)
    assert (fresh.state, fresh.assignee_id) == ("DISPATCHED", staff["custodian2"].id)
    # Sent to 王管教: 李管教 no longer sees it, 王管教 may accept it.
    assert "异常行为（张三）" not in _text(as_user(staff["custodian"]).get("/duty/"))
    assert f"/duty/tasks/{task.id}/accept/" in _text(as_user(staff["custodian2"]).get("/duty/"))

    assert _act(command, task, "urgency", urgency="URGENT").status_code == 302
    assert Task.objects.get(id=task.id).urgency == "URGENT"

    response = _act(command, task, "cancel", reason="")
    assert response.status_code == 400
    assert "请写明撤销的理由" in _text(response)
    assert _act(command, task, "cancel", reason="重复记录").status_code == 302
    assert _state(task) == TaskState.CANCELLED
    board = _text(command.get("/duty/board/"))
    closed = board[board.index('id="closed-today"') :]
    assert "异常行为（张三）" in closed
    assert "已撤销" in closed


def test_officer_without_the_post_cannot_act(staff, anomaly, as_user):
    task = anomaly()
    assert _act(as_user(staff["patrol"]), task, "accept").status_code == 403
    assert _act(as_user(staff["patrol"]), task, "cancel", reason="x").status_code == 403
    assert _act(as_user(staff["custodian"]), task, "nonsense").status_code == 404
    assert _state(task) == TaskState.DISPATCHED


def test_accept_lost_to_a_colleague_says_who_has_it(staff, anomaly, as_user):
    task = anomaly()
    first, second = as_user(staff["custodian"]), as_user(staff["custodian2"])
    # Both pages were opened while the task waited.
    assert f"/duty/tasks/{task.id}/accept/" in _text(second.get("/duty/"))
    assert _act(first, task, "accept").status_code == 302

    response = _act(second, task, "accept")
    assert response.status_code == 409
    page = _text(response)
    assert 'data-testid="task-error"' in page
    assert "该任务已由李管教接收" in page
    assert Task.objects.get(id=task.id).assignee_id == staff["custodian"].id


def test_another_facility_never_sees_the_task(staff, anomaly, as_user):
    task = anomaly()
    outsider = as_user(staff["sz_custodian"])
    for url in (f"/duty/tasks/{task.id}/", f"/duty/tasks/{task.id}/panel/", "/duty/tasks/x/"):
        response = outsider.get(url)
        assert response.status_code == 404
        assert "张三" not in _text(response)
    assert _act(outsider, task, "accept").status_code == 404
    assert _state(task) == TaskState.DISPATCHED
    assert "张三" not in _text(outsider.get("/duty/"))


def test_task_panel_is_empty_until_the_task_moves(staff, anomaly, as_user):
    task = anomaly()
    custodian = as_user(staff["custodian"])
    page = _text(custodian.get(f"/duty/tasks/{task.id}/"))
    assert f"/duty/tasks/{task.id}/panel/?seen=2" in page  # created, dispatched

    assert custodian.get(f"/duty/tasks/{task.id}/panel/?seen=2").status_code == 204
    task_accept(user=staff["custodian"], task=task)
    response = custodian.get(f"/duty/tasks/{task.id}/panel/?seen=2")
    assert response.status_code == 200
    assert "处置中" in _text(response)
    assert "?seen=3" in _text(response)


# --- photos ------------------------------------------------------------------------------


def test_feedback_photo_is_kept_and_shown_only_inside_the_facility(staff, anomaly, as_user):
    task = anomaly()
    custodian = as_user(staff["custodian"])
    _act(custodian, task, "accept")
    photo = SimpleUploadedFile("../../etc/evil name.png", PNG, content_type="image/png")
    response = custodian.post(
        f"/duty/tasks/{task.id}/handle/",
        {"feedback": "已谈话", "outcome": "RESOLVED", "photo": photo},
    )
    assert response.status_code == 302
    step = TaskStep.objects.get(task=task, action="handled")
    assert step.photo.name.startswith("tasks/")
    assert step.photo.name.endswith(".png")
    assert "evil" not in step.photo.name
    url = f"/duty/steps/{step.id}/photo/"
    assert url in _text(custodian.get(f"/duty/tasks/{task.id}/"))

    served = as_user(staff["leader"]).get(url)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == PNG
    assert served["Content-Type"] == "image/png"
    assert "no-store" in served["Cache-Control"]

    assert as_user(staff["sz_custodian"]).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the login page
    # A step without a photo is no photo.
    plain = TaskStep.objects.get(task=task, action="accepted")
    assert as_user(staff["leader"]).get(f"/duty/steps/{plain.id}/photo/").status_code == 404


def test_a_file_that_is_not_a_photo_is_refused(staff, anomaly, as_user):
    task = anomaly()
    custodian = as_user(staff["custodian"])
    _act(custodian, task, "accept")
    response = custodian.post(
        f"/duty/tasks/{task.id}/handle/",
        {
            "feedback": "已谈话",
            "outcome": "RESOLVED",
            "photo": SimpleUploadedFile("x.png", b"<script>", content_type="image/png"),
        },
    )
    assert response.status_code == 400
    page = _text(response)
    assert "只接受 JPEG 或 PNG 格式的照片" in page
    assert "已谈话</textarea>" in page
    assert _state(task) == TaskState.ACCEPTED


# --- 任务指挥 and 排班 --------------------------------------------------------------------------


def test_board_lists_open_tasks_and_deploys_a_manual_one(staff, anomaly, as_user):
    anomaly()
    anomaly("PATROL_EMERGENCY", text="自伤迹象")
    command = as_user(staff["command"])
    page = _text(command.get("/duty/board/"))
    opened = page[page.index('id="open-tasks"') : page.index('id="closed-today"')]
    # Most urgent first.
    assert opened.index("突发事件") < opened.index("异常行为")
    assert 'data-testid="count-open">2<' in page

    response = command.post(
        "/duty/board/",
        {"title": " ", "detail": "夜间加强巡视", "post": "PATROL", "urgency": "HIGH"},
    )
    assert response.status_code == 400
    page = _text(response)
    assert 'data-field="title"' in page
    assert "夜间加强巡视</textarea>" in page

    response = command.post(
        "/duty/board/",
        {"title": "加强3监室巡视", "detail": "", "post": "PATROL", "urgency": "HIGH"},
        follow=True,
    )
    assert "已部署任务：加强3监室巡视，派发至巡控" in _text(response)
    deployed = Task.objects.get(title="加强3监室巡视")
    assert (deployed.source, deployed.post_kind, deployed.state) == (
        "MANUAL",
        "PATROL",
        "DISPATCHED",
    )
    assert "加强3监室巡视" in _text(as_user(staff["patrol"]).get("/duty/"))


def test_board_panel_and_my_list_read_a_fixed_number_of_queries(staff, anomaly, as_user):
    anomaly()
    command, custodian = as_user(staff["command"]), as_user(staff["custodian"])
    command.get("/duty/board/panel/")
    custodian.get("/duty/mine/")
    with CaptureQueriesContext(connection) as few_board:
        command.get("/duty/board/panel/")
    with CaptureQueriesContext(connection) as few_mine:
        custodian.get("/duty/mine/")
    for _ in range(4):
        anomaly()
    with CaptureQueriesContext(connection) as many_board:
        assert command.get("/duty/board/panel/").status_code == 200
    with CaptureQueriesContext(connection) as many_mine:
        assert custodian.get("/duty/mine/").status_code == 200
    assert len(many_board) == len(few_board)
    assert len(many_mine) == len(few_mine)


def test_roster_adds_a_shift_and_my_page_names_who_is_on(staff, as_user):
    command = as_user(staff["command"])
    start = timezone.localtime() - dt.timedelta(hours=1)
    end = start + dt.timedelta(hours=8)
    form = {
        "officer": str(staff["custodian"].id),
        "post": "PATROL",  # a post 李管教 does not hold
        "starts_at": f"{start:%Y-%m-%dT%H:%M}",
        "ends_at": f"{end:%Y-%m-%dT%H:%M}",
    }
    response = command.post("/duty/roster/", form)
    assert response.status_code == 400
    assert 'data-field="post"' in _text(response)
    assert f'value="{staff["custodian"].id}" selected' in _text(response)
    assert ShiftAssignment.objects.count() == 0

    response = command.post("/duty/roster/", {**form, "post": "CUSTODIAN"}, follow=True)
    page = _text(response)
    assert "已排班：李管教 · 管教" in page
    today = page[page.index('id="day-1"') : page.index('id="day-2"')]
    assert "李管教" in today
    assert "李管教" in _text(as_user(staff["custodian2"]).get("/duty/")).split("当班民警")[1]

    # Dispatchers read the roster; only roster editors change it.
    subcontrol = as_user(staff["subcontrol"])
    assert 'name="officer"' not in _text(subcontrol.get("/duty/roster/"))
    assert subcontrol.post("/duty/roster/", form).status_code == 403


# --- the activity feed reads the duty events --------------------------------------------


def test_every_duty_event_reads_as_a_sentence(staff, anomaly, as_user):
    from jianguan.activity.api import summarise
    from jianguan.outbox.models import Event

    task = anomaly()
    task = task_accept(user=staff["custodian"], task=task)
    task_handle(user=staff["custodian"], task=task, feedback="谈话安抚", outcome="RESOLVED")
    start = timezone.now()
    as_user(staff["command"]).post(
        "/duty/roster/",
        {
            "officer": str(staff["patrol"].id),
            "post": "PATROL",
            "starts_at": f"{timezone.localtime(start):%Y-%m-%dT%H:%M}",
            "ends_at": f"{timezone.localtime(start) + dt.timedelta(hours=8):%Y-%m-%dT%H:%M}",
        },
    )
    lines = {
        e.type: summarise(e.type, e.payload) for e in Event.objects.filter(type__startswith="duty.")
    }
    assert lines["duty.info_recorded"] == "记录动态信息「异常行为」张三"
    assert lines["duty.task_dispatched"] == "任务「异常行为（张三）」派发至管教"
    assert lines["duty.task_accepted"] == "接收任务：异常行为（张三）"
    assert lines["duty.task_handled"] == "反馈任务「异常行为（张三）」：谈话安抚"
    assert lines["duty.task_closed"] == "任务办结：异常行为（张三）"
    assert lines["duty.shift_added"].startswith("排班 gz_xunkong：")
    assert all(line != kind for kind, line in lines.items())
