from django.apps import AppConfig


class HousingConfig(AppConfig):
    name = "jianguan.housing"
    verbose_name = "监室"
