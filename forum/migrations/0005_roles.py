"""The two roles, as groups with exact permissions. Superusers can do everything anyway."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODERATOR_PERMISSIONS = [
    ("forum", "view_comment"),
    ("forum", "change_comment"),
    ("forum", "moderate_comment"),
    ("forum", "view_commentrevision"),
    ("forum", "view_commentlike"),
    ("forum", "view_member"),
    ("forum", "change_member"),
    ("forum", "view_report"),
    ("forum", "change_report"),
    ("forum", "view_moderationaction"),
]
TEACHER_PERMISSIONS = [("forum", "curate_own_lessons")]
ROLES = {"Moderators": MODERATOR_PERMISSIONS, "Teachers": TEACHER_PERMISSIONS}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; the roles need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            [
                Permission.objects.get(content_type__app_label=app, codename=codename)
                for app, codename in codenames
            ]
        )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("forum", "0004_moderation"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
