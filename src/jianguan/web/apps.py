from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "jianguan.web"
    verbose_name = "界面"
