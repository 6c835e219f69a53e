"""The duty loop (勤务): who holds which post when, the dynamic information each post records,
and the tasks it becomes — with every step of each task kept."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from jianguan.core.models import UUIDModel


class Urgency(models.TextChoices):
    URGENT = "URGENT", "紧急"
    HIGH = "HIGH", "重要"
    NORMAL = "NORMAL", "一般"


URGENCY_RANK = {Urgency.URGENT: 0, Urgency.HIGH: 1, Urgency.NORMAL: 2}


class TaskState(models.TextChoices):
    CREATED = "CREATED", "待派发"
    DISPATCHED = "DISPATCHED", "待接收"
    ACCEPTED = "ACCEPTED", "处置中"
    RETURNED = "RETURNED", "退回重办"
    HANDLED = "HANDLED", "待核验"
    CLOSED = "CLOSED", "已办结"
    CANCELLED = "CANCELLED", "已撤销"


OPEN_STATES = (
    TaskState.CREATED,
    TaskState.DISPATCHED,
    TaskState.ACCEPTED,
    TaskState.RETURNED,
    TaskState.HANDLED,
)


class Outcome(models.TextChoices):
    RESOLVED = "RESOLVED", "已处置"
    NO_ISSUE = "NO_ISSUE", "核实无异常"
    REFERRED = "REFERRED", "已移交处理"
    WATCH = "WATCH", "持续关注"
    FALSE_ALARM = "FALSE_ALARM", "设备误报"


class TaskSource(models.TextChoices):
    RECORD = "RECORD", "动态信息"
    NOTICE = "NOTICE", "期限提醒"
    MANUAL = "MANUAL", "指挥部署"
    RISK = "RISK", "风险管控"
    DEVICE = "DEVICE", "设备告警"
    PREVENT = "PREVENT", "安全防范"


class ShiftAssignment(UUIDModel):
    """One officer holding one post at a facility for a stretch of time (排班)."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    post_kind = models.CharField("岗位", max_length=24)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shifts"
    )
    starts_at = models.DateTimeField("上岗")
    ends_at = models.DateTimeField("下岗")
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "排班"
        verbose_name_plural = "排班"
        indexes = [models.Index(fields=["unit", "post_kind", "ends_at"], name="shift_now")]

    def __str__(self) -> str:
        return f"{self.post_kind} {self.user_id} {self.starts_at:%m-%d %H:%M}"


class InfoRecord(UUIDModel):
    """One item of dynamic information (监管动态信息) recorded by a post."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    category = models.CharField("类别代码", max_length=48)
    category_name = models.CharField("类别", max_length=60)
    post_kind = models.CharField("记录岗位", max_length=24)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("记录时间", db_index=True)
    detainee = models.ForeignKey(
        "custody.Detainee", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cell = models.ForeignKey(
        "housing.Cell", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    text = models.TextField("情况")
    urgency = models.CharField("紧急程度", max_length=8, choices=Urgency.choices)
    pack_version = models.CharField(max_length=40)

    class Meta:
        verbose_name = "动态信息"
        verbose_name_plural = "动态信息"
        indexes = [models.Index(fields=["unit", "recorded_at"], name="record_unit_time")]

    def __str__(self) -> str:
        return f"{self.category_name} {self.recorded_at:%m-%d %H:%M}"


class Task(UUIDModel):
    """Work that must be done by a post within a time limit, escalating when it is not."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    title = models.CharField("任务", max_length=200)
    category = models.CharField("类别代码", max_length=48)
    category_name = models.CharField("类别", max_length=60)
    source = models.CharField("来源", max_length=8, choices=TaskSource.choices)
    # What created it, e.g. a deadline notice's id; unique per source so a repeat is ignored.
    source_ref = models.CharField(max_length=64)
    record = models.OneToOneField(
        InfoRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="task"
    )
    detainee = models.ForeignKey(
        "custody.Detainee", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cell = models.ForeignKey(
        "housing.Cell", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    detail = models.TextField("情况", blank=True)
    post_kind = models.CharField("处置岗位", max_length=24)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tasks",
    )
    state = models.CharField("状态", max_length=12, choices=TaskState.choices)
    urgency = models.CharField("紧急程度", max_length=8, choices=Urgency.choices)
    needs_verify = models.BooleanField("需核验", default=False)
    created_at = models.DateTimeField("创建时间")
    created_by = models.CharField("创建人", max_length=150)
    accept_due = models.DateTimeField("接收时限")
    handle_due = models.DateTimeField("办结时限")
    # The next moment the task escalates if it has not moved on; null once it can not.
    escalate_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField("升级级别", default=0)
    escalated_to = models.CharField("升级至", max_length=24, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField("处置结果", max_length=12, choices=Outcome.choices, blank=True)
    feedback = models.TextField("处置反馈", blank=True)
    return_count = models.PositiveSmallIntegerField("退回次数", default=0)
    pack_version = models.CharField(max_length=40)
    version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "任务"
        verbose_name_plural = "任务"
        constraints = [
            models.UniqueConstraint(fields=["source", "source_ref"], name="task_once_per_source")
        ]
        indexes = [
            models.Index(fields=["unit", "state"], name="task_unit_state"),
            models.Index(fields=["escalate_at"], name="task_escalate_at"),
            models.Index(fields=["unit", "created_at"], name="task_unit_created"),
        ]

    def __str__(self) -> str:
        return self.title


class TaskStep(UUIDModel):
    """One transition of a task: who moved it from which state to which, and what they said."""

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="steps")
    at = models.DateTimeField()
    action = models.CharField(max_length=16)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    post_kind = models.CharField(max_length=24, blank=True)
    note = models.TextField(blank=True)
    outcome = models.CharField(max_length=12, blank=True)
    photo = models.FileField(upload_to="tasks/%Y/%m/", blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["task", "at"], name="step_task_at")]

    def __str__(self) -> str:
        return f"{self.action} {self.at:%m-%d %H:%M}"
