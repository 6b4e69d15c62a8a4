#!/usr/bin/env bash
# Whether `pipe check` takes time in proportion to the file's size (issue 15:
# linear within a factor of two from 20 kB to 2 MB). The input is COPIES
# copies of examples/fashion.pipe's stages (bench/make_fashion_copies.sh,
# about 1 kB each); each size is checked RUNS times and the median kept.
# Prints the milliseconds per kB at each size and the ratio of the largest
# size's to the smallest's (1.0 is linear; start-up weighs on the smallest).
#
#   bench/check_scaling.sh [RUNS] [COPIES...]    (default 5; 20 200 2000)
#   PIPE=build-front/pipe bench/check_scaling.sh (default build/pipe)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(20 200 2000)
pipe=${PIPE:-build/pipe}
[ -x "$pipe" ] || { echo "build first: scripts/build (or set PIPE)" >&2; exit 2; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# The median wall time of RUNS checks of a file, in milliseconds.
median_ms() {
  local times=()
  for _ in $(seq 1 "$runs"); do
    local start end
    start=$(date +%s%N)
    "$pipe" check -q "$1" >/dev/null
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}

printf '%8s %10s %10s %10s\n' copies kB "median ms" "ms per kB"
first=""
last=""
for n in "${sizes[@]}"; do
  f="$dir/copies_$n.pipe"
  bench/make_fashion_copies.sh "$n" > "$f"
  "$pipe" check -q "$f"  # it must check cleanly, or the timing means nothing
  kb=$(echo "$(stat -c %s "$f") / 1000" | bc -l)
  ms=$(median_ms "$f")
  per=$(echo "$ms / $kb" | bc -l)
  printf '%8s %10.1f %10s %10.3f\n' "$n" "$kb" "$ms" "$per"
  [ -n "$first" ] || first=$per
  last=$per
done
printf 'ms per kB, largest over smallest: %.2f\n' "$(echo "$last / $first" | bc -l)"
