#!/usr/bin/env python3
"""PyTorch peer of `bin/semisup bench train`: the same network, batch and data, timed the same way.

The network is semisup's `resnet-small` (io.semisup.core.model.Architectures): a 3x3 stem conv
(no bias) + BatchNorm + ReLU, 2x2 max-pool, one basic residual block at the stem width, one
strided basic block with a 1x1 projection shortcut, global average pooling, a softmax layer;
trained with SGD + Nesterov momentum + L2 weight decay on cross-entropy, with the same
augmentation (random horizontal flip, random shift padded with the normalized value of black).

Prints one JSON object as its last line: {"img_s": ..., "img_per_cpu_s": ..., "threads": ..., "torch": ...}.
Arguments: --idx-dir --images --batch --epochs --threads --stem --widths --seed
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx_images(path, n):
    with gzip.open(path, "rb") as f:
        data = f.read()
    rows, cols = int.from_bytes(data[8:12], "big"), int.from_bytes(data[12:16], "big")
    return np.frombuffer(data, dtype=np.uint8, offset=16)[: n * rows * cols].reshape(n, 1, rows, cols)


def read_idx_labels(path, n):
    with gzip.open(path, "rb") as f:
        data = f.read()
    return np.frombuffer(data, dtype=np.uint8, offset=8)[:n].astype(np.int64)


def conv_bn(c_in, c_out, k, stride):
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, bias=False), nn.BatchNorm2d(c_out))


class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.a = conv_bn(c_in, c_out, 3, stride)
        self.b = conv_bn(c_out, c_out, 3, 1)
        self.proj = conv_bn(c_in, c_out, 1, stride) if stride != 1 or c_in != c_out else None

    def forward(self, x):
        y = self.b(F.relu(self.a(x)))
        return F.relu(y + (self.proj(x) if self.proj is not None else x))


class ResNetSmall(nn.Module):
    def __init__(self, channels, stem, widths, classes):
        super().__init__()
        self.stem = conv_bn(channels, stem, 3, 1)
        blocks, c = [], stem
        for s, w in enumerate(widths):
            blocks.append(BasicBlock(c, w, 2 if s > 0 else 1))
            c = w
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.stem(x)), 2)
        x = self.blocks(x)
        return self.fc(x.mean(dim=(2, 3)))


def augment(x, shift, fill, gen):
    """Random horizontal flip and shift of up to `shift` pixels per image, like semisup's Augmenter."""
    b, _, h, w = x.shape
    flip = torch.rand(b, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    if shift == 0:
        return x
    padded = F.pad(x, (shift, shift, shift, shift), value=fill)
    d = torch.randint(0, 2 * shift + 1, (b, 2), generator=gen).tolist()
    return torch.stack([padded[i, :, dy:dy + h, dx:dx + w] for i, (dy, dx) in enumerate(d)])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--idx-dir", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--images", type=int, default=8192)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--stem", type=int, default=16)
    p.add_argument("--widths", default="16,32")
    p.add_argument("--mean", type=float, default=0.2860)
    p.add_argument("--std", type=float, default=0.3530)
    p.add_argument("--shift", type=int, default=2)
    p.add_argument("--lr", type=float, default=0.03)
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    gen = torch.Generator().manual_seed(a.seed)

    x = read_idx_images(os.path.join(a.idx_dir, "train-images-idx3-ubyte.gz"), a.images)
    y = read_idx_labels(os.path.join(a.idx_dir, "train-labels-idx1-ubyte.gz"), a.images)
    x = (torch.from_numpy(x.astype(np.float32)) / 255.0 - a.mean) / a.std
    y = torch.from_numpy(y)
    fill = -a.mean / a.std

    model = ResNetSmall(1, a.stem, [int(w) for w in a.widths.split(",")], 10)
    decay = [q for n, q in model.named_parameters() if n.endswith("weight") and q.dim() > 1]
    rest = [q for n, q in model.named_parameters() if not (n.endswith("weight") and q.dim() > 1)]
    opt = torch.optim.SGD(
        [{"params": decay, "weight_decay": 5e-4}, {"params": rest, "weight_decay": 0.0}],
        lr=a.lr, momentum=0.9, nesterov=True)
    model.train()

    def epoch():
        perm = torch.randperm(len(x), generator=gen)
        seen, loss_sum = 0, 0.0
        for start in range(0, len(x) - 1, a.batch):
            idx = perm[start:start + a.batch]
            if len(idx) < 2:
                break
            xb = augment(x[idx], a.shift, fill, gen)
            loss = F.cross_entropy(model(xb), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            seen += len(idx)
            loss_sum += loss.item() * len(idx)
        return seen, loss_sum / max(1, seen)

    epoch()  # warm-up, as the JVM side does
    t0 = time.perf_counter()
    c0 = time.process_time()
    seen, loss = 0, 0.0
    for _ in range(a.epochs):
        s, loss = epoch()
        seen += s
    secs = time.perf_counter() - t0
    cpu = time.process_time() - c0
    print(f"pytorch {torch.__version__}: {seen} images in {secs:.1f}s, last loss {loss:.4f}", file=sys.stderr)
    print(json.dumps({"img_s": seen / secs, "img_per_cpu_s": seen / cpu, "threads": a.threads,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
