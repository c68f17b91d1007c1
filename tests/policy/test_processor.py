"""The processor without torchvision: resize rule == core.coords, image inputs, pickling."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from rllib_arpo.core.coords import MAX_PIXELS, MIN_PIXELS, smart_resize
from rllib_arpo.policy.processor import UITarsProcessor, to_pil

SIZES = [(1920, 1080), (1280, 720), (800, 450), (112, 112), (100, 37), (3840, 2160), (30, 30)]


@pytest.mark.parametrize("width,height", SIZES)
def test_resize_rule_agrees_with_core_coords(policy, width, height):
    processor = policy.processor
    assert (processor.min_pixels, processor.max_pixels) == (MIN_PIXELS, MAX_PIXELS)
    expected_h, expected_w = smart_resize(height, width)
    assert processor.resized_size(width, height) == (expected_w, expected_h)
    grid = processor.image_processor.get_number_of_image_patches(height, width)
    assert grid == (expected_h // 14) * (expected_w // 14)
    space = policy.coordinate_space(width, height)
    assert (space.resized_width, space.resized_height) == (expected_w, expected_h)


def test_image_processor_output_matches_the_resize(policy, screenshot):
    out = policy.processor.process_images([screenshot(200, 150)])
    h, w = smart_resize(150, 200)
    assert out["image_grid_thw"].tolist() == [[1, h // 14, w // 14]]
    assert out["pixel_values"].shape == (h * w // 196, 3 * 2 * 14 * 14)
    assert policy.image_token_count(200, 150) == h * w // 784


def test_accepted_screenshot_forms_agree(policy, screenshot):
    array = screenshot(140, 84)
    pil = Image.fromarray(array)
    buffer = io.BytesIO()
    pil.save(buffer, format="PNG")
    rgba = Image.fromarray(np.dstack([array, np.full(array.shape[:2], 255, np.uint8)]))
    outs = [
        policy.processor.process_images([x])["pixel_values"]
        for x in (array, pil, buffer.getvalue(), rgba)
    ]
    for out in outs[1:]:
        assert torch.equal(outs[0], out)
    with pytest.raises(TypeError, match="PNG bytes"):
        to_pil("screen.png")
    with pytest.raises(ValueError, match="uint8"):
        to_pil(np.zeros((4, 4), dtype=np.float32))


def test_processor_loads_without_torchvision_and_pickles(tiny_dir, policy):
    loaded = UITarsProcessor.from_pretrained(tiny_dir)
    assert type(loaded.image_processor).__name__ == "Qwen2VLImageProcessorPil"
    assert not hasattr(loaded, "video_processor") or loaded.video_processor is None
    for obj in (loaded, policy.processor, policy.tokenizer, policy):
        clone = pickle.loads(pickle.dumps(obj))
        assert type(clone) is type(obj)
