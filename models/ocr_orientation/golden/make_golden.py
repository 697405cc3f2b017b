#!/usr/bin/env python3
"""Regenerate the golden input/output pair for models/ocr_orientation.

Run from this folder:

    python make_golden.py

Requires numpy, Pillow and onnxruntime. Reads ../1/model.onnx and writes,
into this folder, exactly:

    upright.png         the rendered text line, resized to height 48 (RGB)
    rotated.png         the same crop rotated by 180 degrees
    input_x.bin         float32 little-endian, row-major, shape [2, 3, 48, 192]
    output_softmax.bin  float32 little-endian, row-major, shape [2, 2]
    golden.json         names, shapes, file names, expected labels, ORT version

Rendering: black text on a white background with Pillow. The script looks
for the TrueType font

    /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf   (Debian/Ubuntu fonts-dejavu-core)

and, if it is missing, falls back to Pillow's built-in default font
(ImageFont.load_default()), rendered at its native size and scaled up 4x with
nearest-neighbour. It prints which font it used. Everything is deterministic
for a given font file, Pillow/FreeType build and onnxruntime build; a
different font or Pillow version changes the pixels, so the committed .bin
files (not this script) are the reference the Java test checks.

Pre-processing follows PaddleOCR's published cls pre-processing
(tools/infer/predict_cls.py, resize_norm_img with cls_image_shape 3,48,192):
resize to height 48 keeping the aspect ratio (width = ceil(48 * w / h),
capped at 192), scale pixels to [0, 1], normalise each channel as
(v - 0.5) / 0.5 into [-1, 1], lay out as CHW, and zero-pad the remaining width
up to 192. PaddleOCR resizes with OpenCV bilinear; Pillow bilinear is used
here (the model is not sensitive to that difference). Channel order (RGB vs
PaddleOCR's BGR) is irrelevant for black-on-white text.

Row 0 is the upright crop, row 1 is the same resized crop rotated by 180
degrees (Image.ROTATE_180, an exact pixel permutation) before normalisation.
The script asserts that the model's argmax is 0 ("0") for row 0 and 1 ("180")
for row 1.
"""

import json
import math
import os
import sys

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageDraw, ImageFont

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, "..", "1", "model.onnx")

TEXT = "Serval serves models 2026"
FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_SIZE = 32          # TrueType size in px
FALLBACK_SCALE = 4      # upscale factor for Pillow's default font
MARGIN = 4              # white border around the text, in rendered pixels

IMG_C, IMG_H, IMG_W = 3, 48, 192
LABELS = ["0", "180"]


def render_line():
    """Render TEXT in black on white, cropped to the text plus MARGIN."""
    if os.path.isfile(FONT_PATH):
        font = ImageFont.truetype(FONT_PATH, FONT_SIZE)
        scale = 1
        print("font: %s (size %d)" % (FONT_PATH, FONT_SIZE))
    else:
        font = ImageFont.load_default()
        scale = FALLBACK_SCALE
        print("font: %s not found, using Pillow default font scaled x%d"
              % (FONT_PATH, FALLBACK_SCALE))
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1), "white"))
    left, top, right, bottom = probe.textbbox((0, 0), TEXT, font=font)
    w = right - left + 2 * MARGIN
    h = bottom - top + 2 * MARGIN
    img = Image.new("RGB", (w, h), (255, 255, 255))
    ImageDraw.Draw(img).text((MARGIN - left, MARGIN - top), TEXT,
                             fill=(0, 0, 0), font=font)
    if scale != 1:
        img = img.resize((w * scale, h * scale), Image.NEAREST)
    return img


def resize_crop(img):
    """PaddleOCR cls resize: height 48, keep aspect ratio, width <= 192."""
    w, h = img.size
    ratio = w / float(h)
    resized_w = min(IMG_W, int(math.ceil(IMG_H * ratio)))
    return img.resize((resized_w, IMG_H), Image.BILINEAR)


def normalise_pad(img):
    """HWC uint8 RGB -> CHW float32 in [-1, 1], zero-padded to width 192."""
    arr = np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255.0
    arr = (arr - 0.5) / 0.5
    out = np.zeros((IMG_C, IMG_H, IMG_W), dtype=np.float32)
    out[:, :, :arr.shape[2]] = arr
    return out


def main():
    line = render_line()
    upright = resize_crop(line)
    rotated = upright.transpose(Image.ROTATE_180)
    print("rendered %dx%d, crop %dx%d" % (line.size + upright.size))

    x = np.stack([normalise_pad(upright), normalise_pad(rotated)]).astype(np.float32)
    assert x.shape == (2, IMG_C, IMG_H, IMG_W)

    sess = ort.InferenceSession(MODEL, providers=["CPUExecutionProvider"])
    (y,) = sess.run(["softmax_0.tmp_0"], {"x": x})
    y = np.ascontiguousarray(y, dtype=np.float32)
    assert y.shape == (2, 2), y.shape
    pred = [int(i) for i in y.argmax(axis=1)]
    print("output:", y.tolist())
    print("argmax:", pred, "->", [LABELS[i] for i in pred])
    if pred != [0, 1]:
        sys.exit("model did not classify upright=0 / rotated=1; change TEXT or FONT_SIZE")

    upright.save(os.path.join(HERE, "upright.png"), optimize=False)
    rotated.save(os.path.join(HERE, "rotated.png"), optimize=False)
    x.astype("<f4").tofile(os.path.join(HERE, "input_x.bin"))
    y.astype("<f4").tofile(os.path.join(HERE, "output_softmax.bin"))
    golden = {
        "input": {"name": "x", "datatype": "FP32",
                  "shape": [2, IMG_C, IMG_H, IMG_W], "file": "input_x.bin"},
        "output": {"name": "softmax_0.tmp_0", "datatype": "FP32",
                   "shape": [2, 2], "file": "output_softmax.bin"},
        "expected_labels": ["0", "180"],
        "onnxruntime_version": ort.__version__,
    }
    with open(os.path.join(HERE, "golden.json"), "w", newline="\n") as f:
        json.dump(golden, f, indent=2)
        f.write("\n")
    print("wrote upright.png rotated.png input_x.bin output_softmax.bin golden.json")


if __name__ == "__main__":
    main()
