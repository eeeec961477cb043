"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
import os

from coop import create_app
app = create_app(os.environ.get("COOP_CONFIG", "config.DevelopmentConfig"))
