"""WSGI entry point: `gunicorn wsgi:app`."""

from app import create_app

app = create_app(migrations=False)  # serving never migrates: no Alembic in the workers
