#!/usr/bin/env bash
# Issue 12's candidate yeast models, side by side on one machine (a GPU: about 6 minutes), then
# how stable each one's variant effects are on validation-chromosome promoter SNVs (fp32).
#   A: the shipped recipe (max pooling, ±8 bp jitter), new seeds, an ensemble with the shipped one
#   B: anti-aliased pooling, ±16 bp jitter (the whole 32-bp bin), consistency loss, 4 seeds
#   C: B without the anti-aliasing (max pooling), 2 seeds
# RUNS (default var/candidates) receives replicate folders and stability-*.json.
set -uo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-var/candidates}
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} PYTHON=${PYTHON:-.venv/bin/python}
common=(--data data/yeast --epochs 70 --fit-minutes "${FIT_MINUTES:-5.5}"
  --max-minutes "${MAX_MINUTES:-6.2}" --batch-size 16 --lr 0.001 --weight-decay 0.05
  --sequence-length 8192 --crop-bp 1024 --dropout 0.2 --conv-dropout 0.1)
shared="--jitter-bp 16 --consistency 1"
scripts/train_replicates.sh "$RUNS/A" 1 2 -- "${common[@]}" --jitter-bp 8 &
scripts/train_replicates.sh "$RUNS/B" 1 2 3 4 -- "${common[@]}" $shared --pool blur &
scripts/train_replicates.sh "$RUNS/C" 1 2 -- "${common[@]}" $shared &
wait
stability() {  # name, replicate folders...
  local name=$1; shift
  "$PYTHON" -m engine.variants.stability --model "$@" --variants "${VARIANTS:-500}" \
    >"$RUNS/stability-$name.json" 2>"$RUNS/stability-$name.log"
}
stability shipped data/models/yeast-demo
stability A data/models/yeast-demo "$RUNS"/A/replicate-*
stability A1 "$RUNS/A/replicate-1"
stability B "$RUNS"/B/replicate-*
stability B1 "$RUNS/B/replicate-1"
stability C "$RUNS"/C/replicate-*
stability C1 "$RUNS/C/replicate-1"
