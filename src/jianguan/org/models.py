"""Units (单位) in a tree, posts (岗位), users, API tokens and login attempts."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from jianguan.core.ids import uuid7
from jianguan.core.models import UUIDModel
from jianguan.org.permissions import Perm, PostKind


class UnitLevel(models.TextChoices):
    NATIONAL = "NATIONAL", "部级"
    PROVINCE = "PROVINCE", "省级"
    CITY = "CITY", "地市"
    FACILITY = "FACILITY", "监所"


class FacilityKind(models.TextChoices):
    DETENTION_CENTER = "DETENTION_CENTER", "看守所"
    DETENTION_HOUSE = "DETENTION_HOUSE", "拘留所"
    REHAB_CENTER = "REHAB_CENTER", "强制隔离戒毒所"


class Unit(UUIDModel):
    """A node of the hierarchy: national → province → city → facility.

    `path` holds the codes from the root down ("/000000/440000/440100/440100K01/"), so a
    subtree is one indexed prefix query.
    """

    code = models.CharField("单位代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    level = models.CharField("层级", max_length=16, choices=UnitLevel.choices)
    facility_kind = models.CharField(
        "监所类型", max_length=24, choices=FacilityKind.choices, blank=True, default=""
    )
    region_code = models.CharField("行政区划代码", max_length=6)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=400, db_index=True, editable=False)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位"
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(level="FACILITY") & ~models.Q(facility_kind=""))
                | (~models.Q(level="FACILITY") & models.Q(facility_kind="")),
                name="unit_facility_kind_only_for_facilities",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Post(UUIDModel):
    """A post (岗位) as data: which kind it is and what it may do."""

    kind = models.CharField("岗位", max_length=24, choices=PostKind.choices, unique=True)
    name = models.CharField("名称", max_length=50)
    permissions = models.JSONField("权限", default=list)

    class Meta:
        verbose_name = "岗位"
        verbose_name_plural = "岗位"
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.name

    def grants(self, perm: Perm) -> bool:
        return perm.value in self.permissions


class User(AbstractUser):
    """A person who logs in: an officer, a supervisor or an administrator."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    full_name = models.CharField("姓名", max_length=50, blank=True)
    police_number = models.CharField("警号", max_length=20, blank=True)
    # GB/T 2261.1; a woman in custody is searched and managed by female staff (看守所条例第六条).
    gender = models.CharField("性别", max_length=1, blank=True, choices=[("1", "男"), ("2", "女")])
    unit = models.ForeignKey(
        Unit,
        verbose_name="所属单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    posts = models.ManyToManyField(Post, verbose_name="岗位", blank=True, related_name="holders")
    totp_secret = models.CharField("动态口令密钥", max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.full_name or self.username


class ApiToken(UUIDModel):
    """A token for a machine client. Only its SHA-256 digest is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("用途", max_length=100)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "接口令牌"
        verbose_name_plural = "接口令牌"


class LoginAttempt(models.Model):
    """One failed login, kept in the database so every web process sees the same count."""

    username = models.CharField(max_length=150, db_index=True)
    address = models.GenericIPAddressField(null=True, db_index=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "登录失败记录"
        verbose_name_plural = "登录失败记录"

    def __str__(self) -> str:
        return f"{self.username} {self.at:%Y-%m-%d %H:%M}"
