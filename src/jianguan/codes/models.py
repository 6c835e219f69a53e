from __future__ import annotations

from django.db import models


class CodeTable(models.Model):
    """A table of codes, e.g. 民族 (GB/T 3304). `revision` grows with every change."""

    key = models.CharField("表标识", max_length=32, primary_key=True)
    name = models.CharField("名称", max_length=50)
    name_en = models.CharField("英文名", max_length=100, blank=True)
    standard = models.CharField("依据标准", max_length=100, blank=True)
    version = models.CharField("数据版本", max_length=32)
    revision = models.PositiveIntegerField("修订次数", default=1)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "代码表"
        verbose_name_plural = "代码表"
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.name}（{self.key}）"


class CodeEntry(models.Model):
    table = models.ForeignKey(
        CodeTable, on_delete=models.CASCADE, related_name="entries", verbose_name="代码表"
    )
    code = models.CharField("代码", max_length=16)
    name = models.CharField("名称", max_length=100)
    name_en = models.CharField("英文名称", max_length=100, blank=True)
    parent_code = models.CharField("上级代码", max_length=16, blank=True)
    extra = models.JSONField("附加属性", default=dict, blank=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "代码项"
        verbose_name_plural = "代码项"
        ordering = ["table", "code"]
        constraints = [
            models.UniqueConstraint(fields=["table", "code"], name="code_unique_in_table")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
