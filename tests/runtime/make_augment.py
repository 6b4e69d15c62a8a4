#!/usr/bin/python3
"""Reference pixels for pipe's augmentation tests, made by torchvision 0.14.

    make_augment.py DIR
        DIR/augment.safetensors:
          rgb {3, 21, 26}, grey {1, 17, 15}: the uint8 input images
          table/{rand,wide}/BINS/OP: the magnitudes of RandAugment's and
              TrivialAugmentWide's augmentation spaces (image 21 x 26), float32
          op/IMAGE/OP/SIGN: torchvision's _apply_op(IMAGE, OP, magnitude) on
              the uint8 tensor (nearest, fill None) at RandAugment's bin 9 of
              31, signed ops also negated (SIGN 0: +, 1: -), and
              op_wide/IMAGE/OP/SIGN at TrivialAugmentWide's bin 25 of 31
          aug/IMAGE: fastai's aug_transforms resampling at fixed draws
              (flip, 7 degrees, zoom 1.08 about (0.3, 0.8), warp 0.15 / -0.1),
              built from fastai's formulas (vision/augment.py: flip_mat,
              rotate_mat, zoom_mat, _prepare_mat, _WarpCoord, find_coeffs,
              apply_perspective) on torch's affine_grid and grid_sample
              (bilinear, reflection, align_corners=True), float32 before rounding
          random/K/{in,out,op,magnitude}: 120 random images (RGB and grey, of
              many sizes) each through one of the 14 operations at a random
              signed magnitude: _apply_op's output, the op's index in the
              augmentation space, the magnitude (float64)
"""
import math
import os
import sys

import torch
from torchvision.transforms import InterpolationMode
from torchvision.transforms import autoaugment as aa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_weights import write  # noqa: E402


def images():
    g = torch.Generator().manual_seed(17)
    rgb = torch.randint(40, 200, (3, 21, 26), generator=g, dtype=torch.int64)
    rgb[0] += torch.arange(26).view(1, 26) * 2  # some structure for the geometric ops
    rgb[1, 5:12, 3:9] = 230
    grey = torch.randint(0, 256, (1, 17, 15), generator=g, dtype=torch.int64)
    grey[0, :, 7] = 255
    return rgb.clamp(0, 255).to(torch.uint8), grey.to(torch.uint8)


def fastai_aug(img, flip, degrees, zoom, col, row, warp_x, warp_y):
    """fastai's affine_coord with the composed matrix and the warp, at fixed draws."""
    h, w = img.shape[-2:]
    eye = torch.eye(3, dtype=torch.float64)
    flip_m = torch.tensor([[-1.0 if flip else 1.0, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=torch.float64)
    t = degrees * math.pi / 180
    rot = torch.tensor([[math.cos(t), math.sin(t), 0], [-math.sin(t), math.cos(t), 0], [0, 0, 1]],
                       dtype=torch.float64)
    s = 1 / zoom
    zoom_m = torch.tensor([[s, 0, (1 - s) * (2 * col - 1)], [0, s, (1 - s) * (2 * row - 1)], [0, 0, 1]],
                          dtype=torch.float64)
    m = eye @ flip_m @ rot @ zoom_m
    m[0, 1] *= h / w
    m[1, 0] *= w / h
    mat = m[:2].unsqueeze(0).float()
    coords = torch.nn.functional.affine_grid(mat, (1, img.shape[0], h, w), align_corners=True)
    # _WarpCoord: find_coeffs(orig_pts, targ_pts), then apply_perspective
    orig = torch.tensor([[-1, -1], [-1, 1], [1, -1], [1, 1]], dtype=torch.float32).unsqueeze(0)
    x_t, y_t = torch.tensor([warp_x]), torch.tensor([warp_y])
    targ = torch.stack([torch.stack([-1 - y_t, -1 - x_t]), torch.stack([-1 + y_t, 1 + x_t]),
                        torch.stack([1 + y_t, -1 + x_t]), torch.stack([1 - y_t, 1 - x_t])]).permute(2, 0, 1)
    p1, p2 = orig, targ
    rows = []
    zero, one = torch.zeros(1), torch.ones(1)
    for i in range(4):
        rows.append(torch.stack([p2[:, i, 0], p2[:, i, 1], one, zero, zero, zero,
                                 -p1[:, i, 0] * p2[:, i, 0], -p1[:, i, 0] * p2[:, i, 1]]))
        rows.append(torch.stack([zero, zero, zero, p2[:, i, 0], p2[:, i, 1], one,
                                 -p1[:, i, 1] * p2[:, i, 0], -p1[:, i, 1] * p2[:, i, 1]]))
    a = torch.stack(rows).permute(2, 0, 1).double()
    b = p1.reshape(1, 8, 1).double()
    coeffs = torch.linalg.solve(a, b).float()
    sz = coords.shape
    c = coords.view(1, -1, 2)
    coeffs = torch.cat([coeffs, torch.ones_like(coeffs[:, :1])], dim=1).view(1, 3, 3)
    c1 = c @ coeffs[..., :2].transpose(1, 2) + coeffs[..., 2].unsqueeze(1)
    c = (c1 / c1[..., 2].unsqueeze(-1))[..., :2].view(*sz)
    x = img.float().unsqueeze(0)
    return torch.nn.functional.grid_sample(x, c, mode="bilinear", padding_mode="reflection",
                                           align_corners=True).squeeze(0)


def main(out):
    os.makedirs(out, exist_ok=True)
    rgb, grey = images()
    tensors = {"rgb": rgb, "grey": grey}
    rand, wide = aa.RandAugment(), aa.TrivialAugmentWide()
    for bins in (31, 11):
        for op, (mags, _) in rand._augmentation_space(bins, (21, 26)).items():
            tensors[f"table/rand/{bins}/{op}"] = mags.reshape(-1).float()
        for op, (mags, _) in wide._augmentation_space(bins).items():
            tensors[f"table/wide/{bins}/{op}"] = mags.reshape(-1).float()
    for name, img in (("rgb", rgb), ("grey", grey)):
        h, w = img.shape[-2:]
        for prefix, space, bin_ in (("op", rand._augmentation_space(31, (h, w)), 9),
                                    ("op_wide", wide._augmentation_space(31), 25)):
            for op, (mags, signed) in space.items():
                magnitude = float(mags[bin_].item()) if mags.ndim > 0 else 0.0
                for sign in ((0, 1) if signed else (0,)):
                    m = -magnitude if sign else magnitude
                    tensors[f"{prefix}/{name}/{op}/{sign}"] = aa._apply_op(
                        img, op, m, interpolation=InterpolationMode.NEAREST, fill=None)
        tensors[f"aug/{name}"] = fastai_aug(img, True, 7.0, 1.08, 0.3, 0.8, 0.15, -0.1)
    g = torch.Generator().manual_seed(9)
    names = list(rand._augmentation_space(31, (21, 26)).keys())
    for k in range(120):
        c = 3 if k % 4 else 1
        img = torch.randint(0, 256, (c, 12 + k % 37, 9 + (k * 7) % 41), generator=g, dtype=torch.uint8)
        op = k % len(names)
        scale = {"TranslateX": 15.0, "TranslateY": 15.0, "Rotate": 135.0, "Posterize": 0, "Solarize": 0}.get(names[op], 1.0)
        m = float(torch.empty(1).uniform_(-0.99, 0.99, generator=g)) * scale
        if names[op] == "Posterize":
            m = float(torch.randint(0, 9, (1,), generator=g))
        if names[op] == "Solarize":
            m = float(torch.empty(1).uniform_(0, 255, generator=g))
        tensors[f"random/{k}/in"] = img
        tensors[f"random/{k}/out"] = aa._apply_op(img, names[op], m, interpolation=InterpolationMode.NEAREST, fill=None)
        tensors[f"random/{k}/op"] = torch.tensor([op], dtype=torch.int64)
        tensors[f"random/{k}/magnitude"] = torch.tensor([m], dtype=torch.float64)
    write(os.path.join(out, "augment.safetensors"), tensors)


if __name__ == "__main__":
    main(sys.argv[1])
