"""Moderators see the notifications members were told (the admin's Notification list) and the
task worker's queue (read-only: django_tasks_db allows no change), so that a notification email
that failed can be looked into without a superuser."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "Moderators": [
        ("forum", "view_notification"),
        ("django_tasks_database", "view_dbtaskresult"),
    ]
}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; these are needed now.
    for label in {app for codenames in GRANTS.values() for app, _codename in codenames}:
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *(
                Permission.objects.get(content_type__app_label=app, codename=codename)
                for app, codename in codenames
            )
        )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        for group in apps.get_model("auth", "Group").objects.filter(name=name):
            for app, codename in codenames:
                group.permissions.remove(
                    *Permission.objects.filter(content_type__app_label=app, codename=codename)
                )


class Migration(migrations.Migration):
    dependencies = [
        ("forum", "0015_notifications"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
