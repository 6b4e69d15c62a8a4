#!/usr/bin/python3
"""The peer of bench/chars_mlp.pipe: makemore's character MLP as a plain
PyTorch script (python3-torch, on the same LibTorch as pipe), written as
makemore writes it. It reads the same word list, holds out the same share of
words for validation, builds the windows as pipe's `chars(context = 3)`
block does (three <s> tokens, the word's characters, then </s>), trains one
epoch with SGD at lr 0.1 and batch 32 in a shuffled order, then reports the
validation perplexity.

    chars_peer.py THREADS

Prints `train_steps_per_s N`, `train_items_per_s N` and `valid_perplexity P`.
"""
import sys
import time

import torch
import torch.nn.functional as F

WORDS = "/usr/share/dict/words"
CONTEXT, DIM, HIDDEN, BATCH = 3, 10, 200, 32
PAD, UNK, BOS, EOS, SPECIALS = 0, 1, 2, 3, 5


def windows(words, index):
    xs, ys = [], []
    for word in words:
        ids = [BOS] * CONTEXT
        for ch in list(word) + [None]:
            target = EOS if ch is None else index[ch]
            xs.append(ids[-CONTEXT:])
            ys.append(target)
            ids.append(target)
    return torch.tensor(xs), torch.tensor(ys)


def main():
    torch.set_num_threads(int(sys.argv[1]))
    torch.manual_seed(1)
    with open(WORDS, encoding="utf-8") as f:
        words = [line.rstrip("\n") for line in f if line.strip()]
    order = torch.randperm(len(words)).tolist()
    n_valid = len(words) // 10
    valid = [words[i] for i in order[:n_valid]]
    train = [words[i] for i in order[n_valid:]]
    chars = sorted(set("".join(train)))
    index = {c: SPECIALS + i for i, c in enumerate(chars)}
    vocab = SPECIALS + len(chars)
    Xtr, Ytr = windows(train, index)
    Xva, Yva = windows([w for w in valid if all(c in index for c in w)], index)

    g = torch.Generator().manual_seed(1)
    C = torch.randn((vocab, DIM), generator=g)
    W1 = torch.randn((CONTEXT * DIM, HIDDEN), generator=g) * (1 / (CONTEXT * DIM)) ** 0.5
    b1 = torch.zeros(HIDDEN)
    W2 = torch.randn((HIDDEN, vocab), generator=g) * (1 / HIDDEN) ** 0.5
    b2 = torch.zeros(vocab)
    parameters = [C, W1, b1, W2, b2]
    for p in parameters:
        p.requires_grad = True

    steps = len(Xtr) // BATCH  # the last, smaller batch is dropped, as pipe does
    perm = torch.randperm(len(Xtr))
    start = time.perf_counter()
    for step in range(steps):
        ix = perm[step * BATCH:(step + 1) * BATCH]
        emb = C[Xtr[ix]]
        h = torch.tanh(emb.view(-1, CONTEXT * DIM) @ W1 + b1)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Ytr[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        loss.item()  # as pipe reads each step's loss for its progress line
        for p in parameters:
            p.data += -0.1 * p.grad
    seconds = time.perf_counter() - start

    with torch.no_grad():
        h = torch.tanh(C[Xva].view(-1, CONTEXT * DIM) @ W1 + b1)
        perplexity = F.cross_entropy(h @ W2 + b2, Yva).exp().item()
    print(f"train_steps_per_s {steps / seconds:.1f}")
    print(f"train_items_per_s {steps * BATCH / seconds:.1f}")
    print(f"valid_perplexity {perplexity:.3f}")


if __name__ == "__main__":
    main()
