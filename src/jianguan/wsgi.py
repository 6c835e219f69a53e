"""WSGI entry point for gunicorn: ordinary pages and the API (DESIGN.md §2)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jianguan.settings")
application = get_wsgi_application()
