"""Audit entries and the head of their chain."""

from __future__ import annotations

from django.db import models


class AuditEntry(models.Model):
    """One act: who (user, unit, posts, address) did what to which object, and when.

    `seq` is gapless and assigned under the chain-head lock, so a missing number means a
    removed entry; `digest` is an HMAC over the previous digest and this entry's fields.
    """

    seq = models.BigIntegerField("序号", unique=True)
    at = models.DateTimeField("时间", db_index=True)
    user_id = models.UUIDField("用户ID", null=True)
    username = models.CharField("用户名", max_length=150)
    unit_code = models.CharField("单位代码", max_length=32, db_index=True)
    posts = models.CharField("岗位", max_length=200)
    address = models.CharField("来源地址", max_length=64, blank=True)
    action = models.CharField("操作", max_length=64, db_index=True)
    object_type = models.CharField("对象类型", max_length=64, blank=True)
    object_id = models.CharField("对象ID", max_length=64, blank=True, db_index=True)
    outcome = models.CharField("结果", max_length=16, default="OK")
    detail = models.JSONField("详情", default=dict)
    prev_digest = models.CharField(max_length=64)
    digest = models.CharField(max_length=64)

    class Meta:
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.username} {self.action}"


class AuditChainHead(models.Model):
    """The single row that serialises appends and remembers the chain's last entry."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    digest = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = "审计链头"

    def __str__(self) -> str:
        return f"#{self.seq}"
