"""Settings for every jianguan node, read from the environment.

One codebase serves a facility, a city, a province or the nation (DESIGN.md §1); the level and
the node's own unit come from JIANGUAN_LEVEL and JIANGUAN_UNIT_CODE. With no environment at all
the embedded default runs: SQLite in ./var, huey on SQLite, no Redis.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("JIANGUAN_VAR_DIR", Path.cwd() / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("JIANGUAN_DEBUG", False)
SECRET_KEY = os.environ.get("JIANGUAN_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and _env_bool("JIANGUAN_PRODUCTION", False):
        raise RuntimeError("JIANGUAN_SECRET_KEY must be set in production")
    # A development key: fine for the demo and tests, refused by `check --deploy`.
    SECRET_KEY = "django-insecure-jianguan-development-only-key-change-me"  # noqa: S105

# The audit chain is keyed separately so a database dump alone cannot re-forge it.
AUDIT_CHAIN_KEY = os.environ.get("JIANGUAN_AUDIT_KEY", SECRET_KEY)

ALLOWED_HOSTS = [
    h for h in os.environ.get("JIANGUAN_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("JIANGUAN_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

JIANGUAN_LEVEL = os.environ.get("JIANGUAN_LEVEL", "facility")
if JIANGUAN_LEVEL not in {"facility", "city", "province", "national"}:
    raise RuntimeError(
        f"JIANGUAN_LEVEL must be facility, city, province or national, not {JIANGUAN_LEVEL!r}"
    )
JIANGUAN_UNIT_CODE = os.environ.get("JIANGUAN_UNIT_CODE", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "jianguan.core",
    "jianguan.org",
    "jianguan.codes",
    "jianguan.audit",
    "jianguan.outbox",
    "jianguan.activity",
    "jianguan.rules",
    "jianguan.housing",
    "jianguan.custody",
    "jianguan.duty",
    "jianguan.risk",
    "jianguan.devices",
    "jianguan.patrol",
    "jianguan.prevention",
    "jianguan.synthetic",
    "jianguan.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "jianguan.org.middleware.SecondFactorMiddleware",
    "jianguan.web.middleware.DomainErrorPages",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "jianguan.urls"
WSGI_APPLICATION = "jianguan.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "jianguan.web.context.node",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("JIANGUAN_DATABASE_URL", f"sqlite:///{VAR_DIR / 'jianguan.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets readers run beside the single writer; IMMEDIATE avoids upgrade deadlocks.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    # A file, not memory, so the browser tests' live server threads share it; one per process
    # so concurrent test runs on one checkout do not trample each other.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(
        VAR_DIR / f"test-{os.getpid()}.sqlite3"
    )
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "org.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every start without it
# Front-end packages come from npm at install time and are never committed.
STATICFILES_DIRS = [("vendor", BASE_DIR.parent.parent / "node_modules")]
# Admission photos are personal data: served only through an authenticated, audited view.
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media-not-served/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 12 * 3600  # one shift and a half
SESSION_COOKIE_SECURE = _env_bool("JIANGUAN_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if _env_bool("JIANGUAN_HTTPS", False):
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

REDIS_URL = os.environ.get("JIANGUAN_REDIS_URL", "")
MQTT_URL = os.environ.get("JIANGUAN_MQTT_URL", "mqtt://127.0.0.1:1883")  # device ingest (§8)

# Background work (DESIGN.md §2): SqliteHuey embedded, RedisHuey when Redis is configured.
HUEY: dict[str, object] = {
    "name": "jianguan",
    "immediate": _env_bool("JIANGUAN_HUEY_IMMEDIATE", False),
    "consumer": {"workers": 2, "worker_type": "thread", "periodic": True},
}
if REDIS_URL:
    HUEY.update({"huey_class": "huey.RedisHuey", "url": REDIS_URL})
else:
    HUEY.update({"huey_class": "huey.SqliteHuey", "filename": str(VAR_DIR / "huey.sqlite3")})

# Login throttling: this many failures per account or address within the window locks it.
LOGIN_MAX_FAILURES = int(os.environ.get("JIANGUAN_LOGIN_MAX_FAILURES", "5"))
LOGIN_LOCK_SECONDS = int(os.environ.get("JIANGUAN_LOGIN_LOCK_SECONDS", "900"))

# Outbox consumers re-read this far back so that a transaction committing late is not missed.
OUTBOX_LOOKBACK_SECONDS = int(os.environ.get("JIANGUAN_OUTBOX_LOOKBACK_SECONDS", "300"))

# A live screen's stream ends after this long and the browser reconnects at once with the last
# event id it saw, so a server thread is never held by one screen for ever.
LIVE_STREAM_SECONDS = int(os.environ.get("JIANGUAN_LIVE_STREAM_SECONDS", "300"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("JIANGUAN_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Set only behind a reverse proxy that overwrites X-Forwarded-For (deploy/nginx.conf).
TRUST_X_FORWARDED_FOR = _env_bool("JIANGUAN_TRUST_X_FORWARDED_FOR", False)
