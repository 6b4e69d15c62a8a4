#!/usr/bin/env bash
# Sound throughput against torchaudio, measured in the same run: reading WAV
# clips, resampling 22050 → 16000 Hz, cutting to one second and making log-mel
# spectrograms with bench/audio_clips.pipe (pipe's loader, through
# pipe-bench-loader) and with bench/audio_peer.py (torchaudio in a PyTorch
# DataLoader), the same number of workers and one intra-op thread on each side.
# The clips are made here: 1,024 16-bit WAVs of 0.6 to 1.6 s (tones and noise)
# in two classes.
#
#   bench/audio_speed.sh [RUNS] [WORKERS]     (build first: scripts/build; BUILD=dir for another build)
#
# Prints each side's median items/s over RUNS alternating runs and the ratio;
# the target is pipe ≥ 2× torchaudio.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
workers=${2:-$(nproc)}
build=${BUILD:-build}
[ -x "$build/pipe-bench-loader" ] || { echo "build first: scripts/build" >&2; exit 2; }
/usr/bin/python3 -c "import torchaudio" 2>/dev/null || { echo "needs python3-torchaudio" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 - "$work/clips" <<'PY'
import math, os, sys
import torch, torchaudio
root = sys.argv[1]
g = torch.Generator().manual_seed(1)
for i in range(1024):
    folder = os.path.join(root, "ab"[i % 2])
    os.makedirs(folder, exist_ok=True)
    n = int(22050 * (0.6 + torch.rand(1, generator=g).item()))
    t = torch.arange(n) / 22050
    wave = 0.3 * torch.sin(2 * math.pi * (300 + 2000 * (i % 2)) * t) + 0.05 * torch.randn(n, generator=g)
    torchaudio.save(os.path.join(folder, f"c{i}.wav"), wave.unsqueeze(0), 22050, encoding="PCM_S", bits_per_sample=16)
PY
cp bench/audio_clips.pipe "$work/clips.pipe"

for i in $(seq 1 "$runs"); do
  echo "round $i of $runs ..." >&2
  "$build/pipe-bench-loader" "$work/clips.pipe" --workers "$workers" | awk '/^items_per_s/ {print $2}' >>"$work/pipe"
  /usr/bin/python3 bench/audio_peer.py "$work/clips" "$workers" | awk '/^items_per_s/ {print $2}' >>"$work/peer"
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-34s %10s\n' "" "items/s"
printf '%-34s %10s\n' "pipe loader" "$(median "$work/pipe")"
printf '%-34s %10s\n' "torchaudio DataLoader" "$(median "$work/peer")"
echo "workers: $workers, runs: $runs, medians; $(nproc) cores"
awk -v a="$(median "$work/pipe")" -v b="$(median "$work/peer")" 'BEGIN {printf "pipe / torchaudio: %.2fx\n", a / b}'
