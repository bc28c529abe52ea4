#!/usr/bin/env bash
# Train replicates of the yeast demo model side by side, one seed each, into OUT/replicate-SEED
# (a log per replicate beside its checkpoint). Fails if any replicate fails.
#   scripts/train_replicates.sh OUT SEED [SEED ...] -- [engine.training.train arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
out=$1; shift
seeds=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do seeds+=("$1"); shift; done
[ $# -gt 0 ] && shift
pids=()
for seed in "${seeds[@]}"; do
  mkdir -p "$out/replicate-$seed"
  "$PYTHON" -m engine.training.train --seed "$seed" --out "$out/replicate-$seed" "$@" \
    >"$out/replicate-$seed/train.log" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
