from django.apps import AppConfig


class DutyConfig(AppConfig):
    name = "jianguan.duty"
    verbose_name = "勤务"

    def ready(self) -> None:
        from jianguan.duty import catalogue, from_custody  # noqa: F401
        from jianguan.rules.api import register_kind

        register_kind(
            "duty",
            label="动态信息目录与任务路由",
            parse=catalogue.parse_pack,
            error=catalogue.PackError,
            builtin_path=catalogue.BUILTIN_PATH,
        )
