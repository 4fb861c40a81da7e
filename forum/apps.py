from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ForumConfig(AppConfig):
    name = "forum"
    verbose_name = _("Discussion")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from forum.activity import lesson_or_course_saved, member_saved
        from forum.models import Member
        from lessons.models import Course, Lesson

        post_save.connect(member_saved, sender=Member, dispatch_uid="member-generation")
        for model in (Lesson, Course):
            for name, signal in (("saved", post_save), ("deleted", post_delete)):
                uid = f"{model.__name__}-{name}-generation"
                signal.connect(lesson_or_course_saved, sender=model, dispatch_uid=uid)
