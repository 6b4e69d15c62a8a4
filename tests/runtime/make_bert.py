#!/usr/bin/python3
"""A BERT encoder in Hugging Face's module layout (transformers' BertModel
without its pooler: BertEmbeddings, BertSelfAttention, BertSelfOutput,
BertIntermediate, BertOutput), written here in plain PyTorch since Debian
has no transformers package, for pipe's transformer test: its state dict
saved as safetensors must load into `transformer(norm = "post")` by name and
give the same features.

    make_bert.py DIR
        DIR/bert.safetensors     a seeded 2-layer BERT (vocab 11, dim 16, 2 heads, ffn 24), with
                                 BertModel's position_ids buffer and pooler
        DIR/bert_io.safetensors  `input` ids {2, 7}, `mask` {2, 7} (0/1) and eval-mode
                                 `output` {2, 7, 16}, the last hidden state
        DIR/hf-bert/             the same as a model folder: config.json and pytorch_model.bin
                                 with BertForMaskedLM's names (`bert.` and a `cls.` head)
        DIR/hf-home/hub/         that folder in Hugging Face's cache, as `tests/tiny-bert`
"""
import math
import sys

import torch
import torch.nn as nn

from make_weights import write

VOCAB, DIM, HEADS, FFN, LAYERS, POSITIONS = 11, 16, 2, 24, 2, 512


class BertEmbeddings(nn.Module):
    def __init__(self):
        super().__init__()
        self.word_embeddings = nn.Embedding(VOCAB, DIM)
        self.position_embeddings = nn.Embedding(POSITIONS, DIM)
        self.token_type_embeddings = nn.Embedding(2, DIM)
        self.LayerNorm = nn.LayerNorm(DIM, eps=1e-12)
        # A constant that transformers (before 4.31) saves with the weights.
        self.register_buffer("position_ids", torch.arange(POSITIONS).unsqueeze(0))

    def forward(self, ids):
        positions = self.position_ids[:, :ids.shape[1]]
        x = self.word_embeddings(ids) + self.position_embeddings(positions)
        return self.LayerNorm(x + self.token_type_embeddings(torch.zeros_like(ids)))


class BertSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.query, self.key, self.value = nn.Linear(DIM, DIM), nn.Linear(DIM, DIM), nn.Linear(DIM, DIM)

    def forward(self, x, mask):
        b, t, _ = x.shape
        split = lambda y: y.view(b, t, HEADS, DIM // HEADS).transpose(1, 2)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(DIM // HEADS)
        # transformers' extended attention mask: (1 - mask) * the dtype's minimum
        scores = scores + (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        return (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, DIM)


class DenseNorm(nn.Module):  # BertSelfOutput and BertOutput
    def __init__(self, inputs):
        super().__init__()
        self.dense = nn.Linear(inputs, DIM)
        self.LayerNorm = nn.LayerNorm(DIM, eps=1e-12)

    def forward(self, h, residual):
        return self.LayerNorm(self.dense(h) + residual)


class BertAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.self = BertSelfAttention()
        self.output = DenseNorm(DIM)


class BertIntermediate(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(DIM, FFN)


class BertLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = BertAttention()
        self.intermediate = BertIntermediate()
        self.output = DenseNorm(FFN)

    def forward(self, x, mask):
        x = self.attention.output(self.attention.self(x, mask), x)
        return self.output(nn.functional.gelu(self.intermediate.dense(x)), x)


class BertEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.ModuleList(BertLayer() for _ in range(LAYERS))


class BertPooler(nn.Module):  # saved by BertModel; pipe's heads pool on their own
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(DIM, DIM)


class BertModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embeddings = BertEmbeddings()
        self.encoder = BertEncoder()
        self.pooler = BertPooler()

    def forward(self, ids, mask):
        x = self.embeddings(ids)
        for layer in self.encoder.layer:
            x = layer(x, mask)
        return x


def main(out):
    torch.manual_seed(0)
    model = BertModel().eval()
    with torch.no_grad():
        for name, p in model.named_parameters():  # LayerNorms away from 1 and 0 too
            p.normal_(0, 0.3 if "LayerNorm" not in name else 0.1).add_(1.0 if name.endswith("LayerNorm.weight") else 0)
    ids = torch.randint(VOCAB, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.int64)
    mask[1, 4:] = 0
    with torch.no_grad():
        output = model(ids, mask)
    write(f"{out}/bert.safetensors", model.state_dict())
    write(f"{out}/bert_io.safetensors", {"input": ids, "mask": mask, "output": output})

    # As a BertForMaskedLM leaves it in a model folder: its names under `bert.`,
    # its pretraining head `cls.` beside them, saved by torch.save.
    import json
    import os
    folder = f"{out}/hf-bert"
    os.makedirs(folder)
    with open(f"{folder}/config.json", "w") as f:
        json.dump({"architectures": ["BertForMaskedLM"], "model_type": "bert", "vocab_size": VOCAB,
                   "hidden_size": DIM, "num_attention_heads": HEADS, "intermediate_size": FFN,
                   "num_hidden_layers": LAYERS, "max_position_embeddings": POSITIONS}, f)
    state = {"bert." + k: v for k, v in model.state_dict().items()}
    state["cls.predictions.bias"] = torch.zeros(VOCAB)
    state["cls.predictions.transform.dense.weight"] = torch.zeros(DIM, DIM)
    torch.save(state, f"{folder}/pytorch_model.bin")
    # The same folder in Hugging Face's cache, as huggingface_hub lays it out:
    # hub/models--ORG--NAME/{refs/main, snapshots/COMMIT/...}.
    repo = f"{out}/hf-home/hub/models--tests--tiny-bert"
    commit = "0123456789abcdef0123456789abcdef01234567"
    os.makedirs(f"{repo}/refs")
    os.makedirs(f"{repo}/snapshots/{commit}")
    with open(f"{repo}/refs/main", "w") as f:
        f.write(commit)
    for name in ("config.json", "pytorch_model.bin"):
        os.symlink(os.path.abspath(f"{folder}/{name}"), f"{repo}/snapshots/{commit}/{name}")


if __name__ == "__main__":
    main(sys.argv[1])
