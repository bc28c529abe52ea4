"""Can this host run genomeweb jobs? Run it where the worker will run, with the worker's
environment (deploy/README.md):

    .venv/bin/python manage.py shell < deploy/check_worker.py

It reaches the database, the broker and the storage as the worker would, and checks every
registered model's weights and genome FASTA against the sha256 the catalog holds, at the paths
the catalog holds. One line per check, "ok" or "BAD"; the last line counts the bad ones (and
the exit status is 1 when there are any).
"""

import sys

from django.db import connection

from engine.io.files import sha256_file, weights_file
from genomeweb.catalog.models import Genome, Predictor, resolve_data_path
from genomeweb.celery import app
from genomeweb.results.storage import result_files, upload_files


def check(what: str, test) -> bool:
    try:
        problem = test()
    except Exception as error:  # any failure is the answer, said on its line
        problem = f"{type(error).__name__}: {error}"
    print(f"{'BAD' if problem else 'ok '} {what}{f' ({problem})' if problem else ''}")
    return not problem


def database():
    connection.ensure_connection()
    return "" if Predictor.objects.exists() else "no model registered in this database"


def broker():
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)


def storage(files):
    files.exists("genomeweb-check-worker")  # a HEAD (S3) or stat: reachable, with access


def same_file(path, sha256: str) -> str:
    if not path.is_file():
        return "missing here"
    actual = sha256_file(path)
    if actual != sha256:
        return f"sha256 {actual[:12]}... is not the catalog's {sha256[:12]}..."
    return ""


results = [
    check(f"database {connection.settings_dict['NAME']}", database),
    check(f"broker {app.conf.broker_url.split('@')[-1]}", broker),
    check("results storage", lambda: storage(result_files())),
    check("uploads storage", lambda: storage(upload_files())),
]
for predictor in Predictor.objects.order_by("name"):
    for replicate in predictor.replicates:
        folder = resolve_data_path(replicate["path"])
        results.append(
            check(
                f"model {predictor.name} weights in {folder}",
                lambda folder=folder, sha=replicate["sha256"]: same_file(weights_file(folder), sha),
            )
        )
for genome in Genome.objects.order_by("name"):
    path = resolve_data_path(genome.fasta_path)
    results.append(
        check(f"genome {genome.name} {path}", lambda p=path, g=genome: same_file(p, g.fasta_sha256))
    )
bad = results.count(False)
print(f"{bad} of {len(results)} checks BAD" if bad else f"all {len(results)} checks ok")
if bad:
    sys.exit(1)
