"""Public face of the devices app: the registry, ingest, alerts and their figures."""

from __future__ import annotations

from jianguan.devices.alerts import (
    DEVICE_ALERT,
    FalseAlarmRate,
    Raised,
    alert_raise,
    devices_pack,
    false_alarm_rates,
)
from jianguan.devices.catalogue import DevicesPack, EventType
from jianguan.devices.ingest import Incoming, Tally, Verdict, ingest
from jianguan.devices.models import (
    Alert,
    AlertState,
    Device,
    DeviceKind,
    DeviceStatus,
    LocationKind,
    RejectedMessage,
    RejectReason,
)
from jianguan.devices.protocol import Envelope, Refused, decode, encode, topic_for
from jianguan.devices.registry import (
    device_register,
    device_secret_rotate,
    device_set_status,
    device_wear,
    devices_silent,
)
from jianguan.devices.tasks import silent_check

__all__ = [
    "DEVICE_ALERT",
    "Alert",
    "AlertState",
    "Device",
    "DeviceKind",
    "DeviceStatus",
    "DevicesPack",
    "Envelope",
    "EventType",
    "FalseAlarmRate",
    "Incoming",
    "LocationKind",
    "Raised",
    "Refused",
    "RejectReason",
    "RejectedMessage",
    "Tally",
    "Verdict",
    "alert_raise",
    "decode",
    "device_register",
    "device_secret_rotate",
    "device_set_status",
    "device_wear",
    "devices_pack",
    "devices_silent",
    "encode",
    "false_alarm_rates",
    "ingest",
    "silent_check",
    "topic_for",
]
