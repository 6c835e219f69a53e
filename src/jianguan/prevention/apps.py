from django.apps import AppConfig


class PreventionConfig(AppConfig):
    name = "jianguan.prevention"
    verbose_name = "谈话教育提醒、出监区核验与出所就医监护"

    def ready(self) -> None:
        from jianguan.prevention import consumers  # noqa: F401  (registers the consumer)
