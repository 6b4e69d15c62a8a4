#!/usr/bin/env bash
# Augmentation throughput against torchvision, measured in the same run:
# decoding JPEGs, random_resized_crop(224), a flip and rand_augment() with
# bench/augment_photos.pipe (pipe's loader, through pipe-bench-loader) and
# RandomResizedCrop + RandomHorizontalFlip + RandAugment with
# bench/augment_peer.py (torchvision's ImageFolder + DataLoader), the same
# number of workers and one intra-op thread on each side. The photos are the
# loader benchmark's: 1,024 textured 320×256 JPEGs in two classes.
#
#   bench/augment_speed.sh [RUNS] [WORKERS]   (build first: scripts/build; BUILD=dir for another build)
#
# Prints each side's median items/s over RUNS alternating runs and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
workers=${2:-$(nproc)}
build=${BUILD:-build}
[ -x "$build/pipe-bench-loader" ] || { echo "build first: scripts/build" >&2; exit 2; }
/usr/bin/python3 -c "import torchvision" 2>/dev/null || { echo "needs python3-torchvision" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 - "$work/photos" <<'PY'
import os, sys
import numpy as np
from PIL import Image
root = sys.argv[1]
rng = np.random.default_rng(1)
y, x = np.mgrid[0:256, 0:320]
for i in range(1024):
    folder = os.path.join(root, "ab"[i % 2])
    os.makedirs(folder, exist_ok=True)
    pixels = np.stack([(x + y * (c + 1) + i) % 192 for c in range(3)], axis=-1) + rng.integers(0, 64, (256, 320, 3))
    Image.fromarray(pixels.astype(np.uint8)).save(os.path.join(folder, f"p{i}.jpg"), quality=90)
PY
cp bench/augment_photos.pipe "$work/photos.pipe"

for i in $(seq 1 "$runs"); do
  echo "round $i of $runs ..." >&2
  "$build/pipe-bench-loader" "$work/photos.pipe" --workers "$workers" --threads 1 | awk '/^items_per_s/ {print $2}' >>"$work/pipe"
  /usr/bin/python3 bench/augment_peer.py "$work/photos" "$workers" | awk '/^items_per_s/ {print $2}' >>"$work/peer"
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-34s %10s\n' "" "items/s"
printf '%-34s %10s\n' "pipe loader" "$(median "$work/pipe")"
printf '%-34s %10s\n' "torchvision DataLoader" "$(median "$work/peer")"
echo "workers: $workers, runs: $runs, medians; $(nproc) cores"
awk -v a="$(median "$work/pipe")" -v b="$(median "$work/peer")" 'BEGIN {printf "pipe / torchvision: %.2fx\n", a / b}'
