"""Make sure a development site has an admin account to moderate with.

`make run` calls it on every start. The first time (DEBUG on, no superuser yet) it
creates `admin` with a freshly generated password and prints both once; after that,
and always in production, it does nothing.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "In development, create an admin account with a random password if none exists."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username: str, **options) -> None:
        if not settings.DEBUG:
            self.stdout.write("DEBUG is off: no development admin account is created.")
            return
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(
            username=username, email=f"{username}@localhost", password=password
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Development admin account created — user name: {username}  "
                f"password: {password}  (shown once; sign in at /{settings.ADMIN_URL})"
            )
        )
