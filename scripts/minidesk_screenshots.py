"""Save MiniDesk screenshots as PNG (docs/images/) so a person can look at the environment.

Writes:
- ``minidesk_<name>.png``: first screen of the test_data tasks (original and noisy), a
  mid-episode frame of the expert, and a 1920x1080 desktop;
- ``minidesk_families.png``: a contact sheet of every family at easy/medium/hard;
- ``minidesk_grid.png``: every family at the 112x112 and 224x224 grid levels (scaled x2).

Run: ``python scripts/minidesk_screenshots.py [--out docs/images]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image, ImageDraw

from envs.minidesk import FAMILIES, MiniDeskEnv, expert_action, task_id
from envs.minidesk.widgets import font
from rllib_arpo.core.actions import parse_response, to_pyautogui
from rllib_arpo.core.coords import CoordinateSpace

NOW = dt.datetime(2026, 11, 25, 9, 30)


def frame(env: MiniDeskEnv, task: str, expert_steps: int = 0) -> Image.Image:
    env.reset(options={"task": task})
    space = CoordinateSpace.for_screen(*env.screen_size)
    for _ in range(expert_steps):
        env.step(to_pyautogui(parse_response(expert_action(env), space), space))
    return Image.fromarray(env.render())


def sheet(images: list[tuple[str, Image.Image]], cols: int, scale: int = 1) -> Image.Image:
    w, h = images[0][1].width * scale, images[0][1].height * scale
    rows = -(-len(images) // cols)
    out = Image.new("RGB", (cols * (w + 6), rows * (h + 20)), "white")
    draw = ImageDraw.Draw(out)
    for i, (label, im) in enumerate(images):
        x, y = (i % cols) * (w + 6), (i // cols) * (h + 20)
        out.paste(im.resize((w, h), Image.NEAREST), (x, y + 16))
        draw.text((x + 2, y + 1), label, fill="black", font=font(11))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "images"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    env = MiniDeskEnv(now=NOW, render_mode="rgb_array")
    singles = {
        "seatgeek_noisy": ("f3b19d1e-2d48-44e9-b4e1-defcae1a0197_noise", 0),
        "youtube_history": ("44ee5668-ecd5-4366-a6ce-c1c9b8d4e938", 4),
        "ryanair_calendar": ("f79439ad-3ee8-4f99-a518-0eb60e5652b0", 6),
        "delta_status": ("fc6d8143-9452-4171-9459-7f515143419a", 5),
        "apple_compare": ("f5d96daf-83a8-4c86-9686-bada31fc66ab", 3),
    }
    for name, (task, steps) in singles.items():
        frame(env, task, steps).save(args.out / f"minidesk_{name}.png")
    big = MiniDeskEnv(screen_size=(1920, 1080), now=NOW, render_mode="rgb_array")
    frame(big, "fc6d8143-9452-4171-9459-7f515143419a_noise", 0).save(
        args.out / "minidesk_1920x1080.png"
    )
    shots = [
        (f"{f} / {lvl}", frame(env, task_id(f, lvl, 1)))
        for f in FAMILIES
        for lvl in ("easy", "medium", "hard")
    ]
    sheet(shots, cols=6).save(args.out / "minidesk_families.png")
    grid = []
    for f in FAMILIES:
        for lvl, size in (("grid112", 112), ("grid224", 224)):
            genv = MiniDeskEnv(screen_size=(size, size), now=NOW, render_mode="rgb_array")
            im = frame(genv, task_id(f, lvl, 1))
            grid.append((f"{f} {lvl}", im.resize((224, 224), Image.NEAREST)))
    sheet(grid, cols=6, scale=1).save(args.out / "minidesk_grid.png")
    for p in sorted(args.out.glob("minidesk_*.png")):
        print(p)


if __name__ == "__main__":
    main()
