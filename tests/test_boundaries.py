"""One-way dependencies: the engine knows nothing of the web app or the job system, and the web
process never loads torch, the worker or the engine's model code."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Imports every module of genomeweb (views, API routes, forms, models, commands, migrations), as
# the web server and manage.py would, then lists what came with them that must not.
PROBE = """
import os, pkgutil, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
import django
django.setup()
import genomeweb
for module in pkgutil.walk_packages(genomeweb.__path__, "genomeweb."):
    __import__(module.name)
# The worker app's config is listed in INSTALLED_APPS for its management commands; nothing
# else of worker/ may load in the web process, and of the engine only its torch-free parts.
heavy = sorted(
    m for m in sys.modules
    if (m.split(".")[0] in {"torch", "worker"} and m not in {"worker", "worker.apps"})
    or m.startswith(("engine.models", "engine.training", "engine.pipeline"))
)
print(len([m for m in sys.modules if m.startswith("genomeweb.")]), ",".join(heavy))
"""


def test_loading_every_web_module_imports_neither_torch_nor_worker_nor_models():
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    loaded, heavy = result.stdout.strip().partition(" ")[::2]
    assert int(loaded) > 100  # the walk really imported the app, not just the package
    assert heavy == ""


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of the file, as dotted names."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _tops(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


def test_no_genomeweb_module_imports_torch_worker_or_the_model_engine_anywhere():
    forbidden = ("engine.models", "engine.training", "engine.pipeline")
    for path in (ROOT / "genomeweb").rglob("*.py"):
        names = _imports(path)
        assert not _tops(names) & {"torch", "worker"}, path
        assert not [n for n in names if n.startswith(forbidden)], path


def test_the_engine_imports_nothing_of_the_web_app_the_worker_or_a_framework():
    for path in (ROOT / "engine").rglob("*.py"):
        assert not _tops(_imports(path)) & {"genomeweb", "worker", "django", "celery"}, path


def test_the_io_package_uses_only_file_libraries():
    allowed = {"__future__", "numpy", "pyfaidx", "pyBigWig", "pysam", "engine"}
    stdlib = set(sys.stdlib_module_names)
    for path in (ROOT / "engine" / "io").rglob("*.py"):
        extra = _tops(_imports(path)) - allowed - stdlib
        assert not extra, f"{path.name} imports {extra}"
        assert not [
            n for n in _imports(path) if n.startswith("engine.") and not n.startswith("engine.io")
        ], f"{path.name} reaches outside engine.io"


def test_no_module_imports_a_private_name_of_another_module():
    for package in ("engine", "genomeweb", "worker"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.level == 0:
                    private = [a.name for a in node.names if a.name.startswith("_")]
                    assert not private, f"{path} imports {private} from {node.module}"


def test_worker_keeps_only_what_touches_celery_or_the_orm():
    kept = {
        "__init__.py",
        "apps.py",
        "errors.py",
        "failures.py",  # how a job failed: FailureReason rows, pool processes the kernel killed
        "heartbeat.py",
        "provenance.py",
        "tasks.py",
    }
    modules = {p.name for p in (ROOT / "worker").glob("*.py")}
    folders = {p.name for p in (ROOT / "worker").iterdir() if p.is_dir() and any(p.rglob("*.py"))}
    assert modules == kept and folders == {"jobs", "management"}
