from __future__ import annotations

import secrets

import pytest
from django.core.exceptions import ImproperlyConfigured

from forum.settings import database_from_url
from tests.manage_subprocess import run_manage


def test_default_database_is_an_sqlite_file():
    config = database_from_url("sqlite:////srv/forum/db.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == "/srv/forum/db.sqlite3"


def test_postgres_url_uses_health_checks():
    config = database_from_url("postgres://forum:s%40cret@db.internal:5433/lessons?sslmode=require")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"], config["HOST"], config["PORT"]) == (
        "forum",
        "s@cret",
        "db.internal",
        "5433",
    )
    assert config["NAME"] == "lessons"
    assert config["CONN_HEALTH_CHECKS"] is True
    assert config["OPTIONS"] == {
        "sslmode": "require",
        "server_side_binding": True,
        "prepare_threshold": 5,
    }


def test_postgres_url_can_turn_prepared_statements_off():
    config = database_from_url(
        "postgres://forum@db/lessons?server_side_binding=false&prepare_threshold=none"
    )
    assert config["OPTIONS"] == {"server_side_binding": False, "prepare_threshold": None}


def test_unknown_database_scheme_is_refused():
    with pytest.raises(ImproperlyConfigured):
        database_from_url("mysql://root@localhost/forum")


def test_missing_secret_key_with_debug_off_is_a_clear_error():
    result = run_manage("check", DEBUG="0", SECRET_KEY="", ALLOWED_HOSTS="forum.example")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_deploy_check_is_clean_with_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="forum.example",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_https_settings_follow_the_environment():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE)",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="forum.example",
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="600",
    )
    assert result.stdout.split()[-3:] == ["False", "600", "True"]


def test_redis_url_selects_the_redis_cache():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.CACHES['default']['BACKEND'])",
        REDIS_URL="redis://127.0.0.1:6379/1",
    )
    assert result.stdout.strip().endswith("RedisCache")


MAILER = (
    "from django.conf import settings as s; m = s.MAILERS['default']; "
    "print(m['BACKEND'].rsplit('.', 2)[-2], m.get('OPTIONS', {}).get('host'))"
)


def test_development_mail_is_printed_on_the_console():
    result = run_manage("shell", "-c", MAILER, DEBUG="1", EMAIL_HOST="")
    assert result.stdout.split()[-2:] == ["console", "None"]


def test_an_email_host_sends_mail_by_smtp():
    result = run_manage("shell", "-c", MAILER, DEBUG="1", EMAIL_HOST="smtp.forum.example")
    assert result.stdout.split()[-2:] == ["smtp", "smtp.forum.example"]


def test_production_mail_always_goes_by_smtp():
    result = run_manage(
        "shell",
        "-c",
        MAILER,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="forum.example",
        EMAIL_HOST="",
    )
    assert result.stdout.split()[-2:] == ["smtp", "localhost"]
