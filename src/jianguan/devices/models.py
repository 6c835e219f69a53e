"""Devices of a facility, the alerts they raise, and the messages refused at the door."""

from __future__ import annotations

from django.db import models

from jianguan.core.models import UUIDModel


class DeviceKind(models.TextChoices):
    VIDEO = "VIDEO", "视频智能分析"
    BUTTON = "BUTTON", "紧急报警按钮"
    PERIMETER = "PERIMETER", "周界报警"
    DOOR = "DOOR", "门禁"
    WEARABLE = "WEARABLE", "智能手环（体征）"
    ANKLE = "ANKLE", "电子脚环（定位）"
    BIOMETRIC = "BIOMETRIC", "生物特征核验终端"
    TERMINAL = "TERMINAL", "监室终端"


class LocationKind(models.TextChoices):
    CELL = "CELL", "监室"
    CORRIDOR = "CORRIDOR", "监区通道"
    YARD = "YARD", "放风场"
    EXIT = "EXIT", "监区出口"
    WARD = "WARD", "医院病房"
    PERIMETER = "PERIMETER", "周界"
    OTHER = "OTHER", "其他"


class DeviceStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "在线"
    SILENT = "SILENT", "离线"
    DISABLED = "DISABLED", "停用"


class Device(UUIDModel):
    """A registered device. Its `code` is the id in its MQTT topic; `secret` signs its messages
    (HMAC-SHA256), so it is kept to verify them and shown only when issued."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    code = models.CharField("设备编号", max_length=64, unique=True)
    kind = models.CharField("类型", max_length=12, choices=DeviceKind.choices)
    name = models.CharField("名称", max_length=100)
    location_kind = models.CharField("位置类型", max_length=12, choices=LocationKind.choices)
    cell = models.ForeignKey(
        "housing.Cell", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    area = models.CharField("位置", max_length=100, blank=True)
    # A wearable or an ankle monitor is worn by one person at a time.
    detainee = models.ForeignKey(
        "custody.Detainee", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    secret = models.CharField(max_length=64)
    status = models.CharField(
        "状态", max_length=8, choices=DeviceStatus.choices, default=DeviceStatus.ACTIVE
    )
    silent_after_seconds = models.PositiveIntegerField("离线判定（秒）", default=300)
    last_seen_at = models.DateTimeField("最近上报", null=True, blank=True)
    last_seq = models.BigIntegerField(default=0)  # replay guard: a device's seq only grows
    messages = models.BigIntegerField("已接收消息", default=0)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "设备"
        verbose_name_plural = "设备"
        indexes = [models.Index(fields=["unit", "kind"], name="device_unit_kind")]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class AlertState(models.TextChoices):
    OPEN = "OPEN", "处置中"
    CLOSED = "CLOSED", "已处置"


class Alert(UUIDModel):
    """One alert, however many times its device repeated it: repeats within the fold window add
    to `count` and move `last_at` instead of opening another task."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    device = models.ForeignKey(Device, on_delete=models.PROTECT, null=True, related_name="alerts")
    type = models.CharField("告警类型", max_length=32)
    name = models.CharField("告警", max_length=100)
    severity = models.CharField("级别", max_length=8)  # URGENT / HIGH / NORMAL, as task urgency
    cell = models.ForeignKey(
        "housing.Cell", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    detainee = models.ForeignKey(
        "custody.Detainee", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    area = models.CharField("位置", max_length=100, blank=True)
    detail = models.TextField("详情", blank=True)
    data = models.JSONField(default=dict)  # the last message's data
    first_at = models.DateTimeField("首次发生")
    last_at = models.DateTimeField("最近发生")
    count = models.PositiveIntegerField("次数", default=1)
    state = models.CharField(max_length=8, choices=AlertState.choices, default=AlertState.OPEN)
    false_alarm = models.BooleanField("误报", default=False)
    task_id = models.UUIDField(null=True, blank=True)
    source_ref = models.CharField(max_length=64, unique=True)  # one alert per source
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=150, blank=True)
    close_note = models.CharField("处置说明", max_length=500, blank=True)

    class Meta:
        verbose_name = "告警"
        verbose_name_plural = "告警"
        indexes = [
            models.Index(fields=["unit", "state", "first_at"], name="alert_unit_state"),
            models.Index(fields=["device", "type", "state"], name="alert_fold"),
            models.Index(fields=["task_id"], name="alert_task"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ×{self.count}"


class RejectReason(models.TextChoices):
    MALFORMED = "MALFORMED", "格式错误"
    SCHEMA = "SCHEMA", "数据版本不支持"
    TOPIC_MISMATCH = "TOPIC", "主题与内容不符"
    UNKNOWN_DEVICE = "UNKNOWN", "未登记设备"
    DISABLED = "DISABLED", "设备已停用"
    UNSIGNED = "UNSIGNED", "未签名"
    BAD_SIGNATURE = "BADSIG", "签名错误"
    REPLAY = "REPLAY", "重放（序号未增长）"
    UNKNOWN_EVENT = "EVENT", "未定义的事件"


class RejectedMessage(UUIDModel):
    """A message refused at ingest, kept as received for inspection."""

    received_at = models.DateTimeField("接收时间", db_index=True)
    transport = models.CharField(max_length=4)  # MQTT / HTTP
    topic = models.CharField(max_length=200, blank=True)
    unit_code = models.CharField(max_length=32, blank=True, db_index=True)
    device_code = models.CharField(max_length=64, blank=True)
    reason = models.CharField("原因", max_length=10, choices=RejectReason.choices)
    detail = models.CharField("说明", max_length=300, blank=True)
    payload = models.TextField(blank=True)  # as received (decoded leniently), cut to PAYLOAD_KEEP

    class Meta:
        verbose_name = "被拒消息"
        verbose_name_plural = "被拒消息"
        ordering = ["-received_at"]
