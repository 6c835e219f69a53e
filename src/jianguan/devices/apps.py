from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "jianguan.devices"
    verbose_name = "设备接入与告警"

    def ready(self) -> None:
        from jianguan.devices import catalogue, follow, tasks  # noqa: F401
        from jianguan.rules.api import register_kind

        register_kind(
            "devices",
            label="设备告警与安全防范",
            parse=catalogue.parse_pack,
            error=catalogue.PackError,
            builtin_path=catalogue.BUILTIN_PATH,
        )
