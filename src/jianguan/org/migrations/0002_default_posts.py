"""Create the platform's posts with their default permissions."""

from django.db import migrations


def create_posts(apps, schema_editor):
    from jianguan.org.permissions import DEFAULT_POST_PERMS, PostKind

    Post = apps.get_model("org", "Post")
    for kind in PostKind:
        Post.objects.get_or_create(
            kind=kind.value,
            defaults={
                "name": kind.label,
                "permissions": [p.value for p in DEFAULT_POST_PERMS[kind]],
            },
        )


class Migration(migrations.Migration):
    dependencies = [("org", "0001_initial")]
    operations = [migrations.RunPython(create_posts, migrations.RunPython.noop)]
