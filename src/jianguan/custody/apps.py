from django.apps import AppConfig


class CustodyConfig(AppConfig):
    name = "jianguan.custody"
    verbose_name = "在押人员"

    def ready(self) -> None:
        from jianguan.custody import admission_rules, deadlines, recompute  # noqa: F401
        from jianguan.rules.api import register_kind

        register_kind(
            "deadlines",
            label="羁押期限",
            parse=deadlines.parse_pack,
            error=deadlines.PackError,
            builtin_path=deadlines.BUILTIN_PATH,
        )
        register_kind(
            "admission",
            label="收押审查",
            parse=admission_rules.parse_pack,
            error=admission_rules.PackError,
            builtin_path=admission_rules.BUILTIN_PATH,
        )
