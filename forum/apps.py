from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class ForumConfig(AppConfig):
    name = "forum"
    verbose_name = _("Discussion")

    def ready(self) -> None:
        from allauth.socialaccount.models import SocialApp

        from forum.social import apps_cache

        # The admin's social applications are cached (forum.social.apps_cache).
        post_save.connect(apps_cache.forget, sender=SocialApp, dispatch_uid="social-apps-saved")
        post_delete.connect(apps_cache.forget, sender=SocialApp, dispatch_uid="social-apps-gone")
