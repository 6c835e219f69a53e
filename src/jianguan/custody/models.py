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
