"""A pipeline served like a model, through Triton's own clients.

The Java test serves, beside models/, a repository with pipelines/orientation/pipeline.yaml: the built-in
classifier (an infer node) and an argmax node over its probabilities.
"""

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

PIPELINE = "orientation"


@pytest.fixture(params=["http", "grpc"])
def client(request, http_client, grpc_client):
    return (httpclient, http_client) if request.param == "http" else (grpcclient, grpc_client)


def test_pipeline_answers_like_its_model(client, golden, reference):
    module, triton = client
    image = module.InferInput("image", list(golden.input.shape), "FP32")
    image.set_data_from_numpy(golden.input)

    result = triton.infer(PIPELINE, [image])

    np.testing.assert_allclose(result.as_numpy("probabilities"), reference.run(golden.input), rtol=1e-5,
                               atol=1e-6)
    assert result.as_numpy("direction").tolist() == [0, 1]  # upright, then rotated


def test_pipeline_metadata_and_readiness(client):
    module, triton = client
    assert triton.is_model_ready(PIPELINE)
    metadata = triton.get_model_metadata(PIPELINE)
    platform = metadata["platform"] if module is httpclient else metadata.platform
    assert platform == "serval_pipeline"


def test_pipeline_refuses_a_wrong_input_naming_it(client):
    module, triton = client
    image = module.InferInput("image", [1, 3, 48, 100], "FP32")
    image.set_data_from_numpy(np.zeros((1, 3, 48, 100), dtype=np.float32))

    with pytest.raises(InferenceServerException) as refused:
        triton.infer(PIPELINE, [image])

    assert "pipeline 'orientation': input 'image' has shape [1,3,48,100]" in str(refused.value)


def test_an_image_pipeline_takes_the_file_as_bytes(client, settings):
    """text-orientation (models/text-orientation): decode, resize, normalise, classify, top-1 with its label."""
    module, triton = client
    files = [settings.models_dir / "ocr_orientation" / "golden" / name for name in ("upright.png", "rotated.png")]
    labels = []
    for file in files:
        image = module.InferInput("image", [1], "BYTES")
        image.set_data_from_numpy(np.array([file.read_bytes()], dtype=np.object_))
        result = triton.infer("text-orientation", [image])
        labels.append(result.as_numpy("label").reshape(-1)[0].decode())
        assert result.as_numpy("score").shape == ()  # the pipeline makes its answers single values
        assert result.as_numpy("score") > 0.99
    assert labels == ["0", "180"]
