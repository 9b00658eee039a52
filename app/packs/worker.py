"""The Celery application for workers: `celery -A app.packs.worker worker --pool=solo`."""

from app import create_app
from app.packs.tasks import init_celery

flask_app = create_app()
celery = init_celery(flask_app)
