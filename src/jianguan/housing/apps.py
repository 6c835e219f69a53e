from django.apps import AppConfig


class HousingConfig(AppConfig):
    name = "jianguan.housing"
    verbose_name = "监室"

    def ready(self) -> None:
        from jianguan.housing import separation
        from jianguan.rules.api import register_kind

        register_kind(
            "separation",
            label="分押分管",
            parse=separation.parse_pack,
            error=separation.PackError,
            builtin_path=separation.BUILTIN_PATH,
        )
