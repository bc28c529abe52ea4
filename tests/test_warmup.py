"""A web worker imports its views and compiles every template before its first visitor."""

import sys

from django.conf import settings

from genomeweb.warmup import warm_up


def test_every_template_compiles_and_the_views_are_imported_before_serving():
    folder = settings.TEMPLATES[0]["DIRS"][0]
    assert warm_up() == len(list(folder.rglob("*.html")))  # also: none has a syntax error
    assert "genomeweb.variants.views" in sys.modules
