#!/usr/bin/env python3
"""Writes Fashion-MNIST (Debian's dataset-fashion-mnist) as a folder of PNG
files for examples/fashion_folder.pipe, the layout most image datasets have:

    OUT/train/<class>/<n>.png   the first TRAIN images of the training file
    OUT/valid/<class>/<n>.png   the first VALID images of the test file

    make_fashion_pngs.py [OUT] [TRAIN] [VALID]   (default: examples/fashion-png 10000 2000)

Only Python's standard library: any python3 will do.
"""
import gzip
import os
import struct
import sys
import zlib

SOURCE = "/usr/share/datasets/fashion-mnist"
CLASSES = ["T-shirt-top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle-boot"]


def read_idx(name):
    with gzip.open(os.path.join(SOURCE, name), "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return shape, data[4 + 4 * dims:]


def png(width, height, grey):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    rows = b"".join(b"\0" + grey[y * width:(y + 1) * width] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def write(out, split, images_file, labels_file, count):
    (n, h, w), pixels = read_idx(images_file)
    _, labels = read_idx(labels_file)
    count = min(count, n)
    for name in CLASSES:
        os.makedirs(os.path.join(out, split, name), exist_ok=True)
    for i in range(count):
        path = os.path.join(out, split, CLASSES[labels[i]], f"{i}.png")
        with open(path, "wb") as f:
            f.write(png(w, h, pixels[i * h * w:(i + 1) * h * w]))
    print(f"{out}/{split}: {count} images")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "fashion-png")
    train = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    valid = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    write(out, "train", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", train)
    write(out, "valid", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", valid)


if __name__ == "__main__":
    main()
