"""A web worker's start: what its first visitor would otherwise wait for, done before it serves.

Django imports the URLconf (every view, and numpy with them) on the first request and compiles
each template on its first use; a fresh gunicorn worker's first page took 0.5–1.1 s for that
(the browser walk of issue 14), every later one under 70 ms.

A start is also when the temporary files of uploads that a killed web process left behind are
cleared (the stale ones only: a sibling worker may be receiving an upload right now).
"""

from pathlib import Path

from django.conf import settings
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import get_template
from django.urls import get_resolver

from genomeweb.lib.upload_tmp import remove_stale_upload_temp_files


def warm_up() -> int:
    """Import the URLconf and compile every project template; returns how many compiled."""
    remove_stale_upload_temp_files()
    get_resolver().url_patterns  # noqa: B018 (the import is the point)
    compiled = 0
    for folder in settings.TEMPLATES[0]["DIRS"]:
        for path in sorted(Path(folder).rglob("*.html")):
            try:
                get_template(path.relative_to(folder).as_posix())
            except (TemplateDoesNotExist, TemplateSyntaxError):
                continue  # a page that cannot compile fails loudly when asked for, not here
            compiled += 1
    return compiled
