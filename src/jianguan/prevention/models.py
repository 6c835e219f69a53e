"""Safeguards against suicide and escape beyond the devices themselves (F6): talk reminders after
the moments that unsettle a person, the check at the exit of the detention area with the pass it
checks against, and the ankle-monitor geofence of a person out for medical care."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from jianguan.core.models import UUIDModel

# --- talk reminders (谈话教育提醒) --------------------------------------------------------


class TalkTrigger(models.TextChoices):
    ADMISSION = "ADMISSION", "新入所"
    LAWYER_MEETING = "LAWYER_MEETING", "律师会见后"
    FAMILY_MEETING = "FAMILY_MEETING", "家属会见后"
    STAGE_CHANGE = "STAGE_CHANGE", "诉讼阶段变化"
    JUDGMENT = "JUDGMENT", "判决"
    BAD_NEWS = "BAD_NEWS", "得知不利消息"
    RISK_RISE = "RISK_RISE", "风险等级升高"


class TalkState(models.TextChoices):
    OPEN = "OPEN", "待谈话"
    DONE = "DONE", "已谈话"
    CANCELLED = "CANCELLED", "已撤销"


class TalkReminder(UUIDModel):
    """A talk owed to one person for one kind of trigger, with its deadline and the task that
    carries it. A second trigger of the same kind while it is open adds to it."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    detainee = models.ForeignKey("custody.Detainee", on_delete=models.PROTECT, related_name="+")
    trigger = models.CharField("触发", max_length=16, choices=TalkTrigger.choices)
    name = models.CharField("提醒", max_length=60)
    triggered_at = models.DateTimeField("触发时间")
    due_at = models.DateTimeField("完成时限")
    task_id = models.UUIDField(null=True, blank=True)
    detail = models.TextField("情况", blank=True)
    triggers = models.PositiveSmallIntegerField("触发次数", default=1)
    state = models.CharField(max_length=10, choices=TalkState.choices, default=TalkState.OPEN)
    done_at = models.DateTimeField("谈话时间", null=True, blank=True)
    done_by = models.CharField("谈话民警", max_length=150, blank=True)
    done_how = models.CharField(max_length=8, blank=True)  # RECORD (谈话发现) or TASK (任务反馈)

    class Meta:
        verbose_name = "谈话教育提醒"
        verbose_name_plural = "谈话教育提醒"
        constraints = [
            models.UniqueConstraint(
                fields=["detainee", "trigger"],
                condition=Q(state="OPEN"),
                name="talk_one_open_per_trigger",
            )
        ]
        indexes = [models.Index(fields=["unit", "triggered_at"], name="talk_unit_time")]

    def __str__(self) -> str:
        return f"{self.name} {self.detainee_id}"


class TalkCause(UUIDModel):
    """One event that asked for a talk (an admission, a judgment…), kept once by its source so a
    redelivered event adds nothing."""

    reminder = models.ForeignKey(TalkReminder, on_delete=models.CASCADE, related_name="causes")
    source_ref = models.CharField(max_length=80, unique=True)
    at = models.DateTimeField()
    label = models.CharField(max_length=200)


class MeetingKind(models.TextChoices):
    LAWYER = "LAWYER", "律师会见"
    FAMILY = "FAMILY", "家属会见"


class Meeting(UUIDModel):
    """A lawyer's or family meeting, recorded by 接待 when it ends (no meetings module yet)."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    detainee = models.ForeignKey("custody.Detainee", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("类别", max_length=8, choices=MeetingKind.choices)
    visitor = models.CharField("会见人", max_length=100)
    ended_at = models.DateTimeField("会见结束")
    recorded_by = models.CharField(max_length=150)
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name = "会见登记"
        verbose_name_plural = "会见登记"


# --- exit check (出监区核验) --------------------------------------------------------------


class PassState(models.TextChoices):
    PREPARING = "PREPARING", "准备中"
    USED = "USED", "已出监区"
    CANCELLED = "CANCELLED", "已作废"


class ExitPass(UUIDModel):
    """出监区通行单: what the responsible post prepares for a planned movement out of the
    detention area. Whether it is complete is decided by the checklist of its kind (checklist.py)."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    detainee = models.ForeignKey("custody.Detainee", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("事由", max_length=20)  # a custody MovementKind that leaves the area
    document_number = models.CharField("文书编号", max_length=60, blank=True)
    escort = models.CharField("押解民警", max_length=100, blank=True)
    destination = models.CharField("去向", max_length=100, blank=True)
    geofence = models.ForeignKey(
        "Geofence", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_by = models.CharField("批准领导", max_length=150, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    prepared_by = models.CharField(max_length=150)
    prepared_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=PassState.choices, default=PassState.PREPARING)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "出监区通行单"
        verbose_name_plural = "出监区通行单"
        indexes = [models.Index(fields=["detainee", "state"], name="pass_person_state")]


class ExitResult(models.TextChoices):
    PASS = "PASS", "放行"
    BLOCK = "BLOCK", "拦截"


class ExitCheck(UUIDModel):
    """One identity check at the exit and what the platform answered."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    device_code = models.CharField("核验终端", max_length=64)
    source_ref = models.CharField(max_length=80, unique=True)  # device and sequence number
    number = models.CharField("在押人员编号", max_length=40, blank=True)
    detainee = models.ForeignKey(
        "custody.Detainee", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    matched = models.BooleanField("比对通过", default=False)
    score = models.FloatField("比对分值", null=True, blank=True)
    exit_pass = models.ForeignKey(
        ExitPass, on_delete=models.PROTECT, null=True, blank=True, related_name="checks"
    )
    result = models.CharField("结果", max_length=5, choices=ExitResult.choices)
    reasons = models.JSONField(default=list)  # [{"code", "message"}]
    at = models.DateTimeField("核验时间", db_index=True)
    alert_id = models.UUIDField(null=True, blank=True)

    class Meta:
        verbose_name = "出监区核验"
        verbose_name_plural = "出监区核验"


# --- out-of-facility medical care (出所就医) ------------------------------------------------


class Geofence(UUIDModel):
    """A circle around a hospital ward: a person out for care must stay inside it."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    name = models.CharField("名称", max_length=100)
    lat = models.FloatField("中心纬度")
    lon = models.FloatField("中心经度")
    radius_m = models.PositiveIntegerField("半径（米）")
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "电子围栏"
        verbose_name_plural = "电子围栏"

    def __str__(self) -> str:
        return self.name


class Outing(UUIDModel):
    """A person out for medical care, wearing an ankle monitor tied to a fence, from the exit
    to the return."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    detainee = models.ForeignKey("custody.Detainee", on_delete=models.PROTECT, related_name="+")
    device_code = models.CharField("电子脚环", max_length=64)
    geofence = models.ForeignKey(Geofence, on_delete=models.PROTECT, related_name="outings")
    exit_pass = models.ForeignKey(
        ExitPass, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField("出所")
    ended_at = models.DateTimeField("回所", null=True, blank=True)
    last_seq = models.BigIntegerField(default=0)  # the newest position applied
    last_lat = models.FloatField(null=True, blank=True)
    last_lon = models.FloatField(null=True, blank=True)
    last_at = models.DateTimeField("最近定位", null=True, blank=True)
    distance_m = models.FloatField("距围栏中心（米）", null=True, blank=True)
    outside = models.BooleanField("越出围栏", default=False)
    excursions = models.PositiveIntegerField("越界次数", default=0)
    battery_percent = models.PositiveSmallIntegerField("电量", null=True, blank=True)
    battery_alerted = models.BooleanField(default=False)

    class Meta:
        verbose_name = "出所就医监护"
        verbose_name_plural = "出所就医监护"
        constraints = [
            models.UniqueConstraint(
                fields=["device_code"], condition=Q(ended_at=None), name="outing_one_per_device"
            )
        ]
