import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "genomeweb.settings")
application = get_wsgi_application()

from genomeweb.warmup import warm_up  # noqa: E402 (needs the settings configured above)

warm_up()  # each gunicorn worker loads this module before it serves its first request
