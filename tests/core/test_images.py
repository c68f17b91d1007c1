"""Tests of rllib_arpo/core/images.py: the one PNG encoder of screenshots."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from rllib_arpo.core.images import encode_png


def test_arrays_and_pil_images_round_trip_losslessly() -> None:
    pixels = np.random.default_rng(0).integers(0, 256, size=(9, 13, 3), dtype=np.uint8)
    for image in (pixels, Image.fromarray(pixels)):
        png = encode_png(image)
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(png))), pixels)


def test_bytes_pass_through() -> None:
    png = encode_png(np.zeros((2, 2, 3), dtype=np.uint8))
    assert encode_png(png) == png
    assert encode_png(bytearray(png)) == png
