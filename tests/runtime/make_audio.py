#!/usr/bin/python3
"""Reference values for pipe's sound tests, made by torchaudio (python3-torchaudio 0.13).

Debian has no Python safetensors package, so the format is written by hand
(as tests/runtime/make_weights.py does).

    make_audio.py transforms DIR
        DIR/cases.json               per case: the sample rate, the waveform's shape and, per
                                     transform, the `item` call pipe is given and torchaudio's kwargs
        DIR/transforms.safetensors   per case N: `N.wave` {channels, samples} (seeded noise and
                                     tones) and `N.spectrogram`, `N.mel_spectrogram`, `N.mfcc`,
                                     `N.amplitude_to_db`: what torchaudio's transforms make of it

    make_audio.py files DIR
        DIR/tone.wav, .flac, .ogg    0.5 s of two tones (no noise) in stereo at 22050 Hz (16-bit WAV and FLAC, Vorbis)
        DIR/files.safetensors        `wav`, `flac`, `ogg`: each file as torchaudio.load reads it;
                                     `resampled`: the WAV resampled to 16000 Hz by
                                     torchaudio.functional.resample
        DIR/cut.wav                  the WAV cut short (its header promises more)
        DIR/text.wav                 a text file named .wav
        DIR/codec.wav                a RIFF/WAVE file whose format tag (0x1234) no decoder knows
"""
import json
import math
import struct
import sys

import torch
import torchaudio
import torchaudio.functional as F
import torchaudio.transforms as T

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}


def write(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().cpu().contiguous().numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def waveform(generator, channels, samples, rate, noise=0.1):
    t = torch.arange(samples, dtype=torch.float64) / rate
    tones = 0.3 * torch.sin(2 * math.pi * 440 * t) + 0.2 * torch.sin(2 * math.pi * 1234.5 * t)
    hiss = noise * torch.randn(channels, samples, generator=generator, dtype=torch.float64)
    return (tones.unsqueeze(0) * torch.linspace(1, 0.5, channels).unsqueeze(1).double() + hiss).float()


# Several sample rates, window sizes, mono and stereo; the second case leaves every
# setting at its default (pipe's defaults are torchaudio's).
CASES = [
    dict(rate=16000, channels=1, samples=16000, stft=dict(n_fft=400, hop_length=160), mel=dict(n_mels=64),
         mfcc=dict(n_mfcc=13), power=2.0, normalized=False, top_db=80.0, log_mels=False, dct_norm="ortho"),
    dict(rate=16000, channels=1, samples=12000, stft=dict(), mel=dict(), mfcc=dict(), power=2.0, normalized=False,
         top_db=None, log_mels=False, dct_norm="ortho"),
    dict(rate=8000, channels=2, samples=8000, stft=dict(n_fft=256, win_length=200, hop_length=80),
         mel=dict(n_mels=40, norm="slaney", mel_scale="slaney"), mfcc=dict(n_mfcc=20), power=1.0, normalized=True,
         top_db=60.0, log_mels=True, dct_norm="none"),
    dict(rate=22050, channels=1, samples=22050, stft=dict(n_fft=1024, hop_length=256),
         mel=dict(n_mels=128, f_min=20.0, f_max=8000.0), mfcc=dict(n_mfcc=40), power=2.0, normalized=False,
         top_db=80.0, log_mels=False, dct_norm="ortho"),
    dict(rate=44100, channels=2, samples=30000, stft=dict(n_fft=2048, hop_length=512, center=False),
         mel=dict(n_mels=96, f_min=50.0), mfcc=dict(n_mfcc=30), power=2.0, normalized=False, top_db=None,
         log_mels=False, dct_norm="ortho"),
]


def pipe_args(d):
    return ", ".join("%s = %s" % (k, json.dumps(v) if isinstance(v, str) else
                                  ("true" if v is True else "false" if v is False else repr(v))) for k, v in d.items())


def transforms(out):
    generator = torch.Generator().manual_seed(1234)
    tensors, cases = {}, []
    for n, c in enumerate(CASES):
        wave = waveform(generator, c["channels"], c["samples"], c["rate"])
        stft, mel = c["stft"], c["mel"]
        spec_kwargs = dict(stft, power=c["power"], normalized=c["normalized"])
        spec = T.Spectrogram(**spec_kwargs)(wave)
        mel_kwargs = dict(stft, **mel, power=c["power"])
        mel_spec = T.MelSpectrogram(sample_rate=c["rate"], **mel_kwargs)(wave)
        mfcc_kwargs = dict(n_mfcc=c["mfcc"].get("n_mfcc", 40), log_mels=c["log_mels"],
                           norm=None if c["dct_norm"] == "none" else "ortho")
        mfcc = T.MFCC(sample_rate=c["rate"], **mfcc_kwargs, melkwargs=dict(stft, **mel))(wave)
        stype = "power" if c["power"] == 2.0 else "magnitude"
        db = T.AmplitudeToDB(stype=stype, top_db=c["top_db"])(mel_spec)
        tensors.update({"%d.wave" % n: wave, "%d.spectrogram" % n: spec, "%d.mel_spectrogram" % n: mel_spec,
                        "%d.mfcc" % n: mfcc, "%d.amplitude_to_db" % n: db})
        mel_call = "mel_spectrogram(%s)" % pipe_args(dict(stft, **mel, power=c["power"]))
        db_args = dict(stype=stype)
        if c["top_db"] is not None:
            db_args["top_db"] = c["top_db"]
        mfcc_pipe = dict(c["mfcc"], log_mels=c["log_mels"], dct_norm=c["dct_norm"], **stft, **mel)
        cases.append({
            "rate": c["rate"],
            "items": {
                "spectrogram": "[spectrogram(%s)]" % pipe_args(spec_kwargs),
                "mel_spectrogram": "[%s]" % mel_call,
                "mfcc": "[mfcc(%s)]" % pipe_args(mfcc_pipe),
                "amplitude_to_db": "[%s, amplitude_to_db(%s)]" % (mel_call, pipe_args(db_args)),
            },
        })
    write(out + "/transforms.safetensors", tensors)
    with open(out + "/cases.json", "w") as f:
        json.dump(cases, f, indent=1)


def files(out):
    rate = 22050
    # Band-limited (tones only): resamplers differ most near the Nyquist frequency.
    wave = waveform(torch.Generator().manual_seed(99), 2, rate // 2, rate, noise=0.0)
    torchaudio.save(out + "/tone.wav", wave, rate, encoding="PCM_S", bits_per_sample=16)
    torchaudio.save(out + "/tone.flac", wave, rate, bits_per_sample=16)
    torchaudio.save(out + "/tone.ogg", wave, rate)
    loaded = {ext: torchaudio.load(out + "/tone." + ext)[0] for ext in ("wav", "flac", "ogg")}
    resampled = F.resample(loaded["wav"], rate, 16000)
    write(out + "/files.safetensors", dict(loaded, resampled=resampled))
    with open(out + "/tone.wav", "rb") as f:
        whole = f.read()
    with open(out + "/cut.wav", "wb") as f:
        f.write(whole[:3000])
    with open(out + "/text.wav", "w") as f:
        f.write("this is not sound, only a text file with the wrong name\n" * 20)
    # A WAVE file in a format no decoder has: tag 0x1234, 1 channel, 8000 Hz, 16 bits.
    data = b"\x00\x01" * 800
    fmt = struct.pack("<HHIIHH", 0x1234, 1, 8000, 16000, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    with open(out + "/codec.wav", "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)


if __name__ == "__main__":
    {"transforms": transforms, "files": files}[sys.argv[1]](sys.argv[2])
