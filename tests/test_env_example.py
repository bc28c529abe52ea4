""".env.example documents every environment variable the settings read, once, and nothing else.

Runs without Django: genomeweb/settings.py is parsed with ast, not imported.
"""

import ast
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_PATH = ROOT / "genomeweb" / "settings.py"
ENV_EXAMPLE_PATH = ROOT / ".env.example"
COMPOSE_PATH = ROOT / "docker-compose.yml"

# Functions whose first argument is the name of an environment variable.
READERS = {"getenv", "envbool", "envint", "envlist", "envsecret"}

# Variables .env.example may list although settings.py does not read them:
# - POSTGRES_PASSWORD, GW_MODEL_HOST_DIR, TORCH_VARIANT: used only by docker-compose.yml
#   (interpolated there; checked below);
# - GW_MODEL_DIR: set by docker-compose.yml for the workers' model loader; drop it from this
#   list once settings.py reads it.
NOT_READ_BY_SETTINGS = {"POSTGRES_PASSWORD", "GW_MODEL_HOST_DIR", "TORCH_VARIANT", "GW_MODEL_DIR"}

ASSIGNMENT = re.compile(r"^(?:#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        # os.getenv(...) and os.environ.get(...)
        if func.attr == "get" and isinstance(func.value, ast.Attribute):
            return "getenv" if func.value.attr == "environ" else None
        return func.attr
    return None


def settings_variables() -> set[str]:
    """Every variable name settings.py reads, and a failure for any it reads indirectly."""
    names = set()
    for node in ast.walk(ast.parse(SETTINGS_PATH.read_text())):
        if isinstance(node, ast.Call) and _call_name(node) in READERS:
            first = node.args[0] if node.args else None
            assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
                f"settings.py line {node.lineno}: name the variable as a string literal"
            )
            names.add(first.value)
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "environ"
        ):
            key = node.slice
            assert isinstance(key, ast.Constant) and isinstance(key.value, str), node.lineno
            names.add(key.value)
    return names


def env_example_entries() -> list[tuple[str, str, str]]:
    """(name, value, comment above it) for each line of .env.example, set or commented out."""
    lines = ENV_EXAMPLE_PATH.read_text().splitlines()
    entries = []
    for number, line in enumerate(lines):
        match = ASSIGNMENT.match(line)
        if match:
            above = lines[number - 1] if number else ""
            comment = above if above.startswith("#") and not ASSIGNMENT.match(above) else ""
            entries.append((match.group(1), match.group(2), comment))
    return entries


def compose_interpolated() -> set[str]:
    text = COMPOSE_PATH.read_text()
    return set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", text))


def test_settings_reads_the_variables_this_test_expects():
    # A sanity check on the scanner itself: a few names it must find.
    found = settings_variables()
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "GW_SECRET_KEY", "GW_MAX_UPLOAD_MB"):
        assert name in found


def test_every_variable_settings_reads_is_in_env_example_exactly_once():
    counts: dict[str, int] = {}
    for name, _value, _comment in env_example_entries():
        counts[name] = counts.get(name, 0) + 1
    missing = sorted(settings_variables() - set(counts))
    assert not missing, f"add to .env.example: {missing}"
    repeated = sorted(name for name, count in counts.items() if count > 1)
    assert not repeated, f"listed more than once in .env.example: {repeated}"


def test_env_example_lists_no_variable_the_code_does_not_read():
    listed = {name for name, _value, _comment in env_example_entries()}
    unknown = sorted(listed - settings_variables() - NOT_READ_BY_SETTINGS)
    assert not unknown, f"not read by settings.py (or not on the allow-list): {unknown}"


def test_every_variable_docker_compose_interpolates_is_in_env_example():
    listed = {name for name, _value, _comment in env_example_entries()}
    missing = sorted(compose_interpolated() - listed)
    assert not missing, f"add to .env.example: {missing}"


def test_allow_list_names_only_variables_docker_compose_uses():
    compose_text = COMPOSE_PATH.read_text()
    app_env = yaml.safe_load(compose_text)["x-app-env"]
    for name in NOT_READ_BY_SETTINGS:
        assert name in compose_interpolated() or name in app_env, name


def test_docker_compose_sets_no_app_variable_the_app_does_not_read():
    app_env = yaml.safe_load(COMPOSE_PATH.read_text())["x-app-env"]
    unknown = sorted(set(app_env) - settings_variables() - NOT_READ_BY_SETTINGS)
    assert not unknown, f"x-app-env sets variables nothing reads: {unknown}"


def test_every_variable_has_a_one_line_comment_with_its_default():
    for name, _value, comment in env_example_entries():
        assert comment, f"{name}: put a one-line comment directly above it"
        assert "default" in comment.lower(), f"{name}: say its default in the comment"


def test_secrets_are_left_empty_for_the_admin_to_fill_in():
    values = {name: value for name, value, _comment in env_example_entries()}
    assert values["GW_SECRET_KEY"] == ""
    assert values["POSTGRES_PASSWORD"] == ""
