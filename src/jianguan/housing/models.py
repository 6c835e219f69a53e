from __future__ import annotations

from django.db import models

from jianguan.core.models import UUIDModel


class CellGender(models.TextChoices):
    MALE = "1", "男"
    FEMALE = "2", "女"


class CellKind(models.TextChoices):
    ORDINARY = "ORDINARY", "普通监室"
    JUVENILE = "JUVENILE", "未成年人监室"
    TRANSITION = "TRANSITION", "过渡监室"
    SENTENCED = "SENTENCED", "已决犯监室"
    MEDICAL = "MEDICAL", "医疗监室"


class Cell(UUIDModel):
    """A cell (监室/拘室/戒毒室) of a facility."""

    unit = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="cells", verbose_name="监所"
    )
    number = models.CharField("监室号", max_length=16)
    area = models.CharField("监区", max_length=32, blank=True)
    kind = models.CharField(
        "类型", max_length=16, choices=CellKind.choices, default=CellKind.ORDINARY
    )
    gender = models.CharField("性别", max_length=1, choices=CellGender.choices)
    capacity = models.PositiveSmallIntegerField("核定容量")
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "监室"
        verbose_name_plural = "监室"
        ordering = ["unit", "number"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "number"], name="cell_number_unique_in_unit")
        ]

    def __str__(self) -> str:
        return f"{self.number}监室"
