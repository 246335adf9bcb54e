#!/usr/bin/env python3
"""GPU reference throughputs for docs/scaling.md: what one GPU does with the paper's models.

Why this exists: the JVM stack (DL4J, ONNX Runtime for Java) could not run on the GPU machines lent
to this project (no JDK there, no registry to fetch one), so the cost model's GPU rows would
otherwise be assumptions. This script measures the same work in PyTorch on the GPU, as the
hardware reference a GPU executor of semisup should approach (ONNX Runtime's CUDA provider runs the
same convolutions through cuDNN):

* ResNet-50 and ResNeXt-101 32x48d inference at 224x224 (the paper's teachers), FP32, TF32 and
  BF16, channels-last, on pre-made tensors (the engine column of `bin/semisup bench score`);
* ResNet-50 training (the paper's student) with SGD, BF16 autocast;
* semisup's resnet-small at 28x28 training (the demo's student, as in `bench train`).

The networks are written out here (no torchvision on those machines); the parameter counts
printed (25.56 M for ResNet-50, 829 M for ResNeXt-101 32x48d) show they are the published ones.
One JSON object per measurement on stdout, the last line sums them up.
Usage: python3 gpu_reference.py [--seconds 8] [--device cuda]
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Bottleneck(nn.Module):
    def __init__(self, c_in, planes, stride, groups, width_per_group):
        super().__init__()
        width = int(planes * width_per_group / 64) * groups
        self.conv1 = nn.Conv2d(c_in, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.down = None
        if stride != 1 or c_in != planes * 4:
            self.down = nn.Sequential(nn.Conv2d(c_in, planes * 4, 1, stride, bias=False),
                                      nn.BatchNorm2d(planes * 4))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class ResNet(nn.Module):
    """ResNet-50 (layers 3,4,6,3) or ResNeXt-101 (3,4,23,3, groups 32, width per group 48)."""

    def __init__(self, layers, groups=1, width_per_group=64, classes=1000):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                                  nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        blocks, c = [], 64
        for i, n in enumerate(layers):
            planes = 64 * 2 ** i
            for j in range(n):
                blocks.append(Bottleneck(c, planes, 2 if (j == 0 and i > 0) else 1, groups,
                                         width_per_group))
                c = planes * 4
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean(dim=(2, 3)))


class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.a = nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out))
        self.b = nn.Sequential(nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out))
        self.proj = None
        if stride != 1 or c_in != c_out:
            self.proj = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                      nn.BatchNorm2d(c_out))

    def forward(self, x):
        y = self.b(F.relu(self.a(x)))
        return F.relu(y + (x if self.proj is None else self.proj(x)))


class ResNetSmall(nn.Module):
    """semisup's resnet-small (io.semisup.core.model.Architectures), as in bench/train_resnet_small.py.

    Written out again rather than imported from that file: this script must run alone on a GPU
    machine where only torch is known to be installed (that file needs numpy), and it was measured
    in this form.
    """

    def __init__(self, stem=16, widths=(16, 32), classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, stem, 3, 1, 1, bias=False), nn.BatchNorm2d(stem))
        blocks, c = [], stem
        for s, w in enumerate(widths):
            blocks.append(BasicBlock(c, w, 2 if s > 0 else 1))
            c = w
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        return self.fc(self.blocks(F.max_pool2d(F.relu(self.stem(x)), 2)).mean(dim=(2, 3)))


def timed(step, seconds, device):
    """Runs step() for about `seconds` after a warm-up; returns calls per second."""
    for _ in range(3):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    calls, t0 = 0, time.perf_counter()
    while True:
        step()
        calls += 1
        if calls % 5 == 0:
            if device == "cuda":
                torch.cuda.synchronize()
            if time.perf_counter() - t0 >= seconds:
                break
    return calls / (time.perf_counter() - t0)


def inference(name, model, batch, size, precision, seconds, device):
    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    torch.backends.cudnn.allow_tf32 = precision == "tf32"
    x = torch.randn(batch, 3, size, size, device=device).to(memory_format=torch.channels_last)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32

    @torch.inference_mode()
    def step():
        with torch.autocast(device, dtype=dtype, enabled=precision == "bf16"):
            torch.softmax(model(x), dim=1).topk(10, dim=1)

    rate = timed(step, seconds, device) * batch
    return {"work": "inference", "model": name, "batch": batch, "size": size,
            "precision": precision, "img_s": round(rate, 1)}


def training(name, model, batch, shape, classes, precision, seconds, device):
    torch.backends.cuda.matmul.allow_tf32 = precision != "fp32"
    torch.backends.cudnn.allow_tf32 = precision != "fp32"
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
    x = torch.randn(batch, *shape, device=device).to(memory_format=torch.channels_last)
    y = torch.randint(0, classes, (batch,), device=device)
    model.train()

    def step():
        with torch.autocast(device, dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    rate = timed(step, seconds, device) * batch
    return {"work": "training", "model": name, "batch": batch, "size": shape[-1],
            "precision": precision, "img_s": round(rate, 1)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=8.0, help="timed seconds per measurement")
    p.add_argument("--device", default="cuda")
    a = p.parse_args()
    torch.manual_seed(42)
    dev = a.device
    info = {"torch": torch.__version__,
            "gpu": torch.cuda.get_device_name(0) if dev == "cuda" else "cpu"}
    print(json.dumps(info), flush=True)
    torch.backends.cudnn.benchmark = True
    rows = []

    def emit(row):
        rows.append(row)
        print(json.dumps(row), flush=True)

    def params(m):
        return round(sum(q.numel() for q in m.parameters()) / 1e6, 2)

    r50 = ResNet([3, 4, 6, 3]).to(dev).to(memory_format=torch.channels_last).eval()
    print(json.dumps({"model": "resnet50", "params_m": params(r50)}), flush=True)
    for precision in ("fp32", "tf32", "bf16"):
        for batch in (64, 256):
            emit(inference("resnet50", r50, batch, 224, precision, a.seconds, dev))
    emit(training("resnet50", r50, 128, (3, 224, 224), 1000, "bf16", a.seconds, dev))
    del r50

    rx = ResNet([3, 4, 23, 3], groups=32, width_per_group=48).to(dev)
    rx = rx.to(memory_format=torch.channels_last).eval()
    print(json.dumps({"model": "resnext101_32x48d", "params_m": params(rx)}), flush=True)
    for precision in ("tf32", "bf16"):
        emit(inference("resnext101_32x48d", rx, 64, 224, precision, a.seconds, dev))
    del rx

    for batch in (128, 1024):
        small = ResNetSmall().to(dev).to(memory_format=torch.channels_last)
        emit(training("resnet-small", small, batch, (1, 28, 28), 10, "fp32", a.seconds, dev))

    best = {}
    for r in rows:
        key = f"{r['work']}_{r['model']}_img_s"
        best[key] = max(best.get(key, 0), r["img_s"])
    print(json.dumps({**info, **best}))


if __name__ == "__main__":
    sys.exit(main())
