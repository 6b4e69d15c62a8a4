#!/usr/bin/python3
"""The peer of bench/families_speed.sh: torchvision's resnet18 or
efficientnet_b0 (first convolution for one channel, 10 classes) trained on
the same Fashion-MNIST subset at 128 px as `pipe run` trains it, in plain
PyTorch on the same LibTorch (python3-torch, python3-torchvision).

    families_peer.py make FOLDER N            writes the first N training items as IDX files
    families_peer.py ARCH FOLDER THREADS [--channels-last]

THREADS 0 leaves PyTorch's own default (as a user runs it). The images are
resized to 128 px once, before the clock starts (pipe resizes every item in
its loader, inside its measured time): a head start for the peer. Prints
`train_items_per_s N`.
"""
import gzip
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

FASHION = "/usr/share/datasets/fashion-mnist"
SIZE = 128
BATCH = 64


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def write_idx(path, array, code):
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def make(folder, n):
    for prefix, count in (("train", n), ("t10k", 256)):
        images = read_idx(f"{FASHION}/{prefix}-images-idx3-ubyte.gz")[:count]
        labels = read_idx(f"{FASHION}/{prefix}-labels-idx1-ubyte.gz")[:count]
        write_idx(f"{folder}/{prefix}-images-idx3-ubyte.gz", np.ascontiguousarray(images), 0x08)
        write_idx(f"{folder}/{prefix}-labels-idx1-ubyte.gz", np.ascontiguousarray(labels), 0x08)


def model_of(arch):
    if arch == "resnet18":
        model = torchvision.models.resnet18(num_classes=10)
        model.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    else:
        model = torchvision.models.efficientnet_b0(num_classes=10)
        model.features[0][0] = nn.Conv2d(1, 32, 3, 2, 1, bias=False)
    return model


def train(arch, folder, threads, channels_last):
    if threads > 0:
        torch.set_num_threads(threads)
    torch.manual_seed(1)
    images = torch.from_numpy(read_idx(f"{folder}/train-images-idx3-ubyte.gz").copy()).float().div_(255)
    labels = torch.from_numpy(read_idx(f"{folder}/train-labels-idx1-ubyte.gz").astype(np.int64))
    images = F.interpolate(images.unsqueeze(1), size=SIZE, mode="bilinear", align_corners=False)
    images = (images - images.mean()) / images.std()
    model = model_of(arch)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    steps = len(images) // BATCH
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    perm = torch.randperm(len(images))
    start = time.perf_counter()
    for step in range(steps):
        idx = perm[step * BATCH:(step + 1) * BATCH]
        x, y = images[idx], labels[idx]
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
        schedule.step()
    seconds = time.perf_counter() - start
    print(f"train_items_per_s {steps * BATCH / seconds:.1f}")


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]))
    else:
        train(sys.argv[1], sys.argv[2], int(sys.argv[3]), "--channels-last" in sys.argv)
