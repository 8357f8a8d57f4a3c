from django.db import migrations


def create_roles(apps, schema_editor):
    from accounts.roles import sync_role_groups

    sync_role_groups(apps)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["viewer", "staff", "officer"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("partners", "0001_initial"),
        ("engagements", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
