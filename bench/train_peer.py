#!/usr/bin/python3
"""The peer of bench/fashion_train.pipe: the same pipeline as a plain PyTorch
script (python3-torch, on the same LibTorch as pipe). It reads the same IDX
files, holds out the same share for validation, normalises with statistics
of the training split, trains the same CNN for one epoch with AdamW and a
one-cycle schedule at batch size 128, then scores the validation split.

    train_peer.py THREADS [--channels-last]

Prints `train_items_per_s N` and `valid_accuracy A`.
"""
import gzip
import sys
import time

import numpy as np
import torch
import torch.nn as nn

FOLDER = "/usr/share/datasets/fashion-mnist"


def read_idx(name):
    with gzip.open(f"{FOLDER}/{name}", "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def stage(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


def main():
    threads = int(sys.argv[1])
    channels_last = "--channels-last" in sys.argv
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    images = torch.from_numpy(read_idx("train-images-idx3-ubyte.gz").copy()).float().div_(255).unsqueeze(1)
    labels = torch.from_numpy(read_idx("train-labels-idx1-ubyte.gz").astype(np.int64))
    order = torch.randperm(len(images))
    n_valid = len(images) // 10
    valid, train = order[:n_valid], order[n_valid:]
    mean, std = images[train].mean().item(), images[train].std().item()
    images = (images - mean) / std

    model = nn.Sequential(stage(1, 32), stage(32, 64), stage(64, 128), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(128, 10))
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    batch = 128
    steps = len(train) // batch  # the last, smaller batch is dropped, as pipe and fastai do
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss()

    start = time.perf_counter()
    model.train()
    perm = train[torch.randperm(len(train))]
    for step in range(steps):
        idx = perm[step * batch:(step + 1) * batch]
        x, y = images[idx], labels[idx]
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        schedule.step()
    seconds = time.perf_counter() - start

    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, n_valid, 2 * batch):
            idx = valid[i:i + 2 * batch]
            correct += (model(images[idx]).argmax(1) == labels[idx]).sum().item()
    print(f"train_items_per_s {steps * batch / seconds:.1f}")
    print(f"valid_accuracy {correct / n_valid:.4f}")


if __name__ == "__main__":
    main()
