from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "jianguan.rules"
    verbose_name = "规则包"
    default_auto_field = "django.db.models.BigAutoField"
