from django.apps import AppConfig


class CustodyConfig(AppConfig):
    name = "jianguan.custody"
    verbose_name = "在押人员"
