from __future__ import annotations

from django.db import models

from jianguan.core.models import UUIDModel


class DetaineeStatus(models.TextChoices):
    IN_CUSTODY = "IN_CUSTODY", "在押"
    OUT_TEMPORARILY = "OUT_TEMPORARILY", "出所在外"
    RELEASED = "RELEASED", "已释放"
    TRANSFERRED = "TRANSFERRED", "已转所"
    DELIVERED = "DELIVERED", "已交付执行"


# Statuses in which the facility still answers for the person.
HELD_STATUSES = (DetaineeStatus.IN_CUSTODY, DetaineeStatus.OUT_TEMPORARILY)


class Detainee(UUIDModel):
    """A person held in a facility (在押人员), one row per stay."""

    unit = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="监所"
    )
    number = models.CharField("在押人员编号", max_length=24)
    name = models.CharField("姓名", max_length=50)
    gender = models.CharField("性别", max_length=2)
    ethnicity = models.CharField("民族", max_length=4, blank=True)
    birth_date = models.DateField("出生日期", null=True)
    id_type = models.CharField("证件类型", max_length=4, blank=True)
    id_number = models.CharField("证件号码", max_length=40, blank=True)
    nationality = models.CharField("国籍", max_length=3, default="CHN")
    case_nature = models.CharField("案件性质", max_length=8)
    legal_measure = models.CharField("法律措施", max_length=8)
    litigation_stage = models.CharField("诉讼阶段", max_length=8)
    case_unit = models.CharField("办案单位", max_length=100, blank=True)
    case_number = models.CharField("案件编号", max_length=40, blank=True, db_index=True)
    status = models.CharField(
        "状态", max_length=16, choices=DetaineeStatus.choices, default=DetaineeStatus.IN_CUSTODY
    )
    admitted_at = models.DateTimeField("入所时间")
    left_at = models.DateTimeField("出所时间", null=True, blank=True)
    cell = models.ForeignKey(
        "housing.Cell",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="监室",
    )

    class Meta:
        verbose_name = "在押人员"
        verbose_name_plural = "在押人员"
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "number"], name="detainee_number_unique_in_unit"
            )
        ]
        indexes = [
            models.Index(fields=["unit", "status", "admitted_at"], name="detainee_roll"),
            models.Index(fields=["id_number"], name="detainee_id_number"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.number}）"


# --- admission (收押) ---------------------------------------------------------------------


class AdmissionStatus(models.TextChoices):
    DRAFT = "DRAFT", "办理中"
    COMPLETED = "COMPLETED", "已收押"
    REFUSED = "REFUSED", "不予收押"
    CANCELLED = "CANCELLED", "已撤销"


class Admission(UUIDModel):
    """An admission in progress. Each step's answers are kept as entered, so a failed or
    interrupted step leaves the admission resumable; the person's record is created only when
    the last step completes, in one transaction."""

    unit = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="监所"
    )
    status = models.CharField(
        "状态", max_length=12, choices=AdmissionStatus.choices, default=AdmissionStatus.DRAFT
    )
    started_at = models.DateTimeField("开始时间")
    started_by = models.CharField("经办民警", max_length=150)
    updated_at = models.DateTimeField("更新时间")
    steps = models.JSONField("各步骤内容", default=dict)  # step name -> answers
    findings = models.JSONField("收押审查结论", default=list)
    refused_reason = models.TextField("拒收理由", blank=True)
    detainee = models.OneToOneField(
        Detainee,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="admission",
        verbose_name="在押人员",
    )

    class Meta:
        verbose_name = "收押登记"
        verbose_name_plural = "收押登记"
        indexes = [models.Index(fields=["unit", "status", "started_at"], name="admission_open")]


class AdmissionFile(UUIDModel):
    """A photo kept with an admission: the person's photo or a picture of an injury."""

    admission = models.ForeignKey(Admission, on_delete=models.PROTECT, related_name="files")
    purpose = models.CharField("用途", max_length=12)  # PHOTO | INJURY
    file = models.FileField("文件", upload_to="admission/%Y/%m/")
    content_type = models.CharField(max_length=64)
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField()
    uploaded_by = models.CharField(max_length=150)


class NumberSequence(models.Model):
    """The last 在押人员编号 issued per facility and year (rows locked while issuing)."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "year"], name="number_sequence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


# --- legal events and deadlines (法律文书与羁押期限) ------------------------------------------


class LegalEvent(UUIDModel):
    """A recorded legal event — a decision, notice or judgment — that sets or changes a clock.

    Append-only: every deadline is recomputed from the person's legal events."""

    detainee = models.ForeignKey(
        Detainee, on_delete=models.PROTECT, related_name="legal_events", verbose_name="在押人员"
    )
    kind = models.CharField("事项", max_length=32)
    at = models.DateTimeField("发生时间")
    approval = models.CharField("批准机关级别", max_length=32, blank=True)
    params = models.JSONField("参数", default=dict, blank=True)
    document_kind = models.CharField("文书", max_length=50, blank=True)
    document_number = models.CharField("文书编号", max_length=60, blank=True)
    issued_by = models.CharField("出具机关", max_length=100, blank=True)
    note = models.TextField("备注", blank=True)
    recorded_at = models.DateTimeField("登记时间")
    recorded_by = models.CharField("登记人", max_length=150)
    pack_version = models.CharField("规则包版本", max_length=32)

    class Meta:
        verbose_name = "法律事项"
        verbose_name_plural = "法律事项"
        indexes = [models.Index(fields=["detainee", "at"], name="legal_event_person")]


class Deadline(UUIDModel):
    """One legal clock of one person, as last computed from the legal events."""

    detainee = models.ForeignKey(
        Detainee, on_delete=models.CASCADE, related_name="deadlines", verbose_name="在押人员"
    )
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    clock = models.CharField("期限", max_length=32)
    label = models.CharField("名称", max_length=50)
    rule = models.CharField("规则", max_length=64)
    article = models.CharField("法律依据", max_length=300)
    started_at = models.DateTimeField("起算")
    expires_at = models.DateTimeField("届满", null=True)
    precision = models.CharField(max_length=4)  # hour | day (expires_at: exclusive midnight)
    state = models.CharField("状态", max_length=10)  # RUNNING | SUSPENDED | ENDED
    governs_custody = models.BooleanField("羁押期限", default=True)
    notice_at = models.DateTimeField("应通知时间", null=True)
    inputs = models.JSONField("计算依据", default=dict)
    history = models.JSONField("变更记录", default=list)
    flags = models.JSONField("提示", default=list)
    pack_version = models.CharField("规则包版本", max_length=32)
    computed_at = models.DateTimeField("计算时间")

    class Meta:
        verbose_name = "羁押期限"
        verbose_name_plural = "羁押期限"
        constraints = [
            models.UniqueConstraint(fields=["detainee", "clock"], name="deadline_clock_unique")
        ]
        indexes = [
            models.Index(fields=["unit", "state", "expires_at"], name="deadline_board"),
            models.Index(fields=["state", "notice_at"], name="deadline_notice_due"),
        ]


class NoticeKind(models.TextChoices):
    BEFORE_EXPIRY = "BEFORE_EXPIRY", "羁押期限即将届满通知"
    EXPIRED = "EXPIRED", "羁押期限届满警示"


class DeadlineNotice(UUIDModel):
    """A notice to the case unit before a clock ends, or an alert to the leader after it ended
    with no lawful change. One per clock, kind and expiry, so the watcher may run repeatedly."""

    detainee = models.ForeignKey(Detainee, on_delete=models.PROTECT, related_name="notices")
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    clock = models.CharField(max_length=32)
    kind = models.CharField("类别", max_length=16, choices=NoticeKind.choices)
    expires_at = models.DateTimeField("届满")
    recipient = models.CharField("通知对象", max_length=100)
    article = models.CharField("法律依据", max_length=300)
    text = models.TextField("内容")
    created_at = models.DateTimeField("生成时间")
    handled_at = models.DateTimeField("处理时间", null=True, blank=True)
    handled_by = models.CharField("处理人", max_length=150, blank=True)
    handling_note = models.TextField("处理情况", blank=True)

    class Meta:
        verbose_name = "期限通知"
        verbose_name_plural = "期限通知"
        constraints = [
            models.UniqueConstraint(
                fields=["detainee", "clock", "kind", "expires_at"], name="notice_once"
            )
        ]
        indexes = [models.Index(fields=["unit", "handled_at"], name="notice_open")]


# --- housing decisions and movements -------------------------------------------------------


class ReviewStatus(models.TextChoices):
    PENDING = "PENDING", "待审核"
    APPROVED = "APPROVED", "已同意"
    REJECTED = "REJECTED", "不同意"


class PlacementOverride(UUIDModel):
    """A cell placement made against a practice rule, with who decided and why; the leader
    reviews it. Legal separations can not be overridden at all."""

    detainee = models.ForeignKey(Detainee, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    cell = models.ForeignKey("housing.Cell", on_delete=models.PROTECT, related_name="+")
    findings = models.JSONField("被越过的规则")
    reason = models.TextField("理由")
    decided_by = models.CharField("决定人", max_length=150)
    decided_at = models.DateTimeField("决定时间")
    pack_version = models.CharField("规则包版本", max_length=32)
    review_status = models.CharField(
        "审核", max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    reviewed_by = models.CharField("审核人", max_length=150, blank=True)
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    review_note = models.TextField("审核意见", blank=True)

    class Meta:
        verbose_name = "分押规则越过记录"
        verbose_name_plural = "分押规则越过记录"
        indexes = [models.Index(fields=["unit", "review_status"], name="override_review")]


class MovementKind(models.TextChoices):
    CELL_MOVE = "CELL_MOVE", "调整监室"
    OUT_INTERROGATION = "OUT_INTERROGATION", "提解出所"
    OUT_MEDICAL = "OUT_MEDICAL", "出所就医"
    RETURN = "RETURN", "回所"
    RELEASE = "RELEASE", "释放"
    TRANSFER = "TRANSFER", "转所（换押出所）"
    DELIVER = "DELIVER", "交付执行"


class Movement(UUIDModel):
    """A person moving: between cells, out and back, or leaving for good."""

    detainee = models.ForeignKey(Detainee, on_delete=models.PROTECT, related_name="movements")
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("类别", max_length=20, choices=MovementKind.choices)
    at = models.DateTimeField("时间")
    from_cell = models.ForeignKey(
        "housing.Cell", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_cell = models.ForeignKey(
        "housing.Cell", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    document_number = models.CharField("文书编号", max_length=60, blank=True)
    destination = models.CharField("去向", max_length=100, blank=True)
    escort = models.CharField("押解/带领民警", max_length=100, blank=True)
    reason = models.TextField("事由", blank=True)
    recorded_by = models.CharField("登记人", max_length=150)

    class Meta:
        verbose_name = "出入所与调监"
        verbose_name_plural = "出入所与调监"
        indexes = [models.Index(fields=["unit", "at"], name="movement_day")]


class Interrogation(UUIDModel):
    """A 提讯 at the facility on a 提讯证, admitted or refused."""

    detainee = models.ForeignKey(Detainee, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    warrant_number = models.CharField("提讯证号", max_length=60)
    case_unit = models.CharField("办案单位", max_length=100)
    officers = models.CharField("提讯人员", max_length=200)
    requested_at = models.DateTimeField("申请时间")
    admitted = models.BooleanField("准予提讯")
    refusal_reason = models.TextField("拒绝理由", blank=True)
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    recorded_by = models.CharField("登记人", max_length=150)

    class Meta:
        verbose_name = "提讯登记"
        verbose_name_plural = "提讯登记"
