"""Lesson Forum settings, read from environment variables.

Every variable has a development default, so `make run` needs no configuration.
Production sets DEBUG=0 and then must give SECRET_KEY and ALLOWED_HOSTS.
The README lists every variable.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return env_bool_value(name, value)


def env_bool_value(name: str, value: str) -> bool:
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def database_from_url(url: str) -> dict:
    """Turn `sqlite:///path` or `postgres://user:pass@host:port/name?opt=…` into DATABASES[…]."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute/path.db, as in dj-database-url.
        path = unquote(parts.path)[1:]
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path or ":memory:",
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL;",
            },
        }
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        # Server-side binding lets psycopg prepare a statement the fifth time a connection runs
        # it, so that PostgreSQL plans it once: a cached page's queries take half the time
        # (the lesson's stamp 0.37 → 0.19 ms; the signed-in seed page 3.5× → 5.4× the peer in
        # `make bench`). A pooler in transaction mode needs its prepared-statement support on
        # (docs/scaling.md), or `?server_side_binding=false` in the URL.
        options = {"server_side_binding": True, "prepare_threshold": 5}
        for name, value in parse_qsl(parts.query):
            if name == "server_side_binding":
                options[name] = env_bool_value(name, value)
            elif name == "prepare_threshold":
                options[name] = None if value.lower() in {"", "none"} else int(value)
            else:
                options[name] = value
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(f"DATABASE_URL scheme {parts.scheme!r} is not supported")


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off it is required: "
            "set SECRET_KEY to a long random string (50+ characters)."
        )
    SECRET_KEY = "django-insecure-development-only-key-never-used-with-debug-off"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.weibo",
    "allauth.socialaccount.providers.weixin",
    "django_tasks_db",
    "lessons",
    "forum",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # form-action for social login buttons of providers added in the admin (forum/social/).
    "forum.social.form_action.FormActionMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # NUL and bytes that are not UTF-8 stop here (forum/input_guard.py).
    "forum.input_guard.InputGuardMiddleware",
    "forum.middleware.HtmxPermissionDeniedMiddleware",
    "forum.middleware.DatabaseUnavailableMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "forum.urls"
WSGI_APPLICATION = "forum.wsgi.application"
ASGI_APPLICATION = "forum.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # Last: during a shared page's render, its slots' marks win (forum.caching).
                "forum.caching.slots.context_processor",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The indexes of a lesson's top-level comments include two columns on PostgreSQL, so a page's ids
# come from the index alone; SQLite builds them without, which is all this warning says.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "forum.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "lessonforum"),
            # Redis answers in well under a millisecond: one that takes longer than this is down,
            # and the cache answers as an empty one (forum/cache.py). redis-py waits 5 s.
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.5},
        }
    }
    # Sessions are read from Redis and written through to the database, which stays their record
    # (and is read when Redis does not answer).
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Cached lesson pages (forum.caching): each process keeps the copies it served last, up to this
# many bytes of text; with Redis they are shared by every process too. Their stamps are in the
# database either way, so no process ever serves a stale copy.
FORUM_PAGE_CACHE_BYTES = env_int("FORUM_PAGE_CACHE_BYTES", 64 * 1024 * 1024)
FORUM_PAGE_CACHE_SHARED = bool(REDIS_URL)

# allauth's backend, which is Django's ModelBackend too (the admin's login goes through allauth).
AUTHENTICATION_BACKENDS = ["forum.accounts.AuthenticationBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "account_login"

ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "optional")
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_RATE_LIMITS_ENABLED = env_bool("ACCOUNT_RATE_LIMITS_ENABLED", True)
if not ACCOUNT_RATE_LIMITS_ENABLED:
    ACCOUNT_RATE_LIMITS = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "forum" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / ".static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST or not DEBUG:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": EMAIL_HOST or "localhost",
                "port": env_int("EMAIL_PORT", 587),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", True),
                "timeout": 10,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
del EMAIL_HOST
# Background work (notification emails) goes through Django's Tasks API. The default backend
# keeps the queue in the database and `manage.py db_worker` runs it (`make run` starts one);
# docs/scaling.md says how many to run and how to move the queue to Redis.
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")
TASKS = {"default": {"BACKEND": TASKS_BACKEND, "QUEUES": []}}  # [] : any queue name
if TASKS_BACKEND == "django_tasks_rq.RQBackend":
    # The queue in Redis instead (`pip install django-tasks-rq`), run by `manage.py rqworker`.
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    TASKS["default"]["QUEUES"] = ["default"]
    RQ_QUEUES = {"default": {"URL": os.environ.get("TASKS_REDIS_URL") or REDIS_URL}}

DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "课程社区 <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The site's origin as readers reach it: emails are read outside the site, so their links are
# absolute (forum.notifications.mail).
FORUM_SITE_URL = os.environ.get("FORUM_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# A notification email that SMTP refused is tried again after FORUM_EMAIL_RETRY_BASE seconds,
# then twice as long each time up to FORUM_EMAIL_RETRY_MAX (15 tries, about 9 hours in all).
FORUM_EMAIL_RETRY_BASE = env_int("FORUM_EMAIL_RETRY_BASE", 5)
FORUM_EMAIL_RETRY_MAX = env_int("FORUM_EMAIL_RETRY_MAX", 3600)

# HTTPS: on by default in production, each switch overridable (e.g. behind a TLS proxy).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Uploaded avatars and the images `import_lesson --fetch-media` downloads (forum/images.py):
# stored through STORAGES["default"] under content-hash names, in FORUM_MEDIA_ROOT by default.
# WhiteNoise serves only the files present at start-up, so with FORUM_SERVE_MEDIA the site
# serves these names itself (forum/views/media.py: images only, nosniff, cached for good);
# production may leave that to the web server or an object store instead (docs/scaling.md).
MEDIA_ROOT = Path(os.environ.get("FORUM_MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = os.environ.get("FORUM_MEDIA_URL", "/media/")
FORUM_SERVE_MEDIA = env_bool("FORUM_SERVE_MEDIA", True)
# An S3-compatible bucket instead (several app servers), with `pip install django-storages[s3]`;
# the keys come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY as boto3 reads them.
FORUM_MEDIA_S3_BUCKET = os.environ.get("FORUM_MEDIA_S3_BUCKET", "")
FORUM_MEDIA_S3_DOMAIN = os.environ.get("FORUM_MEDIA_S3_DOMAIN", "")
if FORUM_MEDIA_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": FORUM_MEDIA_S3_BUCKET,
            "endpoint_url": os.environ.get("FORUM_MEDIA_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("FORUM_MEDIA_S3_REGION") or None,
            "custom_domain": FORUM_MEDIA_S3_DOMAIN or None,
            # Public objects at plain URLs: a content-hash name never changes its content.
            "querystring_auth": False,
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
    FORUM_SERVE_MEDIA = False
# An image (upload or download) is refused over FORUM_IMAGE_MAX_BYTES bytes or over
# FORUM_IMAGE_MAX_PIXELS pixels (read from its header before decoding); a downloaded article
# picture is scaled down to FORUM_IMAGE_MAX_SIDE pixels a side.
FORUM_IMAGE_MAX_BYTES = env_int("FORUM_IMAGE_MAX_BYTES", 5 * 1024 * 1024)
FORUM_IMAGE_MAX_PIXELS = env_int("FORUM_IMAGE_MAX_PIXELS", 40_000_000)
FORUM_IMAGE_MAX_SIDE = env_int("FORUM_IMAGE_MAX_SIDE", 2048)
# DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) counts form fields, not files, so a 5 MB avatar reaches
# the form; an uploaded file keeps at most FORUM_IMAGE_MAX_BYTES + 1 bytes, however big it is.
FILE_UPLOAD_HANDLERS = [
    "forum.images.CappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Lessons imported without --fetch-media show their pictures and avatars from the source site;
# once every lesson was imported with it, FORUM_CSP_REMOTE_IMAGES=0 drops https: from img-src.
FORUM_CSP_REMOTE_IMAGES = env_bool("FORUM_CSP_REMOTE_IMAGES", True)

from django.utils.csp import CSP  # noqa: E402

from forum.social import config as social_config  # noqa: E402

# Social logins (forum/social/): a provider whose client id and secret are set here shows on
# the login and sign-up pages; one added in the admin's "Social applications" too (read from
# the cache; the pages showing its button allow its origin: forum/social/form_action.py).
SOCIALACCOUNT_PROVIDERS = social_config.providers_settings(os.environ)
SOCIALACCOUNT_ADAPTER = "forum.social.adapter.SocialAccountAdapter"
# A first login makes the account at once, unless the provider's name is refused by our name
# rules (forum.identity) or taken: then allauth's sign-up form asks for another.
SOCIALACCOUNT_AUTO_SIGNUP = True
# Never sign in to an existing account because a provider says the email address matches: the
# member logs in to it first and links the provider from the settings page.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
# WeChat gives no email address: the account works without one (settings invite to add one).
SOCIALACCOUNT_EMAIL_REQUIRED = False
SOCIALACCOUNT_QUERY_EMAIL = True
SOCIALACCOUNT_REQUESTS_TIMEOUT = env_int("SOCIALACCOUNT_REQUESTS_TIMEOUT", 5)

# No nonce: the pages hold no inline script, so with 'self' a nonce would decide nothing (an
# injected inline script is refused without it; a script from this site is allowed with or
# without it), and without one every reader who is not signed in gets the same bytes
# (docs/architecture.md, "The page cache").
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [
        CSP.SELF,
        *(["https:"] if FORUM_CSP_REMOTE_IMAGES else []),
        *([f"https://{FORUM_MEDIA_S3_DOMAIN}"] if FORUM_MEDIA_S3_DOMAIN else []),
        "data:",
    ],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    # allauth's login is a form POST answered by a redirect to the provider.
    "form-action": [CSP.SELF, *social_config.form_action_origins(SOCIALACCOUNT_PROVIDERS)],
}

# The discussion.
FORUM_THREAD_DEPTH = env_int("FORUM_THREAD_DEPTH", 4)
FORUM_COMMENTS_PER_PAGE = env_int("FORUM_COMMENTS_PER_PAGE", 20)
FORUM_COMMENT_MAX_LENGTH = 5000
# Reports weigh by who makes them (forum.trust.report_weight): a comment is hidden for review
# when its open reports weigh this much together; 0 turns hiding by reports off. Accounts younger
# than FORUM_REPORT_TRUSTED_AFTER_DAYS days, or with fewer visible comments than
# FORUM_REPORT_TRUSTED_COMMENTS, weigh nothing: their reports only reach the moderators' queue.
FORUM_REPORTS_TO_HIDE = env_int("FORUM_REPORTS_TO_HIDE", 3)
FORUM_REPORT_TRUSTED_AFTER_DAYS = env_int("FORUM_REPORT_TRUSTED_AFTER_DAYS", 7)
FORUM_REPORT_TRUSTED_COMMENTS = env_int("FORUM_REPORT_TRUSTED_COMMENTS", 3)
# "off", or "new-members": comments of members with fewer than FORUM_TRUSTED_AFTER published
# comments wait for a moderator. A course can override it in the admin.
FORUM_PREMODERATION = os.environ.get("FORUM_PREMODERATION", "off")
FORUM_TRUSTED_AFTER = env_int("FORUM_TRUSTED_AFTER", 3)
# Names no member may take, nor any name that looks like one (forum.identity: compared by their
# confusable skeletons); FORUM_RESERVED_NAMES_EXTRA adds more, comma-separated.
FORUM_RESERVED_NAMES = [
    *("作者回复", "编辑回复", "管理员", "版主", "讲师", "老师", "助教", "官方", "客服", "系统"),
    *("已注销用户", "匿名", "admin", "administrator", "moderator", "mod", "staff", "root"),
    *("system", "support", "official", "anonymous", "deleted"),
    *env_list("FORUM_RESERVED_NAMES_EXTRA", []),
]

ADMIN_URL = os.environ.get("ADMIN_URL", "admin/").strip("/") + "/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# ---------------------------------------------------------------------------------------------
# Abuse limits (forum/ratelimit.py) and the client's address behind a proxy.
# Each action has windows "N/period/scope": at most N requests per period (s, m, h or d, with an
# optional count: 10m) per member or per client IP. They are counted in the cache, so with
# REDIS_URL every worker and app server counts the same hits. FORUM_RATE_LIMIT_SCALE multiplies
# every N; 0 turns these limits and allauth's off, which only a benchmark or load test should do.


def parse_rate_limits(text: str) -> list[tuple[int, int, str]]:
    """`5/m/member,30/h/member,20/m/ip` → [(5, 60, "member"), (30, 3600, "member"), …]."""
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    limits = []
    for item in text.split(","):
        amount, period, scope = item.strip().split("/")
        count = int(period[:-1] or 1)  # "m" is one minute, "10m" ten
        if (
            period[-1:] not in seconds
            or scope not in {"member", "ip"}
            or min(int(amount), count) < 1
        ):
            raise ValueError(item)
        limits.append((int(amount), count * seconds[period[-1]], scope))
    # One counter per (period, scope): two windows of the same length would count twice.
    if len({(period, scope) for _amount, period, scope in limits}) != len(limits):
        raise ValueError(f"{text}: two windows of the same length and scope")
    return limits


def env_rate_limits(name: str, default: str) -> list[tuple[int, int, str]]:
    value = os.environ.get(name, "").strip() or default
    try:
        return parse_rate_limits(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must look like 5/m/member,30/h/member,20/m/ip, not {value!r}"
        ) from None


def env_networks(name: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    try:
        return [ipaddress.ip_network(item, strict=False) for item in env_list(name, [])]
    except ValueError as error:
        raise ImproperlyConfigured(f"{name}: {error}") from None


def env_scale(name: str) -> float:
    value = os.environ.get(name, "").strip() or "1"
    try:
        scale = float(value)
    except ValueError:
        scale = -1.0
    if not 0 <= scale <= 1000:  # also refuses nan and inf
        raise ImproperlyConfigured(f"{name} must be a number such as 1, 2, 0.5 or 0, not {value!r}")
    return scale


FORUM_RATE_LIMIT_SCALE = env_scale("FORUM_RATE_LIMIT_SCALE")
# A member writes a comment in a minute or more; an IP may be a school or office behind one
# NAT, so its limits are looser and mostly stop one host driving many accounts.
FORUM_RATE_LIMITS = {
    "post": env_rate_limits("FORUM_RATE_LIMIT_POST", "5/m/member,30/h/member,30/m/ip,300/h/ip"),
    "reply": env_rate_limits("FORUM_RATE_LIMIT_REPLY", "10/m/member,60/h/member,60/m/ip,600/h/ip"),
    "like": env_rate_limits("FORUM_RATE_LIMIT_LIKE", "30/m/member,300/h/member,120/m/ip,1200/h/ip"),
    "edit": env_rate_limits("FORUM_RATE_LIMIT_EDIT", "10/m/member,60/h/member,60/m/ip,600/h/ip"),
    "report": env_rate_limits("FORUM_RATE_LIMIT_REPORT", "5/m/member,20/h/member,20/m/ip,100/h/ip"),
    "claim": env_rate_limits("FORUM_RATE_LIMIT_CLAIM", "3/h/member,10/d/member,10/h/ip"),
    # A member's whole history, read at once: a few downloads a day are plenty.
    "export": env_rate_limits("FORUM_RATE_LIMIT_EXPORT", "3/h/member,10/d/member,30/h/ip"),
    # Typing in the search box asks once per pause (300 ms): a few a second at most.
    "search": env_rate_limits("FORUM_RATE_LIMIT_SEARCH", "60/m/member,600/h/member,120/m/ip"),
}
if FORUM_RATE_LIMIT_SCALE == 0:
    ACCOUNT_RATE_LIMITS = False
# Requests from these addresses (IPs or CIDRs, e.g. the load balancer) are read through
# X-Forwarded-For: the client is the right-most address there that is not one of them. Empty,
# X-Forwarded-For is ignored, so a client cannot choose its own rate-limit bucket.
FORUM_TRUSTED_PROXIES = env_networks("FORUM_TRUSTED_PROXIES")
# allauth's login/sign-up/reset limits see the same client address as ours, and sign-up with
# a taken address looks like any other (forum/accounts.py).
ACCOUNT_ADAPTER = "forum.accounts.AccountAdapter"
ACCOUNT_FORMS = {
    "login": "forum.accounts.LoginForm",
    "signup": "forum.accounts.SignupForm",
    "reset_password": "forum.accounts.ResetPasswordForm",
}
# A password reset for an address no account has verified sends nothing (the page looks the
# same), so the form can neither mail strangers nor hand an account to whoever typed an address
# they never proved was theirs.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
# Adding, removing or choosing the primary email address asks for the password again unless it
# was entered on allauth's "confirm access" page in the last ACCOUNT_REAUTHENTICATION_TIMEOUT
# seconds (allauth counts that page only, not the login). Changing the password asks for the
# current one every time, on its own form.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = env_int("ACCOUNT_REAUTHENTICATION_TIMEOUT", 5 * 60)
# A changed password or email address is told to the member's verified address (the old one for
# a change of address), so a taken-over account does not go unnoticed.
ACCOUNT_EMAIL_NOTIFICATIONS = True
