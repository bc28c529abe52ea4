"""deploy/gpu-host: a second GPU host runs workers only, against the first host's PostgreSQL,
Redis and MinIO, which deploy/gpu-host/first-host.yml publishes there. Parsed, not run (no
Docker engine is needed), and checked against docker-compose.yml and the settings."""

import re
import shlex
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.test_env_example import settings_variables

ROOT = Path(__file__).resolve().parents[2]
HOST = ROOT / "deploy" / "gpu-host"
MAIN = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
GPU_HOST = yaml.safe_load((HOST / "compose.yml").read_text())
FIRST_HOST = yaml.safe_load((HOST / "first-host.yml").read_text())
# Read by docker compose itself (interpolation), not by the app.
COMPOSE_ONLY = {"GW_MODEL_HOST_DIR", "TORCH_VARIANT"}


def interpolated(value: str) -> str:
    """``value`` as docker compose would make it: ``${NAME:-default}`` is the default,
    ``${NAME:?message}`` (required) stands for a value set in .env, here ``<name>``."""

    def one(match: re.Match) -> str:
        name, kind, rest = match[1], match[2], match[3]
        return rest if kind == ":-" else name.lower()

    return re.sub(r"\$\{(\w+)(:[-?])?([^}]*)\}", one, value)


def command(service: dict) -> list[str]:
    value = service["command"]
    return shlex.split(value) if isinstance(value, str) else list(value)


def example() -> dict[str, str]:
    """worker.env.example's variables, commented defaults included."""
    values = {}
    for line in (HOST / "worker.env.example").read_text().splitlines():
        match = re.match(r"^(?:# )?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            values[match[1]] = match[2]
    return values


def published(service: str) -> int:
    (port,) = FIRST_HOST["services"][service]["ports"]
    address, outside, inside = port.rsplit(":", 2)
    assert address == "${GW_PRIVATE_ADDR:?set GW_PRIVATE_ADDR in .env}"  # never 0.0.0.0
    assert outside == inside
    return int(outside)


def test_the_gpu_host_runs_only_workers_and_builds_this_checkout():
    services = GPU_HOST["services"]
    assert services and all(name.startswith("worker-gpu") for name in services)
    for service in services.values():
        assert "ports" not in service and "depends_on" not in service
        assert (HOST / service["build"]["context"]).resolve() == ROOT
        assert service["image"] == MAIN["services"]["worker"]["image"]


def test_one_worker_per_gpu_with_the_first_hosts_worker_command():
    main = command(MAIN["services"]["worker"])
    names, gpus = [], []
    for service in GPU_HOST["services"].values():
        args = command(service)
        name = args[args.index("-n") + 1]
        assert args[: args.index("-n")] == main[: main.index("-n")]  # queue gpu, one child
        (device,) = service["deploy"]["resources"]["reservations"]["devices"]
        (gpu,) = device["device_ids"]
        assert name == f"gpu{gpu}@%h"
        names.append(name)
        gpus.append(gpu)
    assert len(set(names)) == len(names) >= 2 and len(set(gpus)) == len(gpus)
    assert "profiles" not in GPU_HOST["services"]["worker-gpu0"]  # the first GPU by default


def test_the_workers_share_no_disk_with_the_first_host():
    for service in GPU_HOST["services"].values():
        env = service["environment"]
        assert env["GW_STORAGE"] == "s3"
        volumes = [interpolated(v).split(":") for v in service["volumes"]]
        named = {source for source, *_ in volumes if not source.startswith((".", "/"))}
        assert named == {"scratch"} and set(GPU_HOST["volumes"]) == {"scratch"}
        for folder in ("GW_RESULTS_DIR", "GW_UPLOAD_DIR", "GW_VAR_DIR"):
            assert env[folder].startswith("/srv/scratch/")
        assert service["env_file"] == [{"path": "worker.env", "required": True}]
        # the weights where the first host's workers have them, as the catalog records paths
        models = [v for v in volumes if v[1] == "/srv/models"]
        assert models and models[0][2] == "ro"
        assert env["GW_MODEL_DIR"] == MAIN["x-app-env"]["GW_MODEL_DIR"]


def test_the_env_example_names_what_a_worker_needs_and_only_settings():
    values = example()
    needed = {
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "GW_STORAGE",
        "GW_S3_ENDPOINT_URL",
        "GW_S3_BUCKET",
        "GW_S3_REGION",
        "GW_S3_ACCESS_KEY_ID",
        "GW_S3_SECRET_ACCESS_KEY",
    }
    assert needed <= set(values)
    assert set(values) - COMPOSE_ONLY <= settings_variables()
    assert values["GW_STORAGE"] == "s3"


def test_the_env_example_points_at_the_ports_the_first_host_publishes():
    values = example()
    database = urlsplit(values["DATABASE_URL"])
    broker = urlsplit(values["CELERY_BROKER_URL"])
    store = urlsplit(values["GW_S3_ENDPOINT_URL"])
    assert database.hostname == broker.hostname == store.hostname == "first_host"
    assert database.port == published("db")
    assert broker.port == published("redis") and broker.password
    assert store.port == published("minio")
    main = MAIN["x-app-env"]
    assert database.path == urlsplit(interpolated(main["DATABASE_URL"])).path
    assert database.username == urlsplit(interpolated(main["DATABASE_URL"])).username
    assert broker.path == urlsplit(main["CELERY_BROKER_URL"]).path


def test_the_first_host_puts_a_password_on_redis_for_itself_too():
    redis = FIRST_HOST["services"]["redis"]
    assert redis["command"][:-2] == MAIN["services"]["redis"]["command"]
    assert redis["command"][-2] == "--requirepass"
    password = redis["command"][-1]
    assert redis["environment"]["REDISCLI_AUTH"] == password  # the healthcheck's redis-cli
    main_broker = urlsplit(MAIN["x-app-env"]["CELERY_BROKER_URL"])
    for name in ("web", "worker", "maintenance"):
        url = FIRST_HOST["services"][name]["environment"]["CELERY_BROKER_URL"]
        broker = urlsplit(interpolated(url))
        assert broker.password == interpolated(password) == "gw_redis_password"
        assert (broker.hostname, broker.port, broker.path) == (
            main_broker.hostname,
            main_broker.port,
            main_broker.path,
        )
    # every service the override names exists in docker-compose.yml
    assert set(FIRST_HOST["services"]) <= set(MAIN["services"])


@pytest.mark.parametrize("path", ["deploy/gpu-host/worker.env", "deploy/worker.env"])
def test_filled_in_env_files_are_not_committed(path):
    ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
    assert ignored.returncode == 0
