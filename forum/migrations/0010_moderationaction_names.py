"""Audit records keep the names of who acted and of the member acted on.

The foreign keys empty when an account, a member or a lesson (with its comments) is deleted;
the names, copied when the action is recorded, keep the record readable. Existing records get
the names their keys still point to; command-line actions, which had no account, are named
by the "(command line)" their reason carries.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

COMMAND_LINE = " (command line)"


def names_backfill(apps, schema_editor):
    ModerationAction = apps.get_model("forum", "ModerationAction")
    Member = apps.get_model("forum", "Member")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    # Historical models lack USERNAME_FIELD; the swappable model in use knows it.
    username = get_user_model().USERNAME_FIELD
    ModerationAction.objects.filter(actor__isnull=False).update(
        actor_name=Subquery(User.objects.filter(pk=OuterRef("actor")).values(username)[:1])
    )
    ModerationAction.objects.filter(actor__isnull=True, reason__endswith=COMMAND_LINE).update(
        actor_name=COMMAND_LINE.strip()
    )
    ModerationAction.objects.filter(member__isnull=False).update(
        member_name=Subquery(
            Member.objects.filter(pk=OuterRef("member")).values("display_name")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("forum", "0009_page_indexes_cover_visibility"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="moderationaction",
            name="actor_name",
            field=models.CharField(
                blank=True,
                help_text="Who acted, as recorded then; empty when the forum acted by itself.",
                max_length=200,
                verbose_name="moderator's name",
            ),
        ),
        migrations.AddField(
            model_name="moderationaction",
            name="member_name",
            field=models.CharField(
                blank=True,
                help_text="The member acted on, or the comment's author, as named then.",
                max_length=150,
                verbose_name="member's name",
            ),
        ),
        migrations.RunPython(names_backfill, migrations.RunPython.noop),
    ]
