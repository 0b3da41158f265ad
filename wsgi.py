"""WSGI entry point: `gunicorn wsgi:app`, and `frontdesk serve` (granian)."""

from app import create_app
from app.heap import freeze_startup_heap

app = create_app(migrations=False)  # serving never migrates: no Alembic in the workers
freeze_startup_heap()
