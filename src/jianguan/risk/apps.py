from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "jianguan.risk"
    verbose_name = "风险评估"

    def ready(self) -> None:
        from jianguan.risk import collect, model, tasks  # noqa: F401
        from jianguan.rules.api import register_kind

        register_kind(
            "risk",
            label="风险积分预警模型",
            parse=model.parse_model,
            error=model.PackError,
            builtin_path=model.BUILTIN_PATH,
        )
