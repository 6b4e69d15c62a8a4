#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/.

    /usr/bin/python3 tests/fuzz/make_corpus.py [TOKENIZERS]

The seeds are committed; this script says where each came from and makes
them again. TOKENIZERS is the folder `node tests/reference/hf_tokenizers.js
OUT` fills (Hugging Face's own library trains them): each is cut down to a
vocabulary of a few dozen tokens. Without it the tokenizer seeds are left as
they are. The pickles are torch.save's own (Debian's python3-torch).
"""
import base64
import collections
import io
import json
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fuzz" / "corpus"


def folder(target):
    d = CORPUS / target
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    return d


def committed(pattern):
    """The files git tracks that match `pattern` (work in progress in the tree left out)."""
    out = subprocess.run(["git", "ls-files", pattern], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / line for line in sorted(out.split())]


def check_seeds():
    d = folder("fuzz_check")
    for p in committed("examples/*.pipe"):
        shutil.copy(p, d / ("example_" + p.name))
    for p in committed("tests/diagnostics/*.pipe"):
        shutil.copy(p, d / ("diagnostic_" + p.name))


def lsp_seeds():
    d = folder("fuzz_lsp")
    uri = "file://" + str(ROOT / "examples" / "fuzz.pipe")
    # Short files and a few places each: a session is handled whole for every input, and a
    # long one leaves the fuzzer a few dozen inputs a second.
    for name in ["fashion.pipe", "fortune_topics.pipe", "cars_sweep.pipe", "emotions.pipe"]:
        text = (ROOT / "examples" / name).read_text()
        lines = text.split("\n")
        doc = {"textDocument": {"uri": uri}}
        messages = [
            {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}},
            {"jsonrpc": "2.0", "method": "initialized", "params": {}},
            {"jsonrpc": "2.0", "method": "textDocument/didOpen",
             "params": {"textDocument": {"uri": uri, "languageId": "pipe", "version": 1, "text": text}}},
        ]
        n = 2
        # Requests at a few places: a block's name, inside a call, after a `=`.
        for line in range(0, len(lines), max(1, len(lines) // 2)):
            col = len(lines[line]) // 2
            pos = {"line": line, "character": col}
            for method in ["textDocument/hover", "textDocument/completion", "textDocument/definition",
                           "textDocument/references", "textDocument/signatureHelp"]:
                params = dict(doc, position=pos)
                if method == "textDocument/references":
                    params["context"] = {"includeDeclaration": True}
                messages.append({"jsonrpc": "2.0", "id": n, "method": method, "params": params})
                n += 1
            messages.append({"jsonrpc": "2.0", "id": n, "method": "textDocument/rename",
                             "params": dict(doc, position=pos, newName="renamed")})
            n += 1
            messages.append({"jsonrpc": "2.0", "id": n, "method": "textDocument/codeAction",
                             "params": dict(doc, range={"start": pos, "end": pos}, context={"diagnostics": []})})
            n += 1
        for method in ["textDocument/documentSymbol", "textDocument/semanticTokens/full"]:
            messages.append({"jsonrpc": "2.0", "id": n, "method": method, "params": doc})
            n += 1
        messages.append({"jsonrpc": "2.0", "id": n, "method": "textDocument/formatting",
                         "params": dict(doc, options={"tabSize": 4, "insertSpaces": True})})
        n += 1
        messages.append({"jsonrpc": "2.0", "method": "textDocument/didChange",
                         "params": {"textDocument": {"uri": uri, "version": 2},
                                    "contentChanges": [{"text": text.replace("=", "= ", 3)[: len(text) // 2]}]}})
        messages.append({"jsonrpc": "2.0", "id": n, "method": "textDocument/hover",
                         "params": dict(doc, position={"line": 1, "character": 3})})
        messages.append({"jsonrpc": "2.0", "method": "textDocument/didClose", "params": doc})
        messages.append({"jsonrpc": "2.0", "id": n + 1, "method": "shutdown"})
        messages.append({"jsonrpc": "2.0", "method": "exit"})
        stem = name.removesuffix(".pipe")
        (d / ("session_" + stem)).write_text("".join(json.dumps(m, ensure_ascii=False) + "\n" for m in messages))
        if name == "fashion.pipe":  # the same session framed as `pipe lsp` reads it
            framed = b""
            for m in messages:
                body = json.dumps(m).encode()
                framed += b"Content-Length: %d\r\n\r\n" % len(body) + body
            (d / ("framed_" + stem)).write_bytes(framed)


def safetensors(tensors, metadata=None, pad=True):
    """The format by hand (8-byte length, JSON header, data), as safetensors writes it."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def safetensors_seeds():
    d = folder("fuzz_safetensors")
    f32 = lambda *v: struct.pack("<%df" % len(v), *v)
    (d / "small.safetensors").write_bytes(safetensors({
        "fc.weight": ("F32", [2, 3], f32(1, 2, 3, 4, 5, 6)),
        "fc.bias": ("F32", [2], f32(0.5, -0.5)),
    }, {"format": "pt"}))
    (d / "dtypes.safetensors").write_bytes(safetensors({
        "f64": ("F64", [2], struct.pack("<2d", 1.5, -2.5)),
        "f16": ("F16", [2], struct.pack("<2e", 1.0, 2.0)),
        "bf16": ("BF16", [1], b"\x80\x3f"),
        "i64": ("I64", [1, 1], struct.pack("<q", -7)),
        "i32": ("I32", [2], struct.pack("<2i", 1, 2)),
        "i16": ("I16", [1], struct.pack("<h", 3)),
        "i8": ("I8", [3], bytes([1, 255, 3])),
        "u8": ("U8", [2], bytes([0, 200])),
        "mask": ("BOOL", [3], bytes([0, 1, 1])),
    }))
    (d / "edge.safetensors").write_bytes(safetensors({
        "scalar": ("F32", [], f32(3.0)),
        "empty": ("F32", [0, 4], b""),
        "after": ("I8", [2, 1], bytes([1, 2])),
    }, {"note": "scalar, empty and a tensor after it"}, pad=False))


def pickle_seeds():
    import torch
    d = folder("fuzz_pickle")
    torch.manual_seed(0)
    state = collections.OrderedDict([
        ("layer.weight", torch.randn(2, 3)),
        ("layer.bias", torch.zeros(2, dtype=torch.float64)),
        ("steps", torch.tensor(5)),
        ("mask", torch.tensor([True, False])),
        ("half", torch.ones(2, dtype=torch.float16)),
        ("view", torch.arange(6, dtype=torch.int32).reshape(2, 3).t()),
    ])
    # The legacy format: the run of pickles, then the storages' bytes.
    buf = io.BytesIO()
    torch.save(state, buf, _use_new_zipfile_serialization=False)
    (d / "legacy_state_dict").write_bytes(buf.getvalue())
    buf = io.BytesIO()
    torch.save({"epoch": 3, "model": torch.nn.Linear(2, 2).state_dict()}, buf, _use_new_zipfile_serialization=False)
    (d / "legacy_checkpoint").write_bytes(buf.getvalue())
    # The zip format's data.pkl, the pickle the reader sees from it.
    buf = io.BytesIO()
    torch.save({"module.fc.weight": torch.nn.Parameter(torch.ones(2, 2)), "module.fc.bias": torch.ones(2)}, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        name = next(n for n in z.namelist() if n.endswith("/data.pkl"))
        (d / "zip_data.pkl").write_bytes(z.read(name))
    # Plain values in each protocol the reader takes.
    values = {"none": None, "bools": [True, False], "ints": [0, -1, 255, 65536, -2**31, 2**63, -2**70],
              "float": 1.25, "text": "naïve 東京", "bytes": b"\x00\xff", "tuple": (1, (2, 3)),
              "nested": {"a": [{"b": ()}]}, "ordered": collections.OrderedDict(x=1)}
    shared = [1, 2]
    values["shared"] = (shared, shared)
    for protocol in (2, 3, 4, 5):
        (d / ("values_protocol%d" % protocol)).write_bytes(pickle.dumps(values, protocol=protocol))
    big = pickle.dumps(list(range(300)) + ["x" * 300, b"y" * 300], protocol=4)
    (d / "long_lengths").write_bytes(big)


def csv_seeds():
    d = folder("fuzz_csv")
    (d / "plain.csv").write_text("image,label\na.png,cat\nb.png,dog\n")
    (d / "quoted.csv").write_bytes(b'\xef\xbb\xbfname,text,score\r\n"Smith, J.","said ""hi""\r\nthen left",1.5\r\n'
                                   b'x,,NA\r\n"",y,-2e3\r\n')
    (d / "semicolons.csv").write_text("a;b;c\n1;2;3\n4;\"5;6\";7\n\n")
    (d / "tabs.tsv").write_text("word\tcount\nnaïve\t3\n東京\t+4\n")
    shutil.copy(ROOT / "tests" / "diagnostics" / "_essays.csv", d / "essays.csv")


def json_seeds():
    d = folder("fuzz_json")
    (d / "array.json").write_text(json.dumps([
        {"image": "a.png", "label": "cat", "tags": ["x", "y"], "score": 1.5},
        {"image": "b.png", "label": None, "extra": {"k": [1, 2]}, "flag": True},
    ]))
    (d / "lines.jsonl").write_text('{"text": "hello", "label": "greeting"}\n\n'
                                   '{"text": "naïve \\u00e9 \\ud83d\\ude00", "label": 3, "more": [1, "a"]}\r\n'
                                   '  {"text": "", "label": null}\n')


def shrink(tok, keep=60):
    """A trained tokenizer.json cut to its first `keep` ids, merges and added tokens consistent."""
    model = tok["model"]
    kind = model.get("type")
    if kind == "Unigram":
        model["vocab"] = model["vocab"][:keep]
        if model.get("unk_id") is not None and model["unk_id"] >= keep:
            model["unk_id"] = 0
    elif isinstance(model.get("vocab"), dict):
        model["vocab"] = {t: i for t, i in model["vocab"].items() if i < keep}
        if "merges" in model:
            vocab = model["vocab"]
            kept = []
            for m in model["merges"]:
                a, b = m.split(" ", 1) if isinstance(m, str) else m
                if a in vocab and b in vocab and a + b in vocab:
                    kept.append(m)
            model["merges"] = kept
    tok["added_tokens"] = [t for t in tok.get("added_tokens", []) if t["id"] < keep]
    return tok


def protobuf_field(buf, number):
    """The bytes of the first length-delimited field `number` of a protobuf message."""
    def varint(i):
        value, shift = 0, 0
        while True:
            b = buf[i]
            value |= (b & 0x7F) << shift
            i, shift = i + 1, shift + 7
            if b < 0x80:
                return value, i
    i = 0
    while i < len(buf):
        key, i = varint(i)
        kind = key & 7
        if kind == 0:
            _, i = varint(i)
        elif kind == 1:
            i += 8
        elif kind == 5:
            i += 4
        elif kind == 2:
            n, i = varint(i)
            if key >> 3 == number:
                return buf[i:i + n]
            i += n
        else:
            raise ValueError("unexpected protobuf wire type %d" % kind)
    raise ValueError("no field %d" % number)


def small_charsmap():
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "rules.tsv").write_text("41\t61\n42\t62\nFF21\t41\n3000\t20\n2160\t49\n")
        (tmp / "text.txt").write_text("\n".join("line %d of a small text to train on, A B \uff21" % i for i in range(200)))
        subprocess.run(["spm_train", "--input=%s" % (tmp / "text.txt"), "--model_prefix=%s" % (tmp / "spm"),
                        "--vocab_size=60", "--normalization_rule_tsv=%s" % (tmp / "rules.tsv"), "--minloglevel=2"],
                       check=True, stdout=subprocess.DEVNULL)
        # ModelProto.normalizer_spec.precompiled_charsmap
        return protobuf_field(protobuf_field((tmp / "spm.model").read_bytes(), 3), 2)


def tokenizer_seeds(reference):
    d = folder("fuzz_tokenizer")
    ref = Path(reference)
    for sub in sorted(p for p in ref.iterdir() if (p / "tokenizer.json").exists() and not p.name.endswith("reference") and p.name != "precompiled"):
        tok = shrink(json.loads((sub / "tokenizer.json").read_text()))
        (d / ("json_" + sub.name)).write_bytes(b"j" + json.dumps(tok, ensure_ascii=False, indent=1).encode())
    # The Precompiled normalizer, with a charsmap small enough to mutate: spm_train
    # compiles five rules of its own (tokenizers/normalizers.cpp reads the darts-clone trie).
    unigram = shrink(json.loads((ref / "unigram" / "tokenizer.json").read_text()))
    unigram["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(small_charsmap()).decode()},
        {"type": "Strip", "strip_left": False, "strip_right": True},
        {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": "\u2581"}]}
    (d / "json_precompiled_small").write_bytes(b"j" + json.dumps(unigram, ensure_ascii=False, indent=1).encode())
    vocab = (ref / "bert-vocab" / "vocab.txt").read_text().split("\n")[:80]
    (d / "txt_bert").write_bytes(b"t" + "\n".join(vocab).encode() + b"\n")
    bpe = json.loads((ref / "gpt2" / "vocab.json").read_text())
    bpe = {t: i for t, i in bpe.items() if i < 120}
    merges = []
    for line in (ref / "gpt2" / "merges.txt").read_text().split("\n")[1:]:
        parts = line.split(" ")
        if len(parts) == 2 and parts[0] in bpe and parts[1] in bpe and parts[0] + parts[1] in bpe:
            merges.append(line)
    body = json.dumps(bpe, ensure_ascii=False).encode() + b"\0" + ("#version: 0.2\n" + "\n".join(merges) + "\n").encode()
    (d / "bpe_gpt2").write_bytes(b"b" + body)


if __name__ == "__main__":
    check_seeds()
    lsp_seeds()
    safetensors_seeds()
    pickle_seeds()
    csv_seeds()
    json_seeds()
    if len(sys.argv) > 1:
        tokenizer_seeds(sys.argv[1])
    for target in sorted(CORPUS.iterdir()):
        files = list(target.iterdir())
        print(f"{target.name}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} bytes")
