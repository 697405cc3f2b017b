"""A small randomly initialised stand-in for an ImageNet classifier, for the preset's test.

It has the input and output of torchvision's ResNet and MobileNet exports -- `input` FP32 [N, 3, 224, 224] ->
`logits` FP32 [N, 1000] -- and nothing of their weights: a 4-channel 8x8 convolution with stride 8, a global
average pool and a linear layer, seeded, so the file is small and its answers are fixed. The test checks the
preset's plumbing (pre-processing, softmax, top-5 with labels) against this model run by onnxruntime in Python:
golden.json holds its top-5 for golden.jpg, written by this script.

    python make_test_model.py   # needs torch, onnx, onnxruntime, numpy, pillow
"""

import json
from pathlib import Path

import numpy as np
import onnxruntime
import torch
from PIL import Image

HERE = Path(__file__).resolve().parent
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)  # ImageNet mean and std, as torchvision publishes them
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


class TinyClassifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, kernel_size=8, stride=8)
        self.fc = torch.nn.Linear(4, 1000)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).mean(dim=(2, 3)))


def golden_image():
    """A 320x240 JPEG with a gradient and a disc: not square, so the resize and crop both matter."""
    y, x = np.mgrid[0:240, 0:320]
    image = np.stack([x * 255 // 319, y * 255 // 239, 255 - x * 255 // 319], axis=-1).astype(np.uint8)
    image[(x - 200) ** 2 + (y - 110) ** 2 < 60 ** 2] = (250, 220, 40)
    Image.fromarray(image).save(HERE / "golden.jpg", quality=95)


def preprocess(path):
    """Shorter side to 256 (bilinear), centre crop 224, /255, mean and std, CHW: the preset's steps."""
    image = Image.open(path).convert("RGB")
    width, height = image.size
    scale = 256 / min(width, height)
    image = image.resize((int(width * scale) if width > height else 256, 256 if width > height
                          else int(height * scale)), Image.BILINEAR)
    left = (image.size[0] - 224) // 2
    top = (image.size[1] - 224) // 2
    pixels = np.asarray(image.crop((left, top, left + 224, top + 224)), dtype=np.float32) / 255
    return ((pixels - MEAN) / STD).transpose(2, 0, 1)[None]


def main():
    torch.manual_seed(7)
    model = TinyClassifier().eval()
    with torch.no_grad():
        model.fc.weight.mul_(40)  # logits far apart, so a pixel's rounding cannot reorder the top 5
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), HERE / "model.onnx", input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                      opset_version=17, dynamo=False)
    golden_image()
    session = onnxruntime.InferenceSession(str(HERE / "model.onnx"))
    logits = session.run(None, {"input": preprocess(HERE / "golden.jpg")})[0][0]
    probabilities = np.exp(logits - logits.max())
    probabilities /= probabilities.sum()
    labels = (HERE.parent / "imagenet_classification" / "labels.txt").read_text().splitlines()
    top = np.argsort(-probabilities, kind="stable")[:5]
    golden = {"image": "golden.jpg", "labels": [labels[i] for i in top],
              "scores": [float(probabilities[i]) for i in top]}
    (HERE / "golden.json").write_text(json.dumps(golden, indent=2) + "\n")
    print(json.dumps(golden))


if __name__ == "__main__":
    main()
