#!/usr/bin/env bash
# How long a newcomer's first build takes: a fresh clone of a commit,
# configured and built as scripts/build does, without ccache (an empty cache
# is what a new machine has). Prints wall time and CPU time (user + sys) for
# what the README's first command builds (pipe and pipe-runtime, as
# scripts/example does), and for everything scripts/test builds.
#
#   bench/build_time.sh [COMMIT] [JOBS]    (default: HEAD, every core)
#
# CPU time depends little on what else the machine runs; wall time does, so
# run it on an idle machine to compare wall times.
set -euo pipefail
cd "$(dirname "$0")/.."
commit=$(git rev-parse --short "${1:-HEAD}")
jobs=${2:-$(nproc)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git worktree add --detach -q "$work/src" "$commit"
trap 'git worktree remove --force "$work/src"; rm -rf "$work"' EXIT
cmake -S "$work/src" -B "$work/build" -G Ninja >/dev/null
export CCACHE_DISABLE=1  # ccache, when the build uses it, only runs the compiler

# bash's `time` of one ninja target list: "wall_s cpu_s" (CPU of the compilers too).
timed() {
  local TIMEFORMAT='%R %U %S' out
  out=$( { time ninja -C "$work/build" -j "$jobs" "$@" >/dev/null; } 2>&1 | tail -1)
  awk '{printf "%.0f %.0f\n", $1, $2 + $3}' <<<"$out"
}
read -r wall_rt cpu_rt < <(timed pipe pipe-runtime)
read -r wall_rest cpu_rest < <(timed)
printf 'fresh build of %s without ccache, %s jobs on %s cores\n' "$commit" "$jobs" "$(nproc)"
printf '  pipe and pipe-runtime (scripts/example): %4d s wall, %5d s CPU\n' "$wall_rt" "$cpu_rt"
printf '  everything, tests too (scripts/test):    %4d s wall, %5d s CPU\n' $((wall_rt + wall_rest)) $((cpu_rt + cpu_rest))
