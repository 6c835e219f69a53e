from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "jianguan.core"
    verbose_name = "基础"
