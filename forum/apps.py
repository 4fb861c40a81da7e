from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ForumConfig(AppConfig):
    name = "forum"
    verbose_name = _("Discussion")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from forum.activity import member_saved
        from forum.models import Member

        post_save.connect(member_saved, sender=Member, dispatch_uid="member-generation")
