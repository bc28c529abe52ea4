"""docker-compose.yml, the Dockerfile and deploy/nginx.conf agree with each other and the app.

No Docker engine is needed: the files are parsed, not run.
"""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_PATH = ROOT / "docker-compose.yml"
NGINX_PATH = ROOT / "deploy" / "nginx.conf"
APP_IMAGE = "genomeweb:local"
APP_SERVICES = ("web", "worker", "maintenance")
LONG_RUNNING = ("db", "redis", "minio", "web", "worker", "maintenance", "nginx")


def _compose(text: str | None = None) -> dict:
    return yaml.safe_load(COMPOSE_PATH.read_text() if text is None else text)


@pytest.fixture(scope="module")
def compose() -> dict:
    return _compose()


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _command(service: dict) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def _mounts(service: dict) -> list[tuple[str, str, bool]]:
    """(source, target, read_only) for each entry of a service's short-syntax volumes."""
    mounts = []
    for entry in service.get("volumes", []):
        # A ${VAR:-default} source may itself contain a colon: take source and target from the end.
        parts = entry.rsplit(":", 2) if entry.count(":") > 1 else entry.split(":")
        if len(parts) == 3 and parts[2] not in ("ro", "rw"):
            parts = entry.rsplit(":", 1)
        source, target = parts[0], parts[1]
        read_only = len(parts) == 3 and parts[2] == "ro"
        mounts.append((source, target, read_only))
    return mounts


def _mount_of(service: dict, source: str) -> tuple[str, bool]:
    for mount_source, target, read_only in _mounts(service):
        if mount_source == source:
            return target, read_only
    raise AssertionError(f"no mount of {source!r} in {service.get('volumes')}")


def _is_named_volume(source: str) -> bool:
    return not source.startswith((".", "/", "~", "$"))


def _interpolated(value: str) -> str:
    """A compose string with every ${...} replaced by a plain placeholder."""
    return re.sub(r"\$\{[^}]*\}", "placeholder", value)


def _nginx_text() -> str:
    return re.sub(r"#[^\n]*", "", NGINX_PATH.read_text())


def _nginx_locations() -> dict[str, str]:
    return {
        match.group(1): match.group(2)
        for match in re.finditer(r"location\s+([^\s{]+)\s*\{([^}]*)\}", _nginx_text())
    }


def _directive(block: str, name: str) -> str:
    match = re.search(rf"(?m)^\s*{name}\s+([^;]+);", block)
    assert match, f"no {name} directive in {block!r}"
    return match.group(1).strip()


# ---- services and images ----


def test_all_services_exist(services):
    assert set(LONG_RUNNING) <= set(services)


def test_db_and_redis_use_the_pinned_official_images(services):
    assert services["db"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    assert services["nginx"]["image"] == "nginx:1.27"


def test_app_services_build_one_image_from_this_directory(services):
    for name in APP_SERVICES:
        service = services[name]
        assert service["image"] == APP_IMAGE, name
        assert service["build"]["context"] == ".", name
        assert "TORCH_VARIANT" in service["build"]["args"], name


def test_dockerfile_builds_on_slim_python_and_runs_as_a_non_root_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"(?m)^FROM python:3\.11-slim-bookworm\s*$", dockerfile)
    assert re.search(r"(?m)^ARG TORCH_VARIANT=cpu\s*$", dockerfile)
    assert "https://download.pytorch.org/whl/${TORCH_VARIANT}" in dockerfile
    assert "pip install -r requirements.txt" in dockerfile
    assert re.search(r"(?m)^WORKDIR /app\s*$", dockerfile)
    users = re.findall(r"(?m)^USER\s+(\S+)", dockerfile)
    assert users and users[-1] not in ("root", "0"), users


def test_requirements_pin_the_torch_version_the_dockerfile_installs():
    requirements = (ROOT / "requirements.txt").read_text()
    assert re.search(r"(?m)^torch==\d+\.\d+\.\d+\s*$", requirements)


def test_dockerignore_keeps_secrets_state_and_weights_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    for path in (".git", ".env", ".venv/", "var/", "models/"):
        assert path in ignored, path


def test_long_running_services_restart_unless_stopped(services):
    for name in LONG_RUNNING:
        assert services[name]["restart"] == "unless-stopped", name


def test_only_nginx_publishes_a_port(services):
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"nginx"}
    assert services["nginx"]["ports"] == ["80:80"]


# ---- commands ----


def test_worker_runs_the_gpu_queue_in_one_pool_process(services):
    command = _command(services["worker"])
    assert command.startswith("celery -A genomeweb worker")
    assert "-Q gpu" in command
    assert "--pool=prefork" in command
    assert "--concurrency=1" in command
    assert "-I worker.tasks" in command
    assert " -B" not in command


def test_worker_reserves_one_gpu(services):
    devices = services["worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "device_ids": ["0"], "capabilities": ["gpu"]}]


def test_worker_gets_time_to_reach_a_checkpoint_and_shared_memory(services):
    worker = services["worker"]
    grace = re.fullmatch(r"(\d+)s", worker["stop_grace_period"])
    assert grace and int(grace.group(1)) >= 30
    assert worker["shm_size"]


def test_worker_reads_models_read_only_from_the_model_dir(services):
    worker = services["worker"]
    target, read_only = _mount_of(worker, "${GW_MODEL_HOST_DIR:-./models}")
    assert read_only
    assert target == worker["environment"]["GW_MODEL_DIR"]


def test_commented_second_gpu_worker_is_a_working_copy_of_four_lines():
    lines = COMPOSE_PATH.read_text().splitlines()
    start = lines.index("  # worker-gpu1:")
    block = lines[start : start + 4]
    assert all(line.startswith("  # ") for line in block), block
    lines[start : start + 4] = ["  " + line[len("  # ") :] for line in block]
    services = _compose("\n".join(lines) + "\n")["services"]
    first, second = services["worker"], services["worker-gpu1"]
    devices = second["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "device_ids": ["1"], "capabilities": ["gpu"]}]
    assert _command(second) == _command(first).replace("-n gpu0@", "-n gpu1@")
    for key in ("image", "environment", "volumes", "depends_on", "stop_grace_period", "shm_size"):
        assert second[key] == first[key], key


def test_maintenance_runs_beat_on_the_maintenance_queue(services):
    command = _command(services["maintenance"])
    assert command.startswith("celery -A genomeweb worker")
    assert "-Q maintenance" in command
    assert "-B" in command.split()
    assert "-I worker.tasks" in command
    settings = (ROOT / "genomeweb" / "settings.py").read_text()
    assert 'CELERY_TASK_DEFAULT_QUEUE = "maintenance"' in settings


def test_only_maintenance_runs_beat(services):
    beats = {
        name
        for name, service in services.items()
        if "command" in service and "-B" in _command(service).split()
    }
    assert beats == {"maintenance"}


def test_web_migrates_collects_static_then_execs_gunicorn(services):
    command = _command(services["web"])
    migrate = command.index("python manage.py migrate --noinput")
    collect = command.index("python manage.py collectstatic --noinput")
    gunicorn = command.index("exec gunicorn genomeweb.wsgi:application")
    assert migrate < collect < gunicorn
    assert "--bind 0.0.0.0:8000" in command


def test_redis_keeps_queued_messages_across_a_restart(services):
    command = services["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert _mount_of(services["redis"], "redisdata") == ("/data", False)


# ---- dependencies and health ----


def test_app_services_wait_for_healthy_db_and_redis(services):
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["db"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name


def test_workers_wait_for_web_to_finish_migrating(services):
    for name in ("worker", "maintenance"):
        assert services[name]["depends_on"]["web"]["condition"] == "service_healthy", name


def test_nginx_starts_after_web(services):
    assert "web" in services["nginx"]["depends_on"]


def test_every_awaited_health_has_a_healthcheck(services):
    for name, service in services.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            if rule["condition"] == "service_healthy":
                assert services[dependency].get("healthcheck"), (name, dependency)


def test_db_healthcheck_uses_pg_isready(services):
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])


# ---- environment ----


def test_app_services_reach_db_and_redis_by_service_name(services):
    db_env = services["db"]["environment"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        database = urlsplit(_interpolated(env["DATABASE_URL"]))
        assert database.scheme == "postgresql", name
        assert (database.hostname, database.port) == ("db", 5432), name
        assert database.username == db_env["POSTGRES_USER"], name
        assert database.path == "/" + db_env["POSTGRES_DB"], name
        assert "${POSTGRES_PASSWORD" in env["DATABASE_URL"], name
        broker = urlsplit(env["CELERY_BROKER_URL"])
        assert broker.scheme == "redis", name
        assert (broker.hostname, broker.port) == ("redis", 6379), name


def test_app_services_require_a_secret_key(services):
    for name in APP_SERVICES:
        assert services[name]["environment"]["GW_SECRET_KEY"].startswith("${GW_SECRET_KEY:?")


def test_db_password_is_required(services):
    assert services["db"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


def test_app_folders_are_the_mounted_volumes(services):
    web = services["web"]
    env = web["environment"]
    assert _mount_of(web, "results") == (env["GW_RESULTS_DIR"], False)
    assert _mount_of(web, "uploads") == (env["GW_UPLOAD_DIR"], False)
    assert _mount_of(web, "static") == (env["GW_STATIC_ROOT"], False)
    assert _mount_of(web, "var") == (env["GW_VAR_DIR"], False)
    for name in ("worker", "maintenance"):
        env = services[name]["environment"]
        assert _mount_of(services[name], "results") == (env["GW_RESULTS_DIR"], False), name
        assert _mount_of(services[name], "uploads") == (env["GW_UPLOAD_DIR"], False), name
        assert _mount_of(services[name], "var") == (env["GW_VAR_DIR"], False), name


# ---- volumes ----


def test_every_named_volume_used_is_declared_and_every_declared_one_used(compose):
    declared = set(compose["volumes"])
    used = {
        source
        for service in compose["services"].values()
        for source, _target, _read_only in _mounts(service)
        if _is_named_volume(source)
    }
    assert used == declared


# ---- object storage ----


def _release_tag(image: str, repository: str) -> bool:
    """``repository:RELEASE.<date>``: MinIO's immutable tags (never "latest")."""
    return re.fullmatch(rf"{re.escape(repository)}:RELEASE\.\d{{4}}-\d\d-\d\dT[\d-]+Z", image)


def test_minio_runs_a_pinned_release_with_its_data_in_a_volume(services):
    minio = services["minio"]
    assert _release_tag(minio["image"], "minio/minio"), minio["image"]
    assert minio["command"][:2] == ["server", "/data"]
    assert _mount_of(minio, "miniodata") == ("/data", False)
    assert minio["healthcheck"]["test"] == ["CMD", "mc", "ready", "local"]
    assert "ports" not in minio  # reached by the app on the internal network only


def test_apps_use_the_minio_bucket_with_minio_credentials(services):
    minio_env = services["minio"]["environment"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["GW_STORAGE"] == "${GW_STORAGE:-s3}", name
        assert urlsplit(env["GW_S3_ENDPOINT_URL"]).netloc == "minio:9000", name
        assert env["GW_S3_ACCESS_KEY_ID"] == minio_env["MINIO_ROOT_USER"], name
        assert env["GW_S3_SECRET_ACCESS_KEY"] == minio_env["MINIO_ROOT_PASSWORD"], name
        assert env["GW_S3_SECRET_ACCESS_KEY"].startswith("${GW_S3_SECRET_ACCESS_KEY:?"), name


def test_createbuckets_makes_the_apps_bucket_once_minio_is_healthy(services):
    job = services["createbuckets"]
    app_env = services["web"]["environment"]
    assert _release_tag(job["image"], "minio/mc"), job["image"]
    assert job["depends_on"]["minio"]["condition"] == "service_healthy"
    assert job["restart"] == "no"  # a one-shot: it exits once the bucket exists
    env = job["environment"]
    assert env["GW_S3_BUCKET"] == app_env["GW_S3_BUCKET"]
    assert env["MINIO_ROOT_USER"] == services["minio"]["environment"]["MINIO_ROOT_USER"]
    script = " ".join(job["entrypoint"])
    alias = re.search(r"mc alias set local (\S+) ", script)
    assert alias and alias.group(1) == app_env["GW_S3_ENDPOINT_URL"]
    # $$ is compose's escape: the shell in the container expands the variable.
    make = script.index('mc mb --ignore-existing "local/$$GW_S3_BUCKET"')
    assert script.index("mc alias set") < make
    assert " && " in script[:make]  # nothing is made if the alias could not be set


def test_app_services_start_after_the_bucket_exists(services):
    for name in APP_SERVICES:
        condition = services[name]["depends_on"]["createbuckets"]["condition"]
        assert condition == "service_completed_successfully", name


def test_db_keeps_its_data_in_a_volume(services):
    assert _mount_of(services["db"], "pgdata") == ("/var/lib/postgresql/data", False)


# ---- nginx ----


def test_nginx_mounts_its_config_and_results_read_only(services):
    nginx = services["nginx"]
    assert _mount_of(nginx, "./deploy/nginx.conf") == ("/etc/nginx/conf.d/default.conf", True)
    assert NGINX_PATH.is_file()
    assert _mount_of(nginx, "results")[1] is True
    assert _mount_of(nginx, "static")[1] is True


def test_nginx_internal_location_is_the_x_accel_prefix_over_the_results_volume(services):
    internal = {
        path: block
        for path, block in _nginx_locations().items()
        if re.search(r"(?m)^\s*internal;", block)
    }
    assert len(internal) == 1, internal
    [(path, block)] = internal.items()
    env = services["web"]["environment"]
    assert path == env["GW_X_ACCEL_PREFIX"]
    results_in_nginx, read_only = _mount_of(services["nginx"], "results")
    assert read_only
    alias = _directive(block, "alias")
    assert alias == results_in_nginx.rstrip("/") + "/"
    assert alias == env["GW_RESULTS_DIR"].rstrip("/") + "/"


def test_nginx_serves_static_from_the_static_volume(services):
    block = _nginx_locations()["/static/"]
    static_in_nginx, _ = _mount_of(services["nginx"], "static")
    assert _directive(block, "alias") == static_in_nginx.rstrip("/") + "/"
    assert static_in_nginx == services["web"]["environment"]["GW_STATIC_ROOT"]


def test_nginx_proxies_everything_else_to_gunicorn_with_forwarded_headers(services):
    block = _nginx_locations()["/"]
    upstream = _directive(block, "proxy_pass")
    if upstream.startswith("$"):
        upstream = _directive(block, f"set \\{upstream}")
    assert upstream == "http://web:8000"
    assert "--bind 0.0.0.0:8000" in _command(services["web"])
    headers = re.findall(r"proxy_set_header\s+(\S+)\s+(\S+);", block)
    assert ("X-Forwarded-Proto", "$scheme") in headers
    assert "X-Forwarded-For" in dict(headers)
    assert "Host" in dict(headers)
    read_timeout = re.fullmatch(r"(\d+)s", _directive(block, "proxy_read_timeout"))
    assert read_timeout and int(read_timeout.group(1)) >= 120


def test_nginx_upload_cap_sits_just_above_the_app_default():
    settings = (ROOT / "genomeweb" / "settings.py").read_text()
    default_mb = int(re.search(r'envint\("GW_MAX_UPLOAD_MB",\s*(\d+)', settings).group(1))
    cap = re.fullmatch(r"(\d+)m", _directive(_nginx_text(), "client_max_body_size"))
    assert cap, "client_max_body_size must be given in m"
    assert default_mb <= int(cap.group(1)) <= default_mb * 1.1
