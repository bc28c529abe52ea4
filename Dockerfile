# syntax=docker/dockerfile:1
# One image for the web app, the GPU workers and the maintenance worker (see docker-compose.yml).
#
#   docker build -t genomeweb:local .                            # CPU torch
#   docker build --build-arg TORCH_VARIANT=cu128 -t genomeweb:local .   # CUDA torch, GPU hosts
FROM python:3.11-slim-bookworm

# Which build of torch to install: "cpu", or "cu128" on GPU hosts. Either way it is the version
# requirements.txt pins (torch==2.13.0), taken from PyTorch's own wheel index at build time;
# docker-compose.yml passes cu128 because its workers run on NVIDIA GPUs.
ARG TORCH_VARIANT=cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=genomeweb.settings

# No apt packages are needed: the pysam and pyBigWig manylinux wheels bundle htslib, libbz2 and
# liblzma and link only zlib, libm and libc, which the slim image has; torch ships its own libgomp.
# Install build tools here only if a dependency ever falls back to building from source.

RUN groupadd --system --gid 1000 genomeweb \
 && useradd --system --uid 1000 --gid genomeweb --create-home --home-dir /home/genomeweb \
        --shell /usr/sbin/nologin genomeweb

WORKDIR /app

COPY requirements.txt .
# torch first, from PyTorch's index for the chosen variant, at the exact pin in requirements.txt.
# The second install then finds torch==2.13.0 already satisfied (a local label such as +cu128
# matches ==2.13.0) and takes everything else from the default index.
RUN TORCH_PIN="$(grep -E '^torch==' requirements.txt)" \
 && test -n "$TORCH_PIN" \
 && pip install --index-url "https://download.pytorch.org/whl/${TORCH_VARIANT}" "$TORCH_PIN" \
 && pip install -r requirements.txt

# The code stays owned by root, so the app user cannot change it.
COPY . .

# The commit this image was built from (.git is not copied in), recorded in every job's
# provenance: docker build --build-arg GW_GIT_COMMIT="$(git rev-parse HEAD)" ...
ARG GW_GIT_COMMIT=""
ENV GW_GIT_COMMIT=${GW_GIT_COMMIT}

# Mount points for the named volumes. A fresh named volume takes the owner of the directory it
# is first mounted over, so the app user can write results, uploads, static files and state.
RUN mkdir -p /srv/results /srv/uploads /srv/static /srv/var /srv/models \
 && chown genomeweb:genomeweb /srv/results /srv/uploads /srv/static /srv/var

USER genomeweb

# glibc gives each thread that allocates its own malloc arena (up to 8 per core) and rarely
# returns their free pages: gunicorn's 4 threads a worker then grow in RSS for hours without a
# leak. Two arenas keep a worker's memory flat (bench/bench_load.py measures its growth).
ENV MALLOC_ARENA_MAX=2

EXPOSE 8000
# 4 threads a worker (gthread): a quick request (an igv.js Range read) is not queued behind a
# slow one (a 10,000-row BED) in the same worker; bench/bench_load.py measures it.
CMD ["gunicorn", "genomeweb.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", "--timeout", "120"]
