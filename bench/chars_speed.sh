#!/usr/bin/env bash
# Small-model training speed against PyTorch, measured in the same run:
# bench/chars_mlp.pipe (`pipe run`, makemore's character MLP at batch 32)
# against bench/chars_peer.py (the same model, data, windows, batch size and
# optimizer as a plain PyTorch script on the same LibTorch, python3-torch),
# with the same number of threads. Each side runs RUNS times, alternating;
# the medians are compared.
#
#   bench/chars_speed.sh [RUNS] [THREADS]      (build first: scripts/build)
#
# Prints, per side: training steps/s (as the side itself measures its
# training loop), whole-process wall seconds and the validation perplexity;
# then the ratio pipe/PyTorch of steps/s. Target: ≥ 1.5×. PyTorch runs three
# times per round: as a user runs it; with OPENBLAS_NUM_THREADS=1, the setting
# pipe itself uses (runtime/threads.h); and with that and tcmalloc preloaded,
# the allocator pipe-runtime links; so that the ratio is not only those.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
threads=${2:-1}
source bench/common.sh
needs_build
needs_torch

tcmalloc=$(ldconfig -p | awk '/libtcmalloc_minimal\.so\.4 / && !found {found = $NF} END {print found}')
[ -n "$tcmalloc" ] || { echo "needs tcmalloc (libgoogle-perftools-dev, scripts/install-deps)" >&2; exit 2; }

# Runs a command under GNU time; appends "steps/s wall_s perplexity" to FILE.
measure() {
  local out=$1 kind=$2
  shift 2
  /usr/bin/time -f "%e" -o "$work/time" "$@" >"$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
  local steps ppl
  if [ "$kind" = pipe ]; then
    # pipe's own figure: items/s over the epoch's training batches (the last progress line), 32 a step.
    steps=$(grep -o '[0-9]* items/s' "$work/log" | tail -1 | awk '{print $1 / 32}')
    ppl=$(awk -F, 'NR == 2 {print $4}' "$work"/runs/*/fit/metrics.csv)
    rm -rf "$work/runs"
  else
    steps=$(awk '/^train_steps_per_s/ {print $2}' "$work/log")
    ppl=$(awk '/^valid_perplexity/ {print $2}' "$work/log")
  fi
  echo "$steps $(cat "$work/time") $ppl" >>"$out"
}

for i in $(seq 1 "$runs"); do
  echo "round $i of $runs ..." >&2
  measure "$work/pipe" pipe build/pipe run bench/chars_mlp.pipe --threads "$threads" --runs "$work/runs"
  measure "$work/torch" torch /usr/bin/python3 bench/chars_peer.py "$threads"
  measure "$work/torch1" torch env OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/chars_peer.py "$threads"
  measure "$work/torch1t" torch env OPENBLAS_NUM_THREADS=1 LD_PRELOAD="$tcmalloc" /usr/bin/python3 bench/chars_peer.py "$threads"
done


printf '%-12s %10s %10s %12s\n' "" "steps/s" "wall s" "perplexity"
printf '%-12s %10s %10s %12s\n' "pipe run" "$(col pipe 1)" "$(col pipe 2)" "$(col pipe 3)"
printf '%-12s %10s %10s %12s\n' "PyTorch" "$(col torch 1)" "$(col torch 2)" "$(col torch 3)"
printf '%-12s %10s %10s %12s\n' "PyTorch, 1" "$(col torch1 1)" "$(col torch1 2)" "$(col torch1 3)"
printf '%-12s %10s %10s %12s\n' "PyTorch, 1t" "$(col torch1t 1)" "$(col torch1t 2)" "$(col torch1t 3)"
echo "threads: $threads, runs: $runs, medians; $(nproc) cores; \"PyTorch, 1\": OPENBLAS_NUM_THREADS=1; \"1t\": and tcmalloc"
awk -v a="$(col pipe 1)" -v b="$(col torch 1)" 'BEGIN {printf "pipe / PyTorch steps/s %.2fx\n", a / b}'
awk -v a="$(col pipe 1)" -v b="$(col torch1 1)" 'BEGIN {printf "pipe / PyTorch with OPENBLAS_NUM_THREADS=1 steps/s %.2fx\n", a / b}'
awk -v a="$(col pipe 1)" -v b="$(col torch1t 1)" 'BEGIN {printf "pipe / PyTorch with OPENBLAS_NUM_THREADS=1 and tcmalloc steps/s %.2fx\n", a / b}'
