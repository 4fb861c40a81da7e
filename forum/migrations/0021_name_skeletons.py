from django.conf import settings
from django.db import migrations

# A migration normally keeps its own copy of what it computes. The skeleton is Unicode's
# confusables table plus normalization (forum.identity), too large to copy and meant to be the
# same function Member.save() uses, so it is imported here; it reads no model.
from forum.identity import stored_skeleton


def skeletons_fill(apps, schema_editor):
    """Each member's name skeletons, and a member for each account that had none yet (one is
    made at sign-up from now on): the rule that refuses a name like another account's compares
    members' skeleton columns, so every account needs its row."""
    Member = apps.get_model("forum", "Member")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    without = User.objects.filter(member__isnull=True).order_by("pk")
    Member.objects.bulk_create(
        (
            Member(user=user, display_name=user.username, slug=user.username)
            for user in without.iterator()
        ),
        batch_size=500,
    )
    members = Member.objects.select_related("user").order_by("pk")
    batch = []
    for member in members.iterator(chunk_size=500):
        member.name_skeleton = stored_skeleton(member.display_name)
        member.account_skeleton = stored_skeleton(member.user.username) if member.user else ""
        batch.append(member)
        if len(batch) == 500:
            Member.objects.bulk_update(batch, ["name_skeleton", "account_skeleton"])
            batch = []
    Member.objects.bulk_update(batch, ["name_skeleton", "account_skeleton"])


class Migration(migrations.Migration):
    dependencies = [
        ("forum", "0020_member_left_at"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(skeletons_fill, migrations.RunPython.noop, elidable=True)]
