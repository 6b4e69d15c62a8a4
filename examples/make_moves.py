#!/usr/bin/env python3
"""Makes the clips of examples/moves.pipe with the ffmpeg tool.

A square crosses a noisy background in one of four directions (left, right,
up, down). Each clip draws its square's size, colour and speed, its path,
the background's shade, the frame rate (10 to 25 per second), the length
(1.5 to 2.5 s) and the container (H.264 in MP4, or VP9 in WebM), so no single
frame tells the direction: only the order of the frames does.
Written to OUT/DIRECTION/NNN.mp4 (or .webm). Seeded: the same seed makes the
same files.

    examples/make_moves.py [OUT] [--clips 100] [--seed 7]

OUT defaults to data/moves beside this script.
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

DIRECTIONS = ["left", "right", "up", "down"]
SIDE = 64  # the frame, in pixels


def command(path, direction, rng):
    fps = rng.choice([10, 12, 15, 20, 25])
    seconds = round(rng.uniform(1.5, 2.5), 2)
    box = rng.randint(6, 14)
    speed = rng.uniform(14, 26)  # pixels per second
    travel = speed * seconds
    # Start where the whole path stays inside the frame (with a margin that the
    # square may leave through at the far side).
    lo, hi = 0, SIDE - box
    across = rng.uniform(lo, hi)
    if direction in ("right", "down"):
        start = rng.uniform(lo, max(lo, hi - travel * 0.8))
        along = f"{start:.1f}+{speed:.2f}*t"
    else:
        start = rng.uniform(min(hi, lo + travel * 0.8), hi)
        along = f"{start:.1f}-{speed:.2f}*t"
    x, y = (along, f"{across:.1f}") if direction in ("left", "right") else (f"{across:.1f}", along)
    shade = rng.randint(0x10, 0x70)
    background = f"0x{shade:02x}{shade:02x}{shade:02x}"
    colour = "0x" + "".join(f"{rng.randint(0x90, 0xff):02x}" for _ in range(3))
    webm = rng.random() < 0.25
    codec = ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-b:v", "200k"] if webm else \
        ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23"]
    out = path + (".webm" if webm else ".mp4")
    return out, [
        "ffmpeg", "-v", "error", "-y",
        "-f", "lavfi", "-i", f"color=c={background}:s={SIDE}x{SIDE}:r={fps}:d={seconds}",
        "-f", "lavfi", "-i", f"color=c={colour}:s={box}x{box}:r={fps}:d={seconds}",
        "-filter_complex", f"[0][1]overlay=x='{x}':y='{y}':shortest=1,noise=alls={rng.randint(4, 20)}:allf=t",
        *codec, "-pix_fmt", "yuv420p", "-threads", "1", out,
    ]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", nargs="?", default=os.path.join(here, "data", "moves"))
    parser.add_argument("--clips", type=int, default=100, help="clips per direction")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not shutil.which("ffmpeg"):
        sys.exit("make_moves.py: the ffmpeg tool is missing; install it with `apt-get install ffmpeg` "
                 "(scripts/install-deps does)")
    rng = random.Random(args.seed)
    jobs = []
    for direction in DIRECTIONS:
        folder = os.path.join(args.out, direction)
        os.makedirs(folder, exist_ok=True)
        for i in range(args.clips):
            jobs.append(command(os.path.join(folder, f"{i:03d}"), direction, rng))

    def run(job):
        out, argv = job
        result = subprocess.run(argv, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"ffmpeg could not write {out}: {result.stderr.strip()}")
        return out

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        made = len(list(pool.map(run, jobs)))
    print(f"wrote {made} clips ({args.clips} per direction) under {args.out}")


if __name__ == "__main__":
    main()
