"""The posts of the duty loop's escalation chain (分控, 指挥中心) and the permissions to dispatch
tasks and keep the roster; existing posts receive the new permissions their defaults include."""

from django.db import migrations, models

NEW_PERMS = {"task.dispatch", "roster.edit"}


def add_posts_and_perms(apps, schema_editor):
    from jianguan.org.permissions import DEFAULT_POST_PERMS, PostKind

    Post = apps.get_model("org", "Post")
    for kind in (PostKind.SUBCONTROL, PostKind.COMMAND):
        Post.objects.get_or_create(
            kind=kind.value,
            defaults={
                "name": kind.label,
                "permissions": [p.value for p in DEFAULT_POST_PERMS[kind]],
            },
        )
    for post in Post.objects.all():
        defaults = {p.value for p in DEFAULT_POST_PERMS.get(post.kind, [])}
        added = (defaults & NEW_PERMS) - set(post.permissions)
        if added:
            post.permissions = sorted(set(post.permissions) | added)
            post.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("org", "0003_user_gender")]
    operations = [
        migrations.AlterField(
            model_name="post",
            name="kind",
            field=models.CharField(
                choices=[
                    ("RECEPTION", "接待"),
                    ("ADMISSION", "收押"),
                    ("INTERROGATION", "提讯"),
                    ("PATROL", "巡控"),
                    ("CUSTODIAN", "管教"),
                    ("MEDICAL", "医务"),
                    ("SUBCONTROL", "分控"),
                    ("COMMAND", "指挥中心"),
                    ("LEADER", "所领导"),
                    ("SUPERVISOR", "业务指导"),
                    ("ADMINISTRATOR", "系统管理员"),
                ],
                max_length=24,
                unique=True,
                verbose_name="岗位",
            ),
        ),
        migrations.RunPython(add_posts_and_perms, migrations.RunPython.noop),
    ]
