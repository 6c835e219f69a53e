from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "jianguan.org"
    verbose_name = "组织与人员"
