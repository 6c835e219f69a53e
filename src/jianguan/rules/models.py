from __future__ import annotations

from django.db import models

from jianguan.core.models import UUIDModel


class PackStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "生效"
    SHADOW = "SHADOW", "试运行（影子）"
    RETIRED = "RETIRED", "已停用"


class RulePack(UUIDModel):
    """One published version of a rule pack (DESIGN.md §5), nationwide or for one unit's subtree.

    The YAML text is kept exactly as published; `content` is its parsed form.
    """

    kind = models.CharField("类别", max_length=32)
    version = models.CharField("版本", max_length=32)
    unit_code = models.CharField("适用单位", max_length=16, blank=True)  # "" = nationwide
    title = models.CharField("名称", max_length=200)
    source = models.TextField("规则文本")
    content = models.JSONField("解析结果")
    digest = models.CharField("摘要", max_length=64)
    status = models.CharField("状态", max_length=8, choices=PackStatus.choices)
    published_at = models.DateTimeField("发布时间")
    published_by = models.CharField("发布人", max_length=150)

    class Meta:
        verbose_name = "规则包"
        verbose_name_plural = "规则包"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "unit_code", "version"], name="rulepack_version_unique"
            )
        ]
        indexes = [models.Index(fields=["kind", "status", "unit_code"], name="rulepack_active")]

    def __str__(self) -> str:
        return f"{self.kind} {self.version}"
