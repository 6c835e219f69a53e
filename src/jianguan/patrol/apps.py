from django.apps import AppConfig


class PatrolConfig(AppConfig):
    name = "jianguan.patrol"
    verbose_name = "巡视与监室值班"

    def ready(self) -> None:
        from jianguan.patrol import follow, tasks  # noqa: F401
