#!/usr/bin/env python3
"""Makes the spoken-words data of examples/spoken_words.pipe with espeak-ng.

Ten words (those of Google's Speech Commands: yes, no, up, down, left, right,
on, off, stop, go), each said CLIPS times by a voice drawn from several English
accents and voice variants, at a drawn speed, pitch and word gap, into
OUT/WORD/NNN.wav (22050 Hz mono, espeak-ng's own rate; the audio block resamples).
Seeded: the same seed makes the same files.

    examples/make_spoken_words.py [OUT] [--clips 40] [--seed 7]

OUT defaults to data/spoken_words beside this script.
"""
import argparse
import os
import random
import subprocess
import sys

WORDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
ACCENTS = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-gb-x-gbclan", "en-gb-x-gbcwmd"]
VARIANTS = ["", "+m1", "+m3", "+m5", "+f1", "+f2", "+f4", "+klatt", "+croak", "+whisper"]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", nargs="?", default=os.path.join(here, "data", "spoken_words"))
    parser.add_argument("--clips", type=int, default=40, help="clips per word")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    made = 0
    for word in WORDS:
        folder = os.path.join(args.out, word)
        os.makedirs(folder, exist_ok=True)
        for i in range(args.clips):
            voice = rng.choice(ACCENTS) + rng.choice(VARIANTS)
            speed = rng.randint(110, 210)  # words per minute
            pitch = rng.randint(15, 85)  # 0..99
            amplitude = rng.randint(60, 160)  # 0..200
            path = os.path.join(folder, "%03d.wav" % i)
            command = ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-a", str(amplitude),
                       "-w", path, word]
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                sys.exit("espeak-ng failed (%s): %s" % (" ".join(command), result.stderr.strip()))
            made += 1
    print("made %d clips of %d words in %s" % (made, len(WORDS), args.out))


if __name__ == "__main__":
    main()
