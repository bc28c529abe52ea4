"""The web process stays light: genomeweb never imports torch or the worker package."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
import django
django.setup()
import genomeweb.urls, genomeweb.wsgi  # every view module, as the web server loads them
from django.apps import apps
for config in apps.get_app_configs():
    __import__(config.name)
# The worker app's config is listed in INSTALLED_APPS for its management commands; nothing
# else of worker/ (and no torch) may load in the web process.
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"torch", "worker"}
               and m not in {"worker", "worker.apps"})
print(",".join(heavy))
"""


def test_loading_the_web_app_imports_neither_torch_nor_worker():
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip() == ""


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_genomeweb_module_imports_torch_or_worker_anywhere():
    for path in (ROOT / "genomeweb").rglob("*.py"):
        assert not _imports(path) & {"torch", "worker"}, path


def test_the_genomics_package_uses_no_framework():
    allowed = {"__future__", "numpy", "pyfaidx", "pyBigWig", "pysam", "genomeweb"}
    stdlib = set(sys.stdlib_module_names)
    for path in (ROOT / "genomeweb" / "genomics").rglob("*.py"):
        extra = _imports(path) - allowed - stdlib
        assert not extra, f"{path.name} imports {extra}"
