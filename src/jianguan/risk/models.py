from __future__ import annotations

from django.db import models

from jianguan.core.models import UUIDModel


class Track(models.TextChoices):
    """The live model decides; a shadow (trial) model is scored beside it and decides nothing."""

    LIVE = "LIVE", "生效模型"
    SHADOW = "SHADOW", "影子模型"


class RiskFact(UUIDModel):
    """Something known about a person (or a cell) that a risk model may count.

    Facts from other records keep a reference to them (`source_ref`), so a fact is recorded once
    however often its event is delivered, and the explanation can link back to it.
    """

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    detainee = models.ForeignKey(
        "custody.Detainee", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cell = models.ForeignKey(
        "housing.Cell", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField("类别", max_length=48)
    label = models.CharField("内容", max_length=200)
    at = models.DateTimeField("发生时间")
    source_ref = models.CharField(max_length=64, blank=True)  # "" for facts recorded by hand
    link = models.CharField(max_length=200, blank=True)
    note = models.TextField("说明", blank=True)
    recorded_at = models.DateTimeField("登记时间")
    recorded_by = models.CharField("登记人", max_length=150)

    class Meta:
        verbose_name = "风险事实"
        verbose_name_plural = "风险事实"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "source_ref"],
                condition=~models.Q(source_ref=""),
                name="riskfact_once_per_source",
            )
        ]
        indexes = [
            models.Index(fields=["detainee", "at"], name="riskfact_person_at"),
            models.Index(fields=["cell", "at"], name="riskfact_cell_at"),
            models.Index(fields=["unit", "kind", "at"], name="riskfact_unit_kind"),
        ]


class RiskScore(UUIDModel):
    """A person's current score under one track. `grade` is what applies (an active override
    wins); `computed_grade` is what the model says."""

    detainee = models.ForeignKey("custody.Detainee", on_delete=models.PROTECT, related_name="+")
    track = models.CharField(max_length=6, choices=Track.choices)
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    cell = models.ForeignKey(
        "housing.Cell", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    score = models.FloatField("积分")
    computed_grade = models.CharField("模型等级", max_length=16)
    grade = models.CharField("等级", max_length=16)
    override = models.ForeignKey(
        "RiskOverride", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    factors = models.JSONField("构成")
    confidence = models.FloatField("完整度", default=1.0)
    missing = models.JSONField("缺少的信息", default=list)
    model_version = models.CharField("模型版本", max_length=32)
    model_origin = models.CharField(max_length=40)  # the publishing record, or 内置默认
    computed_at = models.DateTimeField("评估时间")

    class Meta:
        verbose_name = "人员风险等级"
        verbose_name_plural = "人员风险等级"
        constraints = [
            models.UniqueConstraint(fields=["detainee", "track"], name="riskscore_one_per_track")
        ]
        indexes = [models.Index(fields=["unit", "track", "grade"], name="riskscore_unit_grade")]


class CellRisk(UUIDModel):
    cell = models.ForeignKey("housing.Cell", on_delete=models.PROTECT, related_name="+")
    track = models.CharField(max_length=6, choices=Track.choices)
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    score = models.FloatField("积分")
    grade = models.CharField("等级", max_length=16)
    factors = models.JSONField("构成")
    occupants = models.PositiveSmallIntegerField("在押人数", default=0)
    model_version = models.CharField("模型版本", max_length=32)
    computed_at = models.DateTimeField("评估时间")

    class Meta:
        verbose_name = "监室风险等级"
        verbose_name_plural = "监室风险等级"
        constraints = [
            models.UniqueConstraint(fields=["cell", "track"], name="cellrisk_one_per_track")
        ]
        indexes = [models.Index(fields=["unit", "track"], name="cellrisk_unit")]


class RiskChange(UUIDModel):
    """History: a person's or a cell's score or grade changed, and what moved it."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    detainee = models.ForeignKey(
        "custody.Detainee", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cell = models.ForeignKey(
        "housing.Cell", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    track = models.CharField(max_length=6, choices=Track.choices)
    at = models.DateTimeField("时间")
    score = models.FloatField("积分")
    grade = models.CharField("等级", max_length=16)
    from_score = models.FloatField("原积分", null=True)
    from_grade = models.CharField("原等级", max_length=16, blank=True)
    moved = models.JSONField("变化因子", default=list)
    cause = models.CharField("原因", max_length=100)
    model_version = models.CharField("模型版本", max_length=32)

    class Meta:
        verbose_name = "风险变化"
        verbose_name_plural = "风险变化"
        indexes = [
            models.Index(fields=["detainee", "at"], name="riskchange_person_at"),
            models.Index(fields=["cell", "at"], name="riskchange_cell_at"),
            models.Index(fields=["unit", "at"], name="riskchange_unit_at"),
        ]


class ReviewStatus(models.TextChoices):
    PENDING = "PENDING", "待审核"
    UPHELD = "UPHELD", "审核同意"
    REVOKED = "REVOKED", "审核撤销"


class RiskOverride(UUIDModel):
    """A leader's manual grade (人工调整): with a reason, until a time limit, reviewed by
    another leader."""

    detainee = models.ForeignKey("custody.Detainee", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    grade = models.CharField("调整为", max_length=16)
    computed_grade = models.CharField("模型等级", max_length=16)
    reason = models.TextField("理由")
    decided_by = models.CharField("决定人", max_length=150)
    decided_at = models.DateTimeField("决定时间")
    expires_at = models.DateTimeField("有效期至")
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    model_version = models.CharField("模型版本", max_length=32)
    review_status = models.CharField(
        "审核", max_length=8, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    reviewed_by = models.CharField("审核人", max_length=150, blank=True)
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    review_note = models.TextField("审核意见", blank=True)

    class Meta:
        verbose_name = "人工调整风险等级"
        verbose_name_plural = "人工调整风险等级"
        indexes = [models.Index(fields=["detainee", "ended_at"], name="riskoverride_live")]


class GradeDaily(UUIDModel):
    """The facility's distribution by grade on one day (people and cells), for the trend."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    day = models.DateField("日期")
    track = models.CharField(max_length=6, choices=Track.choices)
    people = models.JSONField("人员分布")  # grade code → count
    cells = models.JSONField("监室分布")
    model_version = models.CharField("模型版本", max_length=32)
    taken_at = models.DateTimeField()

    class Meta:
        verbose_name = "风险等级日分布"
        verbose_name_plural = "风险等级日分布"
        constraints = [
            models.UniqueConstraint(fields=["unit", "day", "track"], name="gradedaily_once")
        ]
