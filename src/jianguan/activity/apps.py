from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "jianguan.activity"
    verbose_name = "最新动态"

    def ready(self) -> None:
        from jianguan.activity import consumers  # noqa: F401  (registers the consumer)
