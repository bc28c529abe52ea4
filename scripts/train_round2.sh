#!/usr/bin/env bash
# Issue 12, round 2, for one GPU call of under 10 minutes (the device tool's limit): the
# anti-aliased recipe (B: blur pooling, ±16 bp jitter, consistency loss) trained to its full
# 70-epoch schedule in four seeds side by side, and the same recipe fine-tuned from the shipped
# max-pool weights (D, four seeds), then each ensemble's stability and TATA ranks on validation
# chromosomes. The best checkpoints come back float16, two replicates per archive (the device
# tool returns at most 8 files of 16 MiB).
#   OUT=/some/dir scripts/train_round2.sh      (on the device: OUT is its $OUT)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:?set OUT}
RUNS=${RUNS:-var/round2}
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2 PYTHON=${PYTHON:-.venv/bin/python}
common=(--data data/yeast --epochs 70 --batch-size 16 --weight-decay 0.05
  --sequence-length 8192 --crop-bp 1024 --dropout 0.2 --conv-dropout 0.1
  --jitter-bp 16 --consistency 1 --pool blur)
scripts/train_replicates.sh "$RUNS/B" 1 2 3 4 -- "${common[@]}" --lr 0.001 \
  --fit-minutes "${FIT_MINUTES:-6}" --max-minutes "${MAX_MINUTES:-6.5}" &
scripts/train_replicates.sh "$RUNS/D" 1 2 3 4 -- "${common[@]}" --lr 0.0003 --epochs 20 \
  --init-from data/models/yeast-demo --fit-minutes "${FIT_MINUTES:-6}" \
  --max-minutes "${MAX_MINUTES:-6.5}" &
wait
for set in B D; do
  for seed in 1 2 3 4; do
    "$PYTHON" -m engine.training.export "$RUNS/$set/replicate-$seed" "$RUNS/ship/$set-$seed" >/dev/null
    cp "$RUNS/$set/replicate-$seed/train.log" "$RUNS/ship/$set-$seed/"
  done
  tar -C "$RUNS/ship" -czf "$OUT/$set-12.tar.gz" "$set-1" "$set-2"
  tar -C "$RUNS/ship" -czf "$OUT/$set-34.tar.gz" "$set-3" "$set-4"
  "$PYTHON" -m engine.variants.stability --model "$RUNS"/ship/$set-* --variants 500 \
    >"$OUT/stability-$set.json" 2>/dev/null &
  "$PYTHON" -m engine.interpret.tata --model "$RUNS"/ship/$set-* >"$OUT/tata-$set.json" 2>/dev/null &
done
wait
