from django.apps import AppConfig


class SyntheticConfig(AppConfig):
    name = "jianguan.synthetic"
    verbose_name = "合成数据"
