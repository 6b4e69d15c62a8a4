#!/usr/bin/python3
"""The peer of bench/loader_photos.pipe: torchvision's ImageFolder and
DataLoader over the same folder, with the same work per item — decode (PIL),
resize the shorter side to 224 and crop a random 224 square, flip, change
brightness, to a tensor, normalise — in batches of 64, shuffled.

    loader_peer.py FOLDER WORKERS

Prints `items_per_s N` for one epoch, worker start-up included.
"""
import sys
import time

import torch
from torchvision import datasets, transforms


def main():
    folder, workers = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(1)
    augment = transforms.Compose([
        transforms.Resize(224),
        transforms.RandomCrop(224),
        transforms.RandomHorizontalFlip(),
        transforms.ColorJitter(brightness=0.2),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    data = datasets.ImageFolder(folder, augment)
    loader = torch.utils.data.DataLoader(data, batch_size=64, shuffle=True, num_workers=workers, drop_last=True)
    start = time.perf_counter()
    items = 0
    for x, _ in loader:
        items += len(x)
    seconds = time.perf_counter() - start
    print(f"items_per_s {items / seconds:.1f}")
    print(f"items {items}")


if __name__ == "__main__":
    main()
