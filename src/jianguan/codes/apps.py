from django.apps import AppConfig


class CodesConfig(AppConfig):
    name = "jianguan.codes"
    verbose_name = "代码表"
