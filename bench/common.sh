# What the benchmarks that time `pipe run` share, sourced from the
# repository's root by chars_speed.sh, train_speed.sh and dist_speed.sh:
#   $build                     the build folder: build/, or $BUILD
#   needs_build, needs_torch   stop with a clear message when pipe is not
#                              built, or the PyTorch peer cannot run
#   $work                      a temporary folder, removed on exit
#   col FILE K                 the median of column K of $work/FILE, which
#                              holds one line per run
build=${BUILD:-build}
needs_build() {
  [ -x "$build/pipe" ] && [ -x "$build/pipe-runtime" ] || { echo "build first: scripts/build" >&2; exit 2; }
}
needs_torch() {
  /usr/bin/python3 -c "import torch" 2>/dev/null || { echo "needs python3-torch (scripts/install-deps)" >&2; exit 2; }
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { cut -d' ' -f"$2" "$work/$1" | median; }
