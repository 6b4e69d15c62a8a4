#!/usr/bin/python3
"""Reference weights for pipe's model tests, made by PyTorch + torchvision.

Debian has no Python safetensors package, so the format is written and read
here by hand: an 8-byte little-endian header length, the JSON header, the bytes.

    make_weights.py reference DIR
        DIR/resnet{18,34,50}.json   [[name, shape], ...] of torchvision's state dict (num_classes = 10)
        DIR/resnet18.safetensors    a seeded resnet18(num_classes = 10), batch-norm statistics randomised
        DIR/resnet18_io.safetensors `input` {2, 3, 64, 64} and its eval-mode `output` {2, 10}

    make_weights.py dtypes FILE
        one small tensor per dtype, values as in safetensors_test.cpp

    make_weights.py pth DIR
        what torch.save writes, in its zip format and its legacy one (`_legacy`):
        DIR/resnet18{,_legacy}.pth  the state dict of the seeded resnet18 above
        DIR/resnet18_io.safetensors as above
        DIR/wrapped.pt              {"epoch", "state_dict": DataParallel's `module.` names}
        DIR/whole{,_legacy}.pth     torch.save(model): a whole pickled model
        DIR/evil{,_legacy}.pth      a pickle that runs `touch DIR/pwned` when Python loads it
        DIR/dtypes{,_legacy}.pth    the tensors of `dtypes` below, a transposed view among them
        DIR/dtypes.safetensors      the same, as safetensors

    make_weights.py families DIR
        for every family and variant pipe builds (FAMILIES below):
        DIR/<arch>.json             [[name, shape], ...] of torchvision's state dict (num_classes = 10)
        and for those in OUTPUTS, at 64 px:
        DIR/<arch>.safetensors      the seeded model, norms, layer scales and zero-initialised parts randomised
        DIR/<arch>_io.safetensors   `input` {2, 3, 64, 64} and its eval-mode `output` {2, 10}
        vit_b_16 is written for 224 px (its 14×14 position grid); its output is that of torchvision's
        interpolate_embeddings to 64 px, which pipe must reproduce when it loads the file at 64 px.

    make_weights.py check_arch ARCH WEIGHTS IO NUM_CLASSES OUT
        as `check`, for torchvision.models.ARCH (a vit at the input's size)

    make_weights.py check WEIGHTS IO NUM_CLASSES OUT
        loads WEIGHTS (a pipe export) into resnet18(num_classes = NUM_CLASSES) with strict=True,
        runs IO's `input` in eval mode and writes `output` to OUT; exits 1 with the error if it
        does not load.
"""
import json
import struct
import sys

import torch
import torchvision

DTYPES = {
    torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
}
BY_NAME = {v: k for k, v in DTYPES.items()}


def tensor_bytes(t):
    t = t.detach().cpu().contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()  # little-endian on the machines this runs on


def write(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        data = tensor_bytes(t)
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        begin, end = e["data_offsets"]
        dtype = BY_NAME[e["dtype"]]
        chunk = bytearray(data[begin:end])
        if dtype == torch.bfloat16:
            t = torch.frombuffer(chunk, dtype=torch.int16).view(torch.bfloat16) if chunk else torch.empty(0, dtype=dtype)
        else:
            t = torch.frombuffer(chunk, dtype=dtype) if chunk else torch.empty(0, dtype=dtype)
        out[name] = t.clone().reshape(e["shape"])
    return out


def seeded_resnet18(num_classes):
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=num_classes)
    # Fresh batch-norm layers are the identity in eval mode; random statistics
    # and affine parameters make the comparison meaningful.
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
                m.num_batches_tracked.fill_(7)
    return model.eval()


FAMILIES = ["resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2",
            "wide_resnet101_2", "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
            "mobilenet_v3_small", "mobilenet_v3_large", "convnext_tiny", "convnext_small", "vit_b_16"]
OUTPUTS = ["resnext50_32x4d", "wide_resnet50_2", "efficientnet_b0", "efficientnet_b3", "mobilenet_v3_small",
           "mobilenet_v3_large", "convnext_tiny", "vit_b_16"]


def build(arch, num_classes, image_size=None):
    if arch.startswith("vit") and image_size is not None:
        return getattr(torchvision.models, arch)(num_classes=num_classes, image_size=image_size)
    return getattr(torchvision.models, arch)(num_classes=num_classes)


def randomise(model, seed):
    """Parts a fresh model starts at constants (norms, layer scales, ViT's
    class token and zeroed head) made random, so outputs depend on all of them."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.LayerNorm)):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
                m.num_batches_tracked.fill_(7)
        for name, p in model.named_parameters():
            if name.endswith("layer_scale"):
                p.copy_(torch.rand(p.shape, generator=g) * 0.5 + 0.1)
            elif name == "class_token" or (p.dim() >= 1 and not p.any()):
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    return model.eval()


def families(out):
    from torchvision.models.vision_transformer import interpolate_embeddings
    for arch in FAMILIES:
        model = build(arch, 10)
        with open(f"{out}/{arch}.json", "w") as f:
            json.dump([[k, list(v.shape)] for k, v in model.state_dict().items()], f)
        if arch not in OUTPUTS:
            continue
        torch.manual_seed(0)
        model = randomise(build(arch, 10), 1)
        write(f"{out}/{arch}.safetensors", model.state_dict(), {"format": "pt"})
        torch.manual_seed(2)
        x = torch.randn(2, 3, 64, 64)
        if arch.startswith("vit"):
            state = interpolate_embeddings(64, 16, model.state_dict())
            model = build(arch, 10, 64)
            model.load_state_dict(state, strict=True)
            model.eval()
        with torch.no_grad():
            y = model(x)
        write(f"{out}/{arch}_io.safetensors", {"input": x, "output": y})


def check_arch(arch, weights, io, num_classes, out):
    x = read(io)["input"]
    model = build(arch, int(num_classes), x.shape[-1])
    try:
        model.load_state_dict(read(weights), strict=True)
    except RuntimeError as e:
        print(e, file=sys.stderr)
        sys.exit(1)
    model.eval()
    with torch.no_grad():
        y = model(x)
    write(out, {"output": y})


def reference(out):
    for depth in (18, 34, 50):
        model = getattr(torchvision.models, f"resnet{depth}")(num_classes=10)
        names = [[k, list(v.shape)] for k, v in model.state_dict().items()]
        with open(f"{out}/resnet{depth}.json", "w") as f:
            json.dump(names, f)

    model = seeded_resnet18(10)
    write(f"{out}/resnet18.safetensors", model.state_dict(), {"format": "pt"})
    torch.manual_seed(2)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        y = model(x)
    write(f"{out}/resnet18_io.safetensors", {"input": x, "output": y})


def dtype_tensors():
    """One small tensor per dtype: the values safetensors_test.cpp expects."""
    base = torch.tensor([[0.5, -1.25, 3.0], [-0.0, 1024.0, -7.5]])
    return {
        "f32": base.float(), "f64": base.double() / 3, "f16": base.half(), "bf16": base.bfloat16(),
        "i64": torch.tensor([-(2 ** 40), 0, 2 ** 40 + 3]), "i32": torch.tensor([-70000, 1, 70000], dtype=torch.int32),
        "i16": torch.tensor([-300, 2, 300], dtype=torch.int16), "i8": torch.tensor([-128, 0, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 128, 255], dtype=torch.uint8), "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(2.5), "empty": torch.zeros(0, 4),
    }


def dtypes(path):
    write(path, dtype_tensors(), {"made_by": "make_weights.py"})


class RunsCode:
    """Pickled, it asks the loader to call os.system: Python's pickle would."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os
        return (os.system, (f"touch {self.marker}",))


def both_formats(obj, stem, ext=".pth"):
    torch.save(obj, f"{stem}{ext}")
    torch.save(obj, f"{stem}_legacy{ext}", _use_new_zipfile_serialization=False)


def pth(out):
    model = seeded_resnet18(10)
    both_formats(model.state_dict(), f"{out}/resnet18")
    torch.manual_seed(2)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        y = model(x)
    write(f"{out}/resnet18_io.safetensors", {"input": x, "output": y})
    wrapped = {"epoch": 3, "state_dict": {"module." + k: v for k, v in model.state_dict().items()}}
    torch.save(wrapped, f"{out}/wrapped.pt")
    both_formats(model, f"{out}/whole")
    both_formats({"fc.bias": torch.zeros(10), "note": RunsCode(f"{out}/pwned")}, f"{out}/evil")
    tensors = dtype_tensors()
    tensors["f32_t"] = tensors["f32"].t()  # a view: shares f32's storage, strides (1, 3)
    tensors["f32_row"] = tensors["f32"][1]  # a view at an offset
    both_formats(tensors, f"{out}/dtypes")
    write(f"{out}/dtypes.safetensors", {k: v.contiguous() for k, v in tensors.items()})


def check(weights, io, num_classes, out):
    model = torchvision.models.resnet18(num_classes=int(num_classes))
    try:
        model.load_state_dict(read(weights), strict=True)
    except RuntimeError as e:
        print(e, file=sys.stderr)
        sys.exit(1)
    model.eval()
    with torch.no_grad():
        y = model(read(io)["input"])
    write(out, {"output": y})


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "reference":
        reference(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "dtypes":
        dtypes(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "pth":
        pth(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "families":
        families(sys.argv[2])
    elif len(sys.argv) == 7 and sys.argv[1] == "check_arch":
        check_arch(*sys.argv[2:])
    elif len(sys.argv) == 6 and sys.argv[1] == "check":
        check(*sys.argv[2:])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
