#!/usr/bin/env bash
# The compute that sweeps which search spend against the grid over the same
# axes: runs SWEEPFILE (a grid) once, then with its strategy line changed to
# `asha(...)` and `tpe(...)` under each seed, one point at a time, and prints
# for each sweep the epochs trained over its points, its wall time, its best
# metric, and the epochs it had spent (in point order) when it first had a
# finished point within 1% of the grid's best (for the grid, all of them: it
# knows its best only once every point has run).
#
#   bench/sweep_search.sh SWEEPFILE ASHA TPE [SEED...]
#   bench/sweep_search.sh bench/sweeps/fashion_search.pipe \
#       "asha(min_epochs = 1, reduction = 3, trials = 15)" "tpe(trials = 8, startup = 4)" 0 1 2
#
# PIPE (default build/pipe) and PIPE_FLAGS (e.g. --threads 2) are passed on;
# the sweep directories stay in $RUNS (default a temporary folder).
set -euo pipefail
cd "$(dirname "$0")/.."
pipe=${PIPE:-build/pipe}
[ -x "$pipe" ] || { echo "build first: scripts/build" >&2; exit 2; }
[ $# -ge 3 ] || { sed -n '2,14p' "$0" >&2; exit 2; }
file=$1 asha=$2 tpe=$3
shift 3
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(0)
runs=${RUNS:-$(mktemp -d)}
mkdir -p "$runs"
dir=$(dirname "$file")

# A copy of the sweep file beside it (its imports resolve alike) with another
# strategy, named as the sweep it runs; removed on exit.
copies=()
trap 'rm -f "${copies[@]}"' EXIT
with_strategy() {
  local copy="$dir/$1.pipe"
  sed -E "s|^([[:space:]]*strategy[[:space:]]*=[[:space:]]*).*|\1$2|" "$file" > "$copy"
  copies+=("$copy")
}

sweep() {  # NAME FILE: runs it into $runs/NAME
  echo "== $1: $(grep -E '^[[:space:]]*strategy' "$2" | sed -E 's/^[[:space:]]*//')" >&2
  # shellcheck disable=SC2086  # PIPE_FLAGS is a list of flags
  "$pipe" run "$2" --runs "$runs/$1" ${PIPE_FLAGS:-} | tail -n 2 >&2
}

sweep grid "$file"
for seed in "${seeds[@]}"; do
  with_strategy "asha-$seed" "${asha%)}, seed = $seed)"
  with_strategy "tpe-$seed" "${tpe%)}, seed = $seed)"
  sweep "asha-$seed" "$dir/asha-$seed.pipe"
  sweep "tpe-$seed" "$dir/tpe-$seed.pipe"
done

python3 - "$runs" <<'EOF'
import glob, os, sys, tomllib

runs = sys.argv[1]

def sweep_of(name):
    [path] = [os.path.join(runs, name, entry) for entry in os.listdir(os.path.join(runs, name))]
    with open(os.path.join(path, "sweep.toml"), "rb") as f:
        summary = tomllib.load(f)
    points = []
    for p in sorted(glob.glob(os.path.join(path, "p*", "point.toml")), key=lambda p: int(os.path.basename(os.path.dirname(p))[1:])):
        with open(p, "rb") as f:
            points.append(tomllib.load(f))
    return summary, points

def metric_of(point, metric):
    for name, value in point["metrics"]:
        if name == metric:
            return float(value)
    return None

grid, grid_points = sweep_of("grid")
metric, higher = grid["metric"], grid["higher_is_better"]
values = [v for v in (metric_of(p, metric) for p in grid_points if p["status"] == "finished") if v is not None]
best = max(values) if higher else min(values)
near = lambda v: v is not None and abs(v - best) <= 0.01 * abs(best)

print(f"\n{metric} ({'higher' if higher else 'lower'} is better); the grid's best {best:.4f}; within 1%: "
      f"{best * (0.99 if higher else 1.01):.4f} or better")
print(f"{'sweep':10} {'points':>6} {'stopped':>7} {'epochs':>6} {'wall s':>7} {'best':>7} {'epochs to 1%':>12}")
names = sorted(os.listdir(runs), key=lambda n: (n != "grid", n.split("-")[0], n))
for name in names:
    summary, points = sweep_of(name)
    spent, reached = 0, None
    for p in points:
        spent += p["epochs"]
        if reached is None and p["status"] == "finished" and near(metric_of(p, metric)):
            reached = spent
    if name == "grid":
        reached = summary["epochs"]  # it knows which point is best only once it has run them all
    found = [v for v in (metric_of(p, metric) for p in points if p["status"] == "finished") if v is not None]
    top = (max(found) if higher else min(found)) if found else float("nan")
    stopped = sum(p["status"] == "stopped" for p in points)
    print(f"{name:10} {len(points):6} {stopped:7} {summary['epochs']:6} {summary['wall']:7.1f} {top:7.4f} "
          f"{reached if reached is not None else 'not reached':>12}")
print(f"\nsweep directories in {runs}")
EOF
