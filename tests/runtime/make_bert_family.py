#!/usr/bin/python3
"""RoBERTa- and DistilBERT-shaped encoders as Hugging Face model folders, in
plain PyTorch (Debian has no transformers package) with the module names and
arithmetic of transformers' RobertaForMaskedLM and DistilBertForMaskedLM, for
pipe's test that a folder's config.json gives the transformer's sizes and
its weights load and give the same features.

    make_bert_family.py DIR
        DIR/hf-roberta/      config.json and pytorch_model.bin (`roberta.` and an `lm_head.`)
        DIR/hf-distilbert/   config.json and model.safetensors (`distilbert.` and `vocab_*` heads)
        DIR/NAME_io.safetensors  `input` ids {2, 7}, `mask` {2, 7} (0/1) and eval-mode `output`
                                 {2, 7, DIM}, the last hidden state, for NAME roberta and distilbert

    make_bert_family.py --hub HF_HOME ORG/NAME FORTUNE_FOLDER...
        a small DistilBERT with a WordPiece vocabulary of those fortunes, in Hugging Face's
        cache as ORG/NAME (for examples/fortune_topics_bert.pipe)
"""
import json
import math
import os
import sys

import torch
import torch.nn as nn

from make_weights import write

VOCAB, DIM, HEADS, FFN, LAYERS = 13, 16, 2, 24, 2


def attend(q, k, v, mask, heads):
    b, t, dim = q.shape
    split = lambda y: y.view(b, t, heads, dim // heads).transpose(1, 2)
    scores = split(q) @ split(k).transpose(-1, -2) / math.sqrt(dim // heads)
    scores = scores.masked_fill(mask[:, None, None, :] == 0, torch.finfo(torch.float32).min)
    return (scores.softmax(-1) @ split(v)).transpose(1, 2).reshape(b, t, dim)


# ---- RoBERTa: BERT's modules; positions from padding_idx + 1, one segment, eps 1e-5
PAD = 1  # RoBERTa's padding_idx (pad_token_id)
ROBERTA_POSITIONS = 514


class RobertaEmbeddings(nn.Module):
    def __init__(self):
        super().__init__()
        self.word_embeddings = nn.Embedding(VOCAB, DIM, padding_idx=PAD)
        self.position_embeddings = nn.Embedding(ROBERTA_POSITIONS, DIM, padding_idx=PAD)
        self.token_type_embeddings = nn.Embedding(1, DIM)
        self.LayerNorm = nn.LayerNorm(DIM, eps=1e-5)

    def forward(self, ids):
        # transformers' create_position_ids_from_input_ids
        real = (ids != PAD).int()
        positions = torch.cumsum(real, dim=1) * real + PAD
        x = self.word_embeddings(ids) + self.position_embeddings(positions)
        return self.LayerNorm(x + self.token_type_embeddings(torch.zeros_like(ids)))


class SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.query, self.key, self.value = nn.Linear(DIM, DIM), nn.Linear(DIM, DIM), nn.Linear(DIM, DIM)


class DenseNorm(nn.Module):
    def __init__(self, inputs):
        super().__init__()
        self.dense = nn.Linear(inputs, DIM)
        self.LayerNorm = nn.LayerNorm(DIM, eps=1e-5)


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.self = SelfAttention()
        self.output = DenseNorm(DIM)


class Intermediate(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(DIM, FFN)


class RobertaLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = Attention()
        self.intermediate = Intermediate()
        self.output = DenseNorm(FFN)

    def forward(self, x, mask):
        s = self.attention.self
        a = attend(s.query(x), s.key(x), s.value(x), mask, HEADS)
        x = self.attention.output.LayerNorm(self.attention.output.dense(a) + x)
        h = nn.functional.gelu(self.intermediate.dense(x))
        return self.output.LayerNorm(self.output.dense(h) + x)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.ModuleList(RobertaLayer() for _ in range(LAYERS))


class RobertaModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embeddings = RobertaEmbeddings()
        self.encoder = Encoder()

    def forward(self, ids, mask):
        x = self.embeddings(ids)
        for layer in self.encoder.layer:
            x = layer(x, mask)
        return x


# ---- DistilBERT: its own names (q_lin, sa_layer_norm, ffn.lin1, ...), no segments
DISTIL_POSITIONS = 512


class DistilEmbeddings(nn.Module):
    def __init__(self):
        super().__init__()
        self.word_embeddings = nn.Embedding(VOCAB, DIM, padding_idx=0)
        self.position_embeddings = nn.Embedding(DISTIL_POSITIONS, DIM)
        self.LayerNorm = nn.LayerNorm(DIM, eps=1e-12)

    def forward(self, ids):
        positions = torch.arange(ids.shape[1]).unsqueeze(0)
        return self.LayerNorm(self.word_embeddings(ids) + self.position_embeddings(positions))


class MultiHeadSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.q_lin, self.k_lin = nn.Linear(DIM, DIM), nn.Linear(DIM, DIM)
        self.v_lin, self.out_lin = nn.Linear(DIM, DIM), nn.Linear(DIM, DIM)

    def forward(self, x, mask):
        return self.out_lin(attend(self.q_lin(x), self.k_lin(x), self.v_lin(x), mask, HEADS))


class FeedForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin1, self.lin2 = nn.Linear(DIM, FFN), nn.Linear(FFN, DIM)

    def forward(self, x):
        return self.lin2(nn.functional.gelu(self.lin1(x)))


class TransformerBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = MultiHeadSelfAttention()
        self.sa_layer_norm = nn.LayerNorm(DIM, eps=1e-12)
        self.ffn = FeedForward()
        self.output_layer_norm = nn.LayerNorm(DIM, eps=1e-12)

    def forward(self, x, mask):
        x = self.sa_layer_norm(self.attention(x, mask) + x)
        return self.output_layer_norm(self.ffn(x) + x)


class Transformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.ModuleList(TransformerBlock() for _ in range(LAYERS))


class DistilBertModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embeddings = DistilEmbeddings()
        self.transformer = Transformer()

    def forward(self, ids, mask):
        x = self.embeddings(ids)
        for layer in self.transformer.layer:
            x = layer(x, mask)
        return x


def scramble(model):
    with torch.no_grad():  # LayerNorms away from 1 and 0 too
        for name, p in model.named_parameters():
            is_norm = "LayerNorm" in name or "layer_norm" in name
            p.normal_(0, 0.1 if is_norm else 0.3).add_(1.0 if is_norm and name.endswith("weight") else 0)


def inputs(pad):
    ids = torch.randint(3, VOCAB, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.int64)
    mask[1, 4:] = 0
    ids[1, 4:] = pad
    return ids, mask


def main(out):
    torch.manual_seed(0)
    roberta = RobertaModel().eval()
    scramble(roberta)
    ids, mask = inputs(PAD)
    with torch.no_grad():
        output = roberta(ids, mask)
    write(f"{out}/roberta_io.safetensors", {"input": ids, "mask": mask, "output": output})
    folder = f"{out}/hf-roberta"
    os.makedirs(folder)
    with open(f"{folder}/config.json", "w") as f:
        json.dump({"architectures": ["RobertaForMaskedLM"], "model_type": "roberta", "vocab_size": VOCAB,
                   "hidden_size": DIM, "num_attention_heads": HEADS, "intermediate_size": FFN,
                   "num_hidden_layers": LAYERS, "max_position_embeddings": ROBERTA_POSITIONS,
                   "type_vocab_size": 1, "layer_norm_eps": 1e-05, "pad_token_id": PAD, "hidden_act": "gelu",
                   "hidden_dropout_prob": 0.1, "position_embedding_type": "absolute"}, f)
    state = {"roberta." + k: v for k, v in roberta.state_dict().items()}
    state["lm_head.bias"] = torch.zeros(VOCAB)
    state["lm_head.dense.weight"] = torch.zeros(DIM, DIM)
    torch.save(state, f"{folder}/pytorch_model.bin")

    distil = DistilBertModel().eval()
    scramble(distil)
    ids, mask = inputs(0)
    with torch.no_grad():
        output = distil(ids, mask)
    write(f"{out}/distilbert_io.safetensors", {"input": ids, "mask": mask, "output": output})
    folder = f"{out}/hf-distilbert"
    os.makedirs(folder)
    with open(f"{folder}/config.json", "w") as f:
        json.dump({"architectures": ["DistilBertForMaskedLM"], "model_type": "distilbert", "vocab_size": VOCAB,
                   "dim": DIM, "n_heads": HEADS, "hidden_dim": FFN, "n_layers": LAYERS,
                   "max_position_embeddings": DISTIL_POSITIONS, "activation": "gelu", "dropout": 0.1,
                   "sinusoidal_pos_embds": False}, f)
    state = {"distilbert." + k: v for k, v in distil.state_dict().items()}
    state["vocab_transform.weight"] = torch.zeros(DIM, DIM)
    state["vocab_layer_norm.weight"] = torch.ones(DIM)
    state["vocab_projector.bias"] = torch.zeros(VOCAB)
    write(f"{folder}/model.safetensors", state)


def wordpiece_vocab(folders, size):
    """A BERT-uncased vocabulary for the text of the fortune files in `folders`:
    the special tokens, every character alone and as a `##` continuation, and
    the most frequent words, lowercased without accents as BertNormalizer does."""
    import collections
    import re
    import unicodedata
    words, chars = collections.Counter(), set()
    for folder in folders:
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if "." in name or not os.path.isfile(path):
                continue
            text = open(path, encoding="utf-8", errors="ignore").read().lower()
            text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
            for w in re.findall(r"\w+|[^\w\s]", text):
                words[w] += 1
                chars.update(w)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab += sorted(chars) + ["##" + c for c in sorted(chars)]
    for w, _ in words.most_common():
        if len(vocab) >= size:
            break
        if len(w) > 1:
            vocab.append(w)
    return vocab


def hub_distilbert(hf_home, repo, folders):
    """A small DistilBERT with a WordPiece vocabulary of the fortunes, laid out in
    Hugging Face's cache at HF_HOME/hub as `repo`, as `huggingface-cli download`
    leaves a model: config.json, model.safetensors, vocab.txt, tokenizer_config.json."""
    global VOCAB
    vocab = wordpiece_vocab(folders, 3000)
    VOCAB = len(vocab)
    torch.manual_seed(1)
    model = DistilBertModel()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "layer_norm" in name or "LayerNorm" in name:
                p.fill_(1.0 if name.endswith("weight") else 0.0)
            else:
                p.normal_(0, 0.02)
    commit = "fedcba9876543210fedcba9876543210fedcba98"
    root = f"{hf_home}/hub/models--{repo.replace('/', '--')}"
    snapshot = f"{root}/snapshots/{commit}"
    os.makedirs(f"{root}/refs", exist_ok=True)
    os.makedirs(snapshot, exist_ok=True)
    with open(f"{root}/refs/main", "w") as f:
        f.write(commit)
    with open(f"{snapshot}/config.json", "w") as f:
        json.dump({"architectures": ["DistilBertForMaskedLM"], "model_type": "distilbert", "vocab_size": VOCAB,
                   "dim": DIM, "n_heads": HEADS, "hidden_dim": FFN, "n_layers": LAYERS,
                   "max_position_embeddings": DISTIL_POSITIONS, "activation": "gelu", "dropout": 0.1}, f)
    with open(f"{snapshot}/vocab.txt", "w") as f:
        f.write("\n".join(vocab) + "\n")
    with open(f"{snapshot}/tokenizer_config.json", "w") as f:
        json.dump({"do_lower_case": True, "model_max_length": 512}, f)
    write(f"{snapshot}/model.safetensors", {"distilbert." + k: v for k, v in model.state_dict().items()})


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--hub":
        # make_bert_family.py --hub HF_HOME ORG/NAME FORTUNE_FOLDER...
        hub_distilbert(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        main(sys.argv[1])
