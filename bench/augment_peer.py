#!/usr/bin/python3
"""The peer of bench/augment_photos.pipe: torchvision's ImageFolder and
DataLoader over the same folder with the same augmentation — decode (PIL),
RandomResizedCrop(224), a flip, RandAugment (its defaults: 2 operations at
magnitude 9 of 31), to a tensor, normalise — in batches of 64, shuffled, as
a user writes it (RandAugment on the PIL image).

    augment_peer.py FOLDER WORKERS

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
        transforms.RandomResizedCrop(224),
        transforms.RandomHorizontalFlip(),
        transforms.RandAugment(),
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
