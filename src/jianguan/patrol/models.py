"""Welfare checks (巡视) of cells and the detainees' night duty rota (监室值班)."""

from __future__ import annotations

from django.db import models

from jianguan.core.models import UUIDModel


class CheckVia(models.TextChoices):
    TERMINAL = "TERMINAL", "监室终端"
    HAND = "HAND", "手持终端/网页"


class PatrolCheck(UUIDModel):
    """An officer was at the cell (到位签到)."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    cell = models.ForeignKey("housing.Cell", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField("签到时间")
    officer = models.CharField("民警", max_length=150)  # username as given by the terminal
    officer_name = models.CharField("民警姓名", max_length=100, blank=True)
    via = models.CharField("方式", max_length=16, choices=CheckVia.choices)
    device = models.CharField("设备", max_length=64, blank=True)
    source_ref = models.CharField(max_length=64, unique=True)  # one check per terminal message
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name = "巡视签到"
        verbose_name_plural = "巡视签到"
        indexes = [models.Index(fields=["cell", "-at"], name="patrol_check_cell_at")]


class CellWatch(models.Model):
    """What the welfare-check timer keeps per cell: when the watch began (the cell became
    occupied) and the last check."""

    cell = models.OneToOneField(
        "housing.Cell", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    since = models.DateTimeField(null=True, blank=True)
    last_check_at = models.DateTimeField(null=True, blank=True)
    last_check_by = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = "监室巡视状态"
        verbose_name_plural = "监室巡视状态"

    def __str__(self) -> str:
        return f"{self.cell_id} {self.last_check_at or '—'}"


class LapseState(models.TextChoices):
    OPEN = "OPEN", "逾期未巡视"
    LATE = "LATE", "逾期巡视"
    MISSED = "MISSED", "漏巡（监室已无人，未补巡）"
    VOID = "VOID", "签到迟到送达（按时）"


class PatrolLapse(UUIDModel):
    """A check that did not come by its due moment plus the grace: it needs a written reason."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    cell = models.ForeignKey("housing.Cell", on_delete=models.PROTECT, related_name="+")
    due_at = models.DateTimeField("应巡视时间")
    interval_minutes = models.PositiveIntegerField("巡视间隔")
    grace_minutes = models.PositiveIntegerField("宽限")
    opened_at = models.DateTimeField()
    state = models.CharField(max_length=8, choices=LapseState.choices, default=LapseState.OPEN)
    checked_at = models.DateTimeField("实际巡视时间", null=True, blank=True)
    checked_by = models.CharField(max_length=100, blank=True)
    reason = models.TextField("情况说明", blank=True)
    reason_by = models.CharField(max_length=150, blank=True)
    reason_at = models.DateTimeField(null=True, blank=True)
    alert_id = models.UUIDField(null=True, blank=True)
    task_id = models.UUIDField(null=True, blank=True)

    class Meta:
        verbose_name = "巡视逾期"
        verbose_name_plural = "巡视逾期"
        constraints = [
            models.UniqueConstraint(fields=["cell", "due_at"], name="patrol_lapse_once_per_due")
        ]
        indexes = [models.Index(fields=["unit", "reason_at"], name="patrol_lapse_unexplained")]


class DutyPost(UUIDModel):
    """One detainee on one night-duty shift of one cell (监室值班表的一格)."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    cell = models.ForeignKey("housing.Cell", on_delete=models.PROTECT, related_name="+")
    night = models.DateField("值班夜")  # the local date the night begins on
    shift = models.PositiveSmallIntegerField("班次")  # 0 = the first shift of the night
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    detainee = models.ForeignKey("custody.Detainee", on_delete=models.PROTECT, related_name="+")
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checkin_device = models.CharField(max_length=64, blank=True)
    set_by = models.CharField(max_length=150)
    set_at = models.DateTimeField()

    class Meta:
        verbose_name = "监室值班"
        verbose_name_plural = "监室值班"
        constraints = [
            models.UniqueConstraint(
                fields=["cell", "starts_at", "detainee"], name="duty_post_once_per_shift"
            )
        ]
        indexes = [
            models.Index(fields=["cell", "night"], name="duty_post_cell_night"),
            models.Index(fields=["starts_at", "ends_at"], name="duty_post_window"),
        ]
