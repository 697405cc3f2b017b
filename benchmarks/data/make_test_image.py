"""Writes photo-640x480.jpg, the pre-processing benchmarks' test image, deterministically.

A synthetic picture with what makes a photo costly to decode: smooth gradients (sky, ground), shapes with soft
edges, fine texture and sensor-like noise, so the JPEG has a photo's mix of flat and busy blocks. Saved by Pillow
at quality 90 with its default 4:2:0 chroma subsampling, as cameras and most web images are.

    .venv/bin/python benchmarks/data/make_test_image.py     (from the repository root; Pillow and NumPy)
"""
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

WIDTH, HEIGHT = 640, 480
OUT = Path(__file__).with_name("photo-640x480.jpg")


def main() -> None:
    rng = np.random.default_rng(20261126)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    horizon = HEIGHT * 0.55
    sky = np.stack([110 + 80 * y / horizon, 160 + 60 * y / horizon, 235 - 20 * y / horizon], axis=-1)
    ground = np.stack([90 + 40 * (y - horizon) / HEIGHT, 120 - 30 * (y - horizon) / HEIGHT,
                       60 + 10 * np.sin(x / 37.0)], axis=-1)
    base = np.where((y < horizon)[..., None], sky, ground)
    base += 18 * np.sin(x / 11.0 + y / 23.0)[..., None] * (y >= horizon)[..., None]
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")

    shapes = Image.new("RGBA", (WIDTH, HEIGHT), (0, 0, 0, 0))
    draw = ImageDraw.Draw(shapes)
    for _ in range(40):
        cx, cy = rng.integers(0, WIDTH), rng.integers(0, HEIGHT)
        rx, ry = rng.integers(8, 90), rng.integers(8, 70)
        color = tuple(int(c) for c in rng.integers(0, 256, 3)) + (int(rng.integers(120, 256)),)
        if rng.random() < 0.5:
            draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=color)
        else:
            points = [(int(cx + rx * np.cos(a)), int(cy + ry * np.sin(a)))
                      for a in np.sort(rng.uniform(0, 2 * np.pi, 5))]
            draw.polygon(points, fill=color)
    for _ in range(25):
        start = tuple(int(v) for v in rng.integers(0, [WIDTH, HEIGHT]))
        end = tuple(int(v) for v in rng.integers(0, [WIDTH, HEIGHT]))
        draw.line([start, end], fill=(20, 20, 20, 200), width=int(rng.integers(1, 4)))
    image.paste(shapes.filter(ImageFilter.GaussianBlur(1.2)), (0, 0), shapes.filter(ImageFilter.GaussianBlur(1.2)))

    pixels = np.asarray(image).astype(np.float32)
    pixels += rng.normal(0, 6, pixels.shape).astype(np.float32)
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB").save(OUT, "JPEG", quality=90)
    print(f"{OUT.name}: {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
