from django.apps import AppConfig


class PatrolConfig(AppConfig):
    name = "jianguan.patrol"
    verbose_name = "巡视与监室值班"
