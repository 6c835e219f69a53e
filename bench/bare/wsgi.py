"""WSGI entry point of the bare floor, for the same gunicorn command as jianguan.wsgi."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bare.settings")
application = get_wsgi_application()
