"""Moderators' edits of members are recorded: a kind of their own, and room for the fields."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("forum", "0010_moderationaction_names"),
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
                ],
                max_length=30,
                verbose_name="action",
            ),
        ),
        migrations.AlterField(
            model_name="moderationaction",
            name="status_after",
            field=models.CharField(blank=True, max_length=300, verbose_name="after"),
        ),
        migrations.AlterField(
            model_name="moderationaction",
            name="status_before",
            field=models.CharField(blank=True, max_length=300, verbose_name="before"),
        ),
    ]
