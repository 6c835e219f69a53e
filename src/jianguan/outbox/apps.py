from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "jianguan.outbox"
    verbose_name = "事件发件箱"
