#!/usr/bin/env bash
# How long `pipe check` takes, start to exit: on each example and on a
# 2,000-line file. Targets (DESIGN: the front end never loads LibTorch):
# under 50 ms per example, under 200 ms for the large file.
#
# The peer, timed in the same run, is what a notebook pays before its first
# line: `python3 -c "import torch"` (Debian's python3-torch, on the same
# LibTorch), or the bare interpreter's start-up when torch is not installed.
#
#   bench/check_speed.sh [RUNS]        (build first: scripts/build)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-21}
pipe=build/pipe
[ -x "$pipe" ] || { echo "build first: scripts/build" >&2; exit 2; }

large=$(mktemp --suffix=.pipe)
trap 'rm -f "$large"' EXIT
bench/make_large_file.sh 2000 > "$large"
"$pipe" check -q "$large"  # it must check cleanly, or the timing means nothing

# Median wall time of RUNS runs, in milliseconds.
median_ms() {
  local times=()
  for _ in $(seq 1 "$runs"); do
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}

peer=(/usr/bin/python3 -c "import torch")
peer_name='python3 -c "import torch"'
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  peer=(/usr/bin/python3 -c "pass")
  peer_name='python3 -c "pass" (python3-torch is not installed)'
fi
peer_ms=$(median_ms "${peer[@]}")

printf '%-34s %10s %10s %12s\n' "input" "lines" "median ms" "vs peer"
for f in examples/*.pipe "$large"; do
  ms=$(median_ms "$pipe" check -q "$f")
  name=$f; [ "$f" = "$large" ] && name="generated 2000-line file"
  printf '%-34s %10s %10s %11.3fx\n' "$name" "$(wc -l < "$f")" "$ms" "$(echo "$ms / $peer_ms" | bc -l)"
done
printf '%-34s %10s %10s %12s\n' "peer: $peer_name" "" "$peer_ms" "1.000x"
