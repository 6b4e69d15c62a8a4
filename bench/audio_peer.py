#!/usr/bin/python3
"""The peer of bench/audio_clips.pipe: torchaudio in a PyTorch DataLoader over
the same folder, with the same work per item — read the WAV (torchaudio.load),
resample 22050 → 16000 Hz (transforms.Resample, its kernel made once), cut or
pad to one second (the middle, as pipe's validation; a random place costs the
same), mel spectrogram (n_fft 400, hop 160, 64 bands), decibels (top_db 80)
— in batches of 64, shuffled, one intra-op thread per worker as pipe's.

    audio_peer.py FOLDER WORKERS

Prints `items_per_s N` for one epoch, worker start-up included.
"""
import os
import sys
import time

import torch
import torchaudio
import torchaudio.transforms as T


class Clips(torch.utils.data.Dataset):
    def __init__(self, folder):
        self.files = []
        for label, name in enumerate(sorted(os.listdir(folder))):
            for f in sorted(os.listdir(os.path.join(folder, name))):
                self.files.append((os.path.join(folder, name, f), label))
        self.resample = T.Resample(22050, 16000)
        self.mel = T.MelSpectrogram(sample_rate=16000, n_fft=400, hop_length=160, n_mels=64)
        self.db = T.AmplitudeToDB(top_db=80)

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        path, label = self.files[i]
        wave, rate = torchaudio.load(path)
        wave = self.resample(wave.mean(0, keepdim=True)) if rate == 22050 else wave.mean(0, keepdim=True)
        n = wave.shape[1]
        if n >= 16000:
            start = (n - 16000) // 2
            wave = wave[:, start:start + 16000]
        else:
            wave = torch.nn.functional.pad(wave, (0, 16000 - n))
        return self.db(self.mel(wave)), label


def main():
    folder, workers = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(1)
    loader = torch.utils.data.DataLoader(Clips(folder), batch_size=64, shuffle=True, num_workers=workers,
                                         drop_last=True, worker_init_fn=lambda _: torch.set_num_threads(1))
    start = time.perf_counter()
    items = 0
    for x, _ in loader:
        items += len(x)
    seconds = time.perf_counter() - start
    print(f"items_per_s {items / seconds:.1f}")
    print(f"items {items}")


if __name__ == "__main__":
    main()
