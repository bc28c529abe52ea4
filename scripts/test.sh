#!/usr/bin/env bash
# Install everything (Python packages, Debian's Chromium for the browser tests) and run the whole
# suite against the local PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379).
# Extra arguments go to pytest, e.g. scripts/test.sh -m "not slow".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh dev
# Debian's Chromium (browser tests) and bcftools (the exported VCFs must pass it)
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/bcftools ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium bcftools >/dev/null
fi
.venv/bin/python -m pytest "$@"
