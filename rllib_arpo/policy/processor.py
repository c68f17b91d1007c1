"""The Qwen2.5-VL processor without a video processor (and so without torchvision).

``Qwen2_5_VLProcessor(..., video_processor=None)`` raises without torchvision, and
``AutoProcessor.from_pretrained`` fails on a real UI-TARS checkpoint for the same reason; this
subclass leaves the video processor out entirely. Images go through ``Qwen2VLImageProcessorPil``,
whose resize rule is ``core.coords.smart_resize`` (tested to agree).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from transformers import Qwen2_5_VLProcessor
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

from rllib_arpo.core.coords import MAX_PIXELS, MIN_PIXELS, CoordinateSpace, smart_resize

ImageLike = Image.Image | bytes | bytearray | np.ndarray
"""A screenshot: a PIL image, PNG/JPEG bytes, or a uint8 array of shape (H, W, 3)."""

IMAGE_PROCESSOR_FILE = "preprocessor_config.json"


class UITarsProcessor(Qwen2_5_VLProcessor):
    """``Qwen2_5_VLProcessor`` with no video processor: image + tokenizer + chat template."""

    @classmethod
    def get_attributes(cls) -> list[str]:
        return ["image_processor", "tokenizer"]

    def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
        self.image_token = getattr(tokenizer, "image_token", None) or "<|image_pad|>"
        self.video_token = getattr(tokenizer, "video_token", None) or "<|video_pad|>"
        self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
        self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
        super(Qwen2_5_VLProcessor, self).__init__(
            image_processor, tokenizer, chat_template=chat_template
        )

    @property
    def min_pixels(self) -> int:
        return int(self.image_processor.size["shortest_edge"])

    @property
    def max_pixels(self) -> int:
        return int(self.image_processor.size["longest_edge"])

    def resized_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) of the image the model sees for a ``width`` x ``height`` screenshot."""
        resized_h, resized_w = smart_resize(
            height, width, min_pixels=self.min_pixels, max_pixels=self.max_pixels
        )
        return resized_w, resized_h

    def coordinate_space(self, screen_width: int, screen_height: int) -> CoordinateSpace:
        """The ``core.coords`` space for a screen, with this processor's pixel bounds."""
        return CoordinateSpace.for_screen(
            screen_width, screen_height, min_pixels=self.min_pixels, max_pixels=self.max_pixels
        )

    def process_images(self, images: list[ImageLike]) -> dict[str, Any]:
        """Screenshots -> ``{"pixel_values": (N_patches, C*T*P*P), "image_grid_thw": (N, 3)}``."""
        pil = [to_pil(image) for image in images]
        return dict(self.image_processor(images=pil, return_tensors="pt"))


def name_standard_processor(checkpoint: Path, model_type: str) -> None:
    """Make a checkpoint's files name the architecture's standard processor class.

    ``save_pretrained`` of a ``UITarsProcessor`` writes ``"processor_class": "UITarsProcessor"``
    into ``processor_config.json`` and ``tokenizer_config.json``; no other program knows that
    class, so vLLM (which builds processors through transformers' Auto classes) could not load
    the checkpoint. The real UI-TARS files name ``Qwen2_5_VLProcessor``; so do ours.
    """
    from rllib_arpo.policy.architectures import PROCESSOR_CLASSES

    for name in ("processor_config.json", "tokenizer_config.json", IMAGE_PROCESSOR_FILE):
        path = Path(checkpoint) / name
        if not path.is_file():
            continue
        settings = json.loads(path.read_text())
        if "processor_class" in settings:
            settings["processor_class"] = PROCESSOR_CLASSES[model_type]
            path.write_text(json.dumps(settings, indent=2) + "\n")


def to_pil(image: ImageLike) -> Image.Image:
    """A screenshot in any accepted form -> an RGB PIL image."""
    if isinstance(image, Image.Image):
        return image if image.mode == "RGB" else image.convert("RGB")
    if isinstance(image, (bytes, bytearray, memoryview)):
        with Image.open(io.BytesIO(bytes(image))) as opened:
            return opened.convert("RGB")
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
            raise ValueError(
                f"a screenshot array must be uint8 of shape (H, W, 3), got {image.dtype} "
                f"{image.shape}"
            )
        return Image.fromarray(image[:, :, :3], mode="RGB")
    raise TypeError(
        f"a screenshot must be a PIL image, PNG bytes or a uint8 (H, W, 3) array, got "
        f"{type(image).__name__}"
    )


def load_image_processor(
    path: Path, min_pixels: int | None = None, max_pixels: int | None = None
) -> Qwen2VLImageProcessorPil:
    """``Qwen2VLImageProcessorPil`` from a checkpoint's ``preprocessor_config.json``.

    Both the 4.x keys (``min_pixels``/``max_pixels``) and the 5.x ``size`` dict are read; explicit
    arguments override the file. Keys of the torch/torchvision processor are ignored.
    """
    raw = json.loads((path / IMAGE_PROCESSOR_FILE).read_text())
    keys = [
        "do_resize",
        "do_rescale",
        "rescale_factor",
        "do_normalize",
        "image_mean",
        "image_std",
        "do_convert_rgb",
        "patch_size",
        "temporal_patch_size",
        "merge_size",
        "resample",
    ]
    kwargs = {k: raw[k] for k in keys if k in raw}
    size = dict(raw.get("size") or {})
    lo = min_pixels or raw.get("min_pixels") or size.get("shortest_edge") or MIN_PIXELS
    hi = max_pixels or raw.get("max_pixels") or size.get("longest_edge") or MAX_PIXELS
    return Qwen2VLImageProcessorPil(min_pixels=int(lo), max_pixels=int(hi), **kwargs)
