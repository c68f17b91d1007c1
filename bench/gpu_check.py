"""The GPU check: every GPU code path of the project, in one run (``bench/gpu_check.sh`` calls it).

    bash bench/gpu_check.sh                 # on a machine with a CUDA GPU; about 5 min on an H100
    python bench/gpu_check.py --dry-run     # the same sections on CPU with the tiny model

Sections (each reports its figures or why it did not run; one failing does not stop the rest):

1. environment: GPU, driver, and which of torch, transformers, peft, bitsandbytes, ray, vllm
   import;
2. the ``gpu``-marked tests (bf16 defaults, fp32 log-prob parity on CUDA, nf4 + LoRA);
3. one agent step of a UI-TARS-2B-shaped model (random weights built here, bf16): single, 8
   batched, turn 5; hf engine, and vllm where vLLM is installed;
4. one learner update (teacher-forced log-probs, ARPO loss, backward, AdamW) on the same
   shape: bf16 full fine-tuning and nf4 + LoRA (rank 64), with peak GPU memory;
5. ARPO, 2 iterations, vllm engine actor + learner on the GPU (bf16 full, then nf4 + LoRA with
   only the adapter synced), where Ray and vLLM are installed.

Exit status 1 if a section that ran failed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PACKAGES = ("torch", "transformers", "peft", "bitsandbytes", "ray", "vllm", "gymnasium")


class Section:
    """Runs one section, prints its header, result or failure, and records it."""

    def __init__(self, results: dict, only: list[str] | None = None) -> None:
        self.results = results
        self.failed: list[str] = []
        self.only = only

    def run(self, name: str, fn, *args) -> None:
        if self.only and not any(name.startswith(prefix) for prefix in self.only):
            return
        print(f"\n== {name}", flush=True)
        started = time.perf_counter()
        try:
            value = fn(*args)
        except Exception as error:  # noqa: BLE001 - report and go on to the next section
            traceback.print_exc()
            value = {"status": "failed", "error": f"{type(error).__name__}: {error}"}
            self.failed.append(name)
        value = value if isinstance(value, dict) else {"value": value}
        value.setdefault("status", "ok")
        value["seconds"] = round(time.perf_counter() - started, 1)
        self.results[name] = value
        print(f"-- {name}: {value['status']} ({value['seconds']} s)", flush=True)


def environment() -> dict:
    import torch

    out: dict = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            module = importlib.import_module(name)
            out[name] = getattr(module, "__version__", "?")
        except Exception as error:  # noqa: BLE001 - absent or broken: say which
            out[name] = f"not importable ({type(error).__name__})"
    out["cuda"] = torch.cuda.is_available()
    if out["cuda"]:
        props = torch.cuda.get_device_properties(0)
        out["device"] = f"{props.name}, {props.total_memory / 2**30:.0f} GiB"
    for key, value in out.items():
        print(f"  {key}: {value}")
    return out


def gpu_tests(cuda: bool) -> dict:
    if not cuda:
        return {"status": "not run", "why": "no CUDA device"}
    command = [sys.executable, "-m", "pytest", "-q", "-m", "gpu", "tests/policy/test_gpu.py"]
    command += ["-p", "no:cacheprovider"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)
    print(done.stdout[-3000:], done.stderr[-2000:], sep="\n")
    if done.returncode != 0:
        raise RuntimeError(f"pytest -m gpu exited {done.returncode}")
    return {"summary": done.stdout.strip().splitlines()[-1]}


def agent_step(checkpoint: Path, dtype: str, device: str) -> dict:
    import engines as bench_engines  # bench/engines.py

    out = {}
    kinds = ["hf"] + (["vllm"] if importlib.util.find_spec("vllm") else [])
    for kind in kinds:
        load_s, engine = bench_engines.timed(
            lambda kind=kind: bench_engines.build_engine_for(kind, checkpoint, dtype, 8, device)
        )
        try:
            figures = bench_engines.step_figures(engine)
        finally:
            engine.close()
            del engine
        figures["load_s"] = load_s
        out[kind] = {k: round(v, 3) for k, v in figures.items()}
        print(f"  {kind}: {out[kind]}", flush=True)
    if "vllm" not in kinds:
        out["vllm"] = "not run: vllm is not installed here"
    return out


def learner_update(checkpoint: Path, dtype: str, device: str, lora: bool) -> dict:
    """One ARPO update of 8 one-step trajectories: forward, loss, backward, AdamW."""
    import engines as bench_engines
    import torch

    from rllib_arpo.core.loss import arpo_policy_loss
    from rllib_arpo.policy.load import load_policy
    from rllib_arpo.policy.logprobs import pad_rows
    from rllib_arpo.policy.lora import LoraSpec
    from rllib_arpo.policy.model import TrajectoryInput

    if lora and device == "cpu":
        return {"status": "not run", "why": "nf4 needs a CUDA device"}
    policy = load_policy(
        checkpoint,
        dtype=dtype,
        device=device,
        quantization="nf4" if lora else None,
        lora=LoraSpec(r=64, alpha=128) if lora else None,
        activation_checkpointing=True,
    )
    shots = bench_engines.screens(8, seed=3)
    rng = torch.Generator().manual_seed(0)
    answers = [torch.randint(300, 500, (bench_engines.NEW_TOKENS,), generator=rng).tolist()]
    trajectories = [TrajectoryInput(bench_engines.INSTRUCTION, [shot], answers) for shot in shots]
    optimizer = torch.optim.AdamW(policy.trainable_parameters(), lr=1e-6)
    if device != "cpu":
        torch.cuda.reset_peak_memory_stats()
        torch.cuda.synchronize()
    started = time.perf_counter()
    results = policy.trajectory_logprobs(trajectories)
    logp, mask = pad_rows([r.flat_logp().float() for r in results])  # (B, T)
    advantages = torch.linspace(-1, 1, len(trajectories), device=logp.device)
    loss, metrics = arpo_policy_loss(logp, logp.detach(), advantages, mask)
    loss.backward()
    optimizer.step()
    if device != "cpu":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    out = {
        "update_s": round(seconds, 3),
        "loss": round(float(loss), 6),
        "ratio_mean": round(float(metrics["loss/ratio_mean"]), 6),
        "trainable_params": sum(p.numel() for p in policy.trainable_parameters()),
        "tokens": int(sum(len(r.flat_logp()) for r in results)),
    }
    if device != "cpu":
        out["peak_gpu_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    print(f"  {out}", flush=True)
    return out


def arpo_two_iterations(checkpoint: Path, device: str, lora: bool) -> dict:
    missing = [name for name in ("ray", "vllm") if not importlib.util.find_spec(name)]
    if missing:
        return {"status": "not run", "why": f"{', '.join(missing)} not installed here"}
    import ray

    from rllib_arpo.config import ARPOConfig
    from rllib_arpo.registration import register

    ray.init(include_dashboard=False, log_to_driver=False)
    register()
    gpu = device != "cpu"
    config = (
        ARPOConfig()
        .environment("minidesk", env_config={"screen_size": [800, 450], "max_steps": 2})
        .training(
            group_size=4,
            tasks_per_iteration=2,
            tasks=[f"minidesk/click_button/easy/{seed}" for seed in range(4)],
            max_steps_per_episode=2,
            max_new_tokens=64,
            policy_path=str(checkpoint),
            engine="vllm",
            num_engines=1,
            num_gpus_per_engine=0.4 if gpu else 0,
            engine_options={"gpu_memory_utilization": 0.35} if gpu else {},
            policy_dtype="bfloat16" if gpu else "float32",
            drop_zero_advantage_groups=False,
            # nf4 + LoRA: the learner trains an adapter on a 4-bit base; vLLM serves the bf16
            # base and each adapter version (on CPU: LoRA without the 4-bit base).
            lora_rank=64 if lora else 0,
            lora_alpha=128,
            quantization="nf4" if lora and gpu else None,
        )
        .env_runners(num_env_runners=1, num_gpus_per_env_runner=0)
        .learners(num_learners=0, num_gpus_per_learner=0.5 if gpu else 0)
        .debugging(seed=0)
    )
    algo = config.build_algo()
    try:
        results = [algo.train() for _ in range(2)]
    finally:
        algo.stop()
        ray.shutdown()
    keys = ("time/rollout_s", "time/learn_s", "time/sync_s", "sync/bytes", "sync/weight_version")
    keys += ("rollout/num_trajectories", "rollout/env_error_rate", "train/num_trajectories")
    keys += ("mismatch/mean_abs_delta_logp", "mismatch/kl_sampler_trainer")
    out = {
        f"iteration {i + 1}": {k: None if r.get(k) is None else float(r[k]) for k in keys}
        for i, r in enumerate(results)
    }
    print(f"  {out}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="tiny model on CPU")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "gpu-check")
    parser.add_argument("--only", nargs="*", help="run only sections whose names start so")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    results: dict = {}
    sections = Section(results, args.only)
    sections.run("1 environment", environment)
    import torch

    cuda = torch.cuda.is_available()
    device = "cuda" if cuda and not args.dry_run else "cpu"
    sections.run("2 gpu tests", gpu_tests, cuda and not args.dry_run)

    from rllib_arpo.policy.tiny import write_tiny_checkpoint, write_ui_tars_2b_shaped_checkpoint

    work = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    if device == "cpu":
        checkpoint, dtype = write_tiny_checkpoint(work / "tiny", size="1.4m"), "float32"
    else:
        print("\nbuilding a UI-TARS-2B-shaped checkpoint (random weights, bf16) ...", flush=True)
        checkpoint, dtype = write_ui_tars_2b_shaped_checkpoint(work / "ui-tars-2b"), "bfloat16"
    sections.run("3 agent step", agent_step, checkpoint, dtype, device)
    sections.run("4a learner update, full", learner_update, checkpoint, dtype, device, False)
    sections.run("4b learner update, nf4 + LoRA", learner_update, checkpoint, dtype, device, True)
    sections.run(
        "5a ARPO 2 iterations, vllm engine, full", arpo_two_iterations, checkpoint, device, False
    )
    sections.run(
        "5b ARPO 2 iterations, vllm engine, nf4 + LoRA",
        arpo_two_iterations,
        checkpoint,
        device,
        True,
    )

    (args.out / "gpu_check.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nfigures: {args.out / 'gpu_check.json'}")
    if sections.failed:
        print(f"FAILED sections: {sections.failed}")
        sys.exit(1)


if __name__ == "__main__":
    main()
