"""Settings of the bare floor: the least Django needs to route a request to a view."""

from __future__ import annotations

DEBUG = False
SECRET_KEY = "bench-bare-floor-not-a-secret"  # noqa: S105
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bare.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
