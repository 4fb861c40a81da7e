"""Identity claims (forum.claims), and the Moderators' permissions to see and decide them."""

import django.db.models.deletion
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

GRANTS = {"Moderators": [("forum", "view_memberclaim"), ("forum", "change_memberclaim")]}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; these are needed now.
    app_config = apps.get_app_config("forum")
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
        ("forum", "0018_member_profile"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="moderationaction",
            name="kind",
            field=models.CharField(
                choices=[
                    ("publish", "publish"),
                    ("hide", "hide"),
                    ("spam", "mark as spam"),
                    ("remove", "remove"),
                    ("restore", "restore"),
                    ("feature", "feature"),
                    ("unfeature", "unfeature"),
                    ("pin", "pin"),
                    ("unpin", "unpin"),
                    ("auto-hide", "hidden by reports"),
                    ("reports-upheld", "reports upheld"),
                    ("reports-dismissed", "reports dismissed"),
                    ("suspend", "suspend member"),
                    ("ban", "ban member"),
                    ("unsuspend", "lift suspension"),
                    ("hide-all", "hide all of a member's content"),
                    ("link-account", "link member to account"),
                    ("edit-member", "edit member"),
                    ("claim-approved", "approve identity claim"),
                    ("claim-refused", "refuse identity claim"),
                ],
                max_length=30,
                verbose_name="action",
            ),
        ),
        migrations.CreateModel(
            name="MemberClaim",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "reason",
                    models.TextField(
                        help_text="Why the claimant says it is theirs.",
                        max_length=1000,
                        verbose_name="reason",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "open"),
                            ("approved", "approved"),
                            ("refused", "refused"),
                        ],
                        default="open",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="claimed at")),
                (
                    "decided_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="decided at"),
                ),
                (
                    "decision_note",
                    models.CharField(
                        blank=True,
                        help_text="The moderator's reason, shown to the claimant.",
                        max_length=500,
                        verbose_name="decision note",
                    ),
                ),
                (
                    "claimant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="claims_made",
                        to="forum.member",
                        verbose_name="claimed by",
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="decided by",
                    ),
                ),
                (
                    "member",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="claims",
                        to="forum.member",
                        verbose_name="imported identity",
                    ),
                ),
            ],
            options={
                "verbose_name": "identity claim",
                "verbose_name_plural": "identity claims",
                "indexes": [
                    models.Index(fields=["status", "created_at"], name="claim_status_created")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "open")),
                        fields=("member", "claimant"),
                        name="claim_one_open_per_member",
                    )
                ],
            },
        ),
        migrations.RunPython(grant, revoke),
    ]
