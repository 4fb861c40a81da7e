"""The Django admin as the moderation panel.

Moderators change nothing by editing a form. Every status change, suspension and report
resolution is an admin action that asks for a reason on an intermediate page and then
calls a service in `forum.moderation`, which records it in the audit trail. The actions
work on the change lists and, with Django 6.1's change-form actions, on a single object's
page too.
"""

# Admin autodiscovery imports only `forum.admin`; importing the modules registers their admins.
from forum.admin import (  # noqa: F401
    audit,
    claims,
    comments,
    history,
    lessons,
    members,
    notifications,
    reports,
)
