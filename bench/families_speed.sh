#!/usr/bin/env bash
# Training speed of torchvision's families in pipe against the same model in
# PyTorch, measured in the same run: resnet18 and efficientnet_b0 at 128 px
# (Fashion-MNIST's first ITEMS training images, resized), one epoch of AdamW
# with a one-cycle schedule at batch size 64, `pipe run` against
# bench/families_peer.py (torchvision's model on the same LibTorch). Each
# side runs RUNS times, alternating; the medians are compared.
#
#   bench/families_speed.sh [RUNS] [THREADS] [ITEMS]   (build first: scripts/build;
#                                                       BUILD=DIR for another build folder)
#
# The peer runs twice per round: as a user runs it (PyTorch's default
# threads, NCHW) and fairly configured (THREADS intra-op threads as pipe,
# channels_last as pipe uses for convolutions on CPU). Target: pipe ≥ 1.0×.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
threads=${2:-$(nproc)}
items=${3:-2048}
source bench/common.sh
needs_build
needs_torch
/usr/bin/python3 -c "import torchvision" 2>/dev/null || { echo "needs python3-torchvision (scripts/install-deps)" >&2; exit 2; }

mkdir -p "$work/data"
/usr/bin/python3 bench/families_peer.py make "$work/data" "$items"

pipeline() {  # BACKBONE → a .pipe file training it on the subset
  cat >"$work/$2.pipe" <<EOF
seed 1

data fashion {
    source     = idx("$work/data", train = "train", test = "t10k")
    blocks     = (image(channels = 1), category)
    split      = random(valid = 0.03, seed = 1)
    item       = [resize(128)]
    batch      = [normalize()]
    batch_size = 64
}

model net {
    backbone = $1
    head     = classifier()
}

train fit {
    loss      = cross_entropy()
    optimizer = adamw(lr = 3e-3, weight_decay = 0.05)
    schedule  = one_cycle(epochs = 1)
    metrics   = [accuracy]
}
EOF
}
pipeline "resnet(depth = 18)" resnet18
pipeline "efficientnet(variant = \"b0\")" efficientnet_b0

measure() {  # FILE KIND COMMAND...: appends items/s
  local out=$1 kind=$2
  shift 2
  "$@" >"$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
  if [ "$kind" = pipe ]; then
    grep -o '[0-9]* items/s' "$work/log" | tail -1 | cut -d' ' -f1 >>"$out"
  else
    awk '/^train_items_per_s/ {print $2}' "$work/log" >>"$out"
  fi
}

for arch in resnet18 efficientnet_b0; do
  for i in $(seq 1 "$runs"); do
    echo "$arch: round $i of $runs ..." >&2
    measure "$work/${arch}_pipe" pipe "$build/pipe" run "$work/$arch.pipe" --threads "$threads" --runs "$work/runs"
    measure "$work/${arch}_user" torch /usr/bin/python3 bench/families_peer.py "$arch" "$work/data" 0
    measure "$work/${arch}_fair" torch /usr/bin/python3 bench/families_peer.py "$arch" "$work/data" "$threads" \
      --channels-last
  done
done

printf '%-18s %10s %16s %16s %10s %10s\n' "" "pipe" "PyTorch (user)" "PyTorch (fair)" "vs user" "vs fair"
for arch in resnet18 efficientnet_b0; do
  p=$(col "${arch}_pipe" 1) u=$(col "${arch}_user" 1) f=$(col "${arch}_fair" 1)
  awk -v n="$arch" -v p="$p" -v u="$u" -v f="$f" \
    'BEGIN {printf "%-18s %10s %16s %16s %9.2fx %9.2fx\n", n, p, u, f, p / u, p / f}'
done
echo "training items/s at 128 px, batch 64, $items items; threads: $threads; runs: $runs, medians; $(nproc) cores"
