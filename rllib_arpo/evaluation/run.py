"""Evaluation and task selection: run every task N times, tabulate, pick "valuable" tasks.

No Ray here: ``arpo eval`` and ``arpo select-tasks`` (``cli/eval_commands.py``) drive the same
lock-step loop as training (``rollout.GroupRollout``), so one batched generation serves every live
episode of a batch and all envs step in parallel threads.

Pieces:

- task lists in OSWorld's ``{domain: [ids]}`` JSON (``load_task_list``, ``write_task_list``);
- envs by name (``make_env_factory``: minidesk, osworld, miniwob when it exists);
- policies (``build_policy``): a checkpoint directory or ``tiny`` (the VLM), ``expert`` (MiniDesk's
  scripted expert, which reads the live env), or an OpenAI-compatible chat-completions URL (e.g. a
  vLLM server hosting UI-TARS);
- ``run_evaluation``: every (task, trial) once, in batches of ``parallel`` episodes;
- tables: ``task_table`` pairs a task with its noisy twin (``<id>_noise``) and reports the
  success rate of each, the delta, mean steps, format and env errors;
- ``select_tasks``: ARPO's valuable-task filter (solved at least ``min_success`` times in N trials;
  the paper keeps 128 of 369 OSWorld tasks with 16 trials) and "middle difficulty" selection
  (success rate within ``[min_rate, max_rate]``).

Episodes whose env failed (``terminated_by == "env_error"``) say nothing about the policy: they
are counted apart and left out of success rates.
"""

from __future__ import annotations

import base64
import csv
import importlib.metadata
import io
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rllib_arpo.core.coords import CoordinateSpace
from rllib_arpo.core.prompt import SYSTEM_PROMPT, computer_use_prompt
from rllib_arpo.core.trajectory import SUCCESS_THRESHOLD, Termination, Trajectory
from rllib_arpo.policy.paths import TINY_POLICY
from rllib_arpo.rollout.loop import (
    GroupRollout,
    RolloutSettings,
    RolloutStats,
    TurnRequest,
    TurnResponse,
    policy_generate_fn,
)

logger = logging.getLogger(__name__)

ENV_CHOICES = ("minidesk", "osworld", "miniwob")
"""Env names ``arpo eval`` knows."""
NOISE_SUFFIX = "_noise"
"""A noisy twin's id is its original's id plus this (the seed's test_data convention)."""
EXPERT_POLICY = "expert"
OPENAI_SCHEMES = ("http://", "https://")
"""A ``--policy`` starting with one of these is an OpenAI-compatible chat-completions endpoint."""
DEFAULT_PARALLEL = 32
"""Episodes in flight per batch for in-process envs (one batched generation per step)."""
OPENAI_RETRIES = 3
"""Tries of one chat-completions call before the run stops with an error."""
RATE_TOLERANCE = 1e-12
"""Slack on ``--min-rate``/``--max-rate`` so that e.g. 0.1 keeps a task at exactly 1/10."""
UI_TARS_HISTORY_IMAGES = 5
"""Screenshots sent per OpenAI call: UI-TARS' own OSWorld agent keeps the last 5."""


class EvalError(Exception):
    """A problem the user can fix (missing file, bad JSON, unknown env or task); one line."""


# ---------------------------------------------------------------------------------- task lists


@dataclass(frozen=True)
class TaskRef:
    """One task of a list: its domain (the JSON key) and id."""

    domain: str
    task_id: str

    @property
    def base_id(self) -> str:
        """The original's id (``<id>_noise`` -> ``<id>``)."""
        return base_task_id(self.task_id)

    @property
    def is_noisy(self) -> bool:
        return self.task_id.endswith(NOISE_SUFFIX)


def base_task_id(task_id: str) -> str:
    """``"<id>_noise"`` -> ``"<id>"``; other ids unchanged."""
    return task_id[: -len(NOISE_SUFFIX)] if task_id.endswith(NOISE_SUFFIX) else task_id


def load_task_list(path: str | Path) -> list[TaskRef]:
    """Reads an OSWorld task list ``{domain: [ids]}`` (a plain JSON list of ids is domain "tasks").

    Raises:
        EvalError: the file is missing, is not JSON, or has another shape (the message names it).
    """
    path = Path(path)
    if not path.exists():
        raise EvalError(f"task list {path} does not exist")
    if not path.is_file():
        raise EvalError(f"task list {path} is not a file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise EvalError(f"task list {path} is not valid JSON: {error}") from None
    if isinstance(data, list):
        data = {"tasks": data}
    if not isinstance(data, dict):
        raise EvalError(
            f"task list {path} must be a JSON object {{domain: [task ids]}}, "
            f"got {type(data).__name__}"
        )
    refs: list[TaskRef] = []
    for domain, ids in data.items():
        if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
            raise EvalError(f"task list {path}: domain {domain!r} must map to a list of task ids")
        refs.extend(TaskRef(str(domain), task_id) for task_id in ids)
    if not refs:
        raise EvalError(f"task list {path} lists no tasks")
    return refs


def merge_task_lists(*lists: Iterable[TaskRef]) -> list[TaskRef]:
    """The lists concatenated, first occurrence of each (domain, id) kept."""
    seen: dict[TaskRef, None] = {}
    for refs in lists:
        for ref in refs:
            seen.setdefault(ref, None)
    return list(seen)


def task_list_dict(refs: Iterable[TaskRef]) -> dict[str, list[str]]:
    """``{domain: [ids]}`` in first-seen order (OSWorld's task list format)."""
    out: dict[str, list[str]] = {}
    for ref in refs:
        out.setdefault(ref.domain, []).append(ref.task_id)
    return out


def write_task_list(path: str | Path, refs: Iterable[TaskRef]) -> Path:
    """Writes ``{domain: [ids]}`` JSON (what ``load_task_list`` and OSWorld's runners read)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(task_list_dict(refs), indent=2) + "\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------ envs


@dataclass(frozen=True)
class EnvSpec:
    """How to build the envs of a run.

    Attributes:
        name: "minidesk", "osworld" or "miniwob".
        max_steps: Step budget per episode (the env truncates and evaluates there).
        screen_size: (width, height) of MiniDesk screens.
        task_dir: MiniDesk: where task ids are looked up (default: the repository's test_data).
        server_urls: osworld: env server URLs, one env per server.
        token: osworld: the servers' bearer token (default ``$ARPO_ENV_TOKEN``).
        read_timeout_s: osworld: limit on one server answer.
    """

    name: str
    max_steps: int = 15
    screen_size: tuple[int, int] = (448, 336)
    task_dir: str | None = None
    server_urls: tuple[str, ...] = ()
    token: str | None = None
    read_timeout_s: float = 300.0


def make_env_factory(spec: EnvSpec) -> tuple[Callable[[], Any], int | None]:
    """(zero-arg env factory, most envs that may exist at once or None for no limit).

    Raises:
        EvalError: unknown env name, an env that is not available here, osworld without servers.
    """
    if spec.name == "minidesk":
        from envs import make_minidesk

        config: dict[str, Any] = {"screen_size": spec.screen_size, "max_steps": spec.max_steps}
        if spec.task_dir:
            if not Path(spec.task_dir).is_dir():
                raise EvalError(f"task directory {spec.task_dir} does not exist")
            config["task_dir"] = spec.task_dir
        return (lambda: make_minidesk(config)), None
    if spec.name == "osworld":
        if not spec.server_urls:
            raise EvalError("--env osworld needs --server-url (one env server per parallel env)")
        from envs.osworld import OSWorldEnv

        counter = iter(range(1 << 62))
        lock = threading.Lock()

        def make_osworld() -> Any:
            with lock:
                index = next(counter)
            return OSWorldEnv(
                list(spec.server_urls),
                token=spec.token,
                server_index=index,
                max_steps=spec.max_steps,
                read_timeout_s=spec.read_timeout_s,
            )

        return make_osworld, len(spec.server_urls)
    if spec.name == "miniwob":
        creator = _miniwob_creator()
        return (lambda: creator({"max_steps": spec.max_steps})), None
    raise EvalError(f"unknown env {spec.name!r}; choose one of: {', '.join(ENV_CHOICES)}")


def _miniwob_creator() -> Callable[[dict], Any]:
    """The ``rllib.envs`` entry point "miniwob", else ``envs.miniwob.make_rllib_env``."""
    for entry in importlib.metadata.entry_points(group="rllib.envs"):
        if entry.name == "miniwob":
            try:
                return entry.load()
            except ImportError as error:
                raise EvalError(f"env 'miniwob' does not import: {error}") from None
    try:
        from envs.miniwob import make_rllib_env
    except ImportError as error:
        raise EvalError(
            f"env 'miniwob' is not available here ({error}); use --env minidesk or osworld"
        ) from None
    return make_rllib_env


def check_env(env_factory: Callable[[], Any], env_name: str, refs: Sequence[TaskRef]) -> None:
    """Fails early with one line: an env that cannot be made (no browser, no server), or a task
    id an env that resolves ids (MiniDesk) does not know."""
    try:
        env = env_factory()
    except EvalError:
        raise
    except Exception as error:  # noqa: BLE001 - any failure here is the user's setup
        raise EvalError(f"cannot create env {env_name!r}: {error}") from None
    try:
        resolve = getattr(getattr(env, "unwrapped", env), "resolve_task", None)
        if resolve is None:
            return
        for ref in refs:
            try:
                resolve(ref.task_id)
            except (KeyError, ValueError) as error:
                message = error.args[0] if error.args else str(error)
                raise EvalError(f"task {ref.domain}/{ref.task_id}: {message}") from None
    finally:
        env.close()


class TrackedEnv:
    """An env that remembers its current episode's answers, for policies that need the env.

    The scripted expert reads the live desktop, and an OpenAI-compatible endpoint needs the text
    of earlier answers (it returns no token ids): the rollout's ``TurnRequest`` carries neither,
    so each request is matched to its env by its last screenshot, the very array this env
    returned (``EnvTracker.env_for``).
    """

    def __init__(self, env: Any, tracker: EnvTracker) -> None:
        self.env = env
        self.tracker = tracker
        self.history: list[str] = []

    def __getattr__(self, name: str) -> Any:
        if name == "env":  # not set yet (copy, unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.env, name)

    def reset(self, **kwargs: Any) -> tuple[Any, dict]:
        observation, info = self.env.reset(**kwargs)
        self.history = []
        self.tracker.record(self, observation)
        return observation, info

    def step(self, action: str) -> tuple[Any, float, bool, bool, dict]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        self.tracker.record(self, observation)
        return observation, reward, terminated, truncated, info

    def close(self) -> None:
        self.tracker.forget(self)
        self.env.close()


class EnvTracker:
    """Maps the screenshot arrays envs returned to the envs (see ``TrackedEnv``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_screen: dict[int, tuple[Any, TrackedEnv]] = {}
        self._screen_of: dict[int, int] = {}

    def wrap(self, env: Any) -> TrackedEnv:
        return TrackedEnv(env, self)

    def record(self, env: TrackedEnv, observation: Any) -> None:
        screen = observation.get("screenshot") if isinstance(observation, dict) else observation
        with self._lock:
            self._drop(env)
            # The array is kept alive here, so its id cannot be reused while it is mapped.
            self._by_screen[id(screen)] = (screen, env)
            self._screen_of[id(env)] = id(screen)

    def forget(self, env: TrackedEnv) -> None:
        with self._lock:
            self._drop(env)

    def env_for(self, screenshot: Any) -> TrackedEnv:
        with self._lock:
            entry = self._by_screen.get(id(screenshot))
        if entry is None or entry[0] is not screenshot:
            raise RuntimeError("a request's screenshot was not returned by any tracked env")
        return entry[1]

    def _drop(self, env: TrackedEnv) -> None:
        old = self._screen_of.pop(id(env), None)
        if old is not None:
            self._by_screen.pop(old, None)


# -------------------------------------------------------------------------------- policies


class EvalPolicy(Protocol):
    """What ``run_evaluation`` needs of a policy."""

    name: str

    def coordinate_space(self, width: int, height: int) -> CoordinateSpace:
        """The frame the policy writes points in, for a ``width`` x ``height`` screen."""

    def generate(self, requests: list[TurnRequest], envs: list[TrackedEnv]) -> list[TurnResponse]:
        """One answer per request; ``envs[i]`` is the env of ``requests[i]``."""

    def close(self) -> None:
        """Release resources."""


@dataclass(frozen=True)
class SamplingSettings:
    """Sampling of the model policies (the VLM and the OpenAI endpoint).

    Attributes:
        temperature: Softmax temperature; 0 = greedy.
        top_p: Nucleus mass.
        max_new_tokens: Longest answer per step.
    """

    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 512


class ModelPolicy:
    """A local checkpoint (``rllib_arpo.policy``) sampling one batched call per step."""

    def __init__(self, policy: Any, sampling: SamplingSettings, seed: int | None = 0) -> None:
        from rllib_arpo.policy.generate import SamplingParams

        self.policy = policy
        self.name = str(policy.source_path)
        self.params = SamplingParams(
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            max_new_tokens=sampling.max_new_tokens,
        )
        policy.set_seed(seed)
        self._generate = policy_generate_fn(policy, self.params)

    def coordinate_space(self, width: int, height: int) -> CoordinateSpace:
        return self.policy.coordinate_space(width, height)

    def generate(self, requests: list[TurnRequest], envs: list[TrackedEnv]) -> list[TurnResponse]:
        return self._generate(requests)

    def close(self) -> None:
        pass


class ExpertPolicy:
    """MiniDesk's scripted expert (``envs.minidesk.expert``) as a policy: a check of evaluators."""

    name = EXPERT_POLICY

    def coordinate_space(self, width: int, height: int) -> CoordinateSpace:
        return CoordinateSpace.for_screen(width, height)  # the frame the expert writes in

    def generate(self, requests: list[TurnRequest], envs: list[TrackedEnv]) -> list[TurnResponse]:
        from envs.minidesk.expert import ExpertStuck, expert_action

        responses = []
        for env in envs:
            try:
                text = expert_action(env.env.unwrapped)
            except ExpertStuck as error:  # an unparsable answer: the episode ends as data
                text = f"expert stuck: {error}"
            responses.append(TurnResponse(text, [], []))
        return responses

    def close(self) -> None:
        pass


class OpenAIPolicy:
    """An OpenAI-compatible chat-completions endpoint (e.g. vLLM serving UI-TARS-1.5).

    Each step of each episode is one request, sent concurrently (the server batches them): the
    conversation of ``core.prompt`` (system turn, instruction prompt, then per step a user turn
    with the screenshot as a base64 PNG ``image_url`` and the model's earlier answer), the
    screenshots of only the last ``history_images`` steps. No token ids or log-probs come back;
    trajectories store the text.

    Args:
        url: ``http://host:port/v1`` or the full ``.../chat/completions`` URL.
        model: The served model name.
        sampling: Temperature, top_p, max tokens.
        api_key: Sent as a bearer token when given.
        timeout_s: Limit on one call.
        history_images: Screenshots per call (the most recent ones).
        convention: Coordinates the model writes: "absolute" (UI-TARS-1.5) or "relative1000".
        max_concurrency: Calls in flight at once.
    """

    def __init__(
        self,
        url: str,
        *,
        model: str,
        sampling: SamplingSettings,
        api_key: str | None = None,
        timeout_s: float = 120.0,
        history_images: int = UI_TARS_HISTORY_IMAGES,
        convention: str = "absolute",
        max_concurrency: int = 16,
    ) -> None:
        url = url.rstrip("/")
        self.url = url if url.endswith("/chat/completions") else url + "/chat/completions"
        self.name = f"{model}@{self.url}"
        self.model = model
        self.sampling = sampling
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.history_images = max(1, history_images)
        self.convention = convention
        self._pool = ThreadPoolExecutor(max_workers=max(1, max_concurrency))

    def coordinate_space(self, width: int, height: int) -> CoordinateSpace:
        return CoordinateSpace.for_screen(width, height, convention=self.convention)  # type: ignore[arg-type]

    def messages(self, request: TurnRequest, history: Sequence[str]) -> list[dict[str, Any]]:
        """The chat of one request: ``core.prompt``'s layout with images as data URIs."""
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": computer_use_prompt(request.instruction)},
        ]
        shots = list(request.screenshots)
        first_image = max(0, len(shots) - self.history_images)
        for index, shot in enumerate(shots):
            if index >= first_image:
                url = "data:image/png;base64," + base64.b64encode(_png(shot)).decode("ascii")
                messages.append(
                    {"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}
                )
            if index < len(history):
                messages.append({"role": "assistant", "content": history[index]})
        return messages

    def generate(self, requests: list[TurnRequest], envs: list[TrackedEnv]) -> list[TurnResponse]:
        payloads = [self.messages(r, list(e.history)) for r, e in zip(requests, envs)]
        texts = list(self._pool.map(self._complete, payloads))
        return [TurnResponse(text, [], []) for text in texts]

    def _complete(self, messages: list[dict[str, Any]]) -> str:
        body = json.dumps(
            {
                "model": self.model,
                "messages": messages,
                "temperature": self.sampling.temperature,
                "top_p": self.sampling.top_p,
                "max_tokens": self.sampling.max_new_tokens,
            }
        ).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        problem = ""
        for attempt in range(OPENAI_RETRIES):
            request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as reply:
                    answer = json.loads(reply.read())
                return str(answer["choices"][0]["message"]["content"] or "")
            except urllib.error.HTTPError as error:
                problem = f"HTTP {error.code}: {error.read()[:200].decode('utf-8', 'replace')}"
                if error.code < 500:
                    break
            except (urllib.error.URLError, OSError) as error:
                problem = str(getattr(error, "reason", error))
            except (ValueError, KeyError, IndexError, TypeError) as error:
                problem = f"unexpected answer ({type(error).__name__}: {error})"
                break
            time.sleep(0.5 * 2**attempt)
        raise EvalError(f"chat-completions endpoint {self.url} failed: {problem}")

    def close(self) -> None:
        self._pool.shutdown(wait=False)


def build_policy(
    spec: str,
    *,
    sampling: SamplingSettings,
    seed: int = 0,
    device: str | None = None,
    model: str = "ui-tars",
    api_key: str | None = None,
    coords: str = "absolute",
) -> EvalPolicy:
    """A policy from ``--policy``: a checkpoint dir, ``tiny``, ``expert`` or an http(s) URL.

    Raises:
        EvalError: a path that does not exist or does not load.
    """
    if spec == EXPERT_POLICY:
        return ExpertPolicy()
    if spec.startswith(OPENAI_SCHEMES):
        return OpenAIPolicy(
            spec, model=model, sampling=sampling, api_key=api_key, convention=coords
        )
    from rllib_arpo.policy.paths import resolve_policy_path

    if spec != TINY_POLICY and not Path(spec).expanduser().is_dir():
        raise EvalError(
            f"policy {spec!r} is not a checkpoint directory; use a local checkpoint path, "
            f"'{TINY_POLICY}', '{EXPERT_POLICY}' or an http(s):// chat-completions URL"
        )
    from rllib_arpo.policy.load import PolicyLoadError, load_policy

    try:
        policy = load_policy(resolve_policy_path(spec), device=device)
    except PolicyLoadError as error:
        raise EvalError(" ".join(str(error).split())) from None
    return ModelPolicy(policy, sampling, seed)


def _png(image: Any) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    if isinstance(image, (bytes, bytearray)):
        return bytes(image)
    picture = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image))
    picture.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


# ------------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class EpisodeResult:
    """One episode's outcome (a row of ``results.json``'s ``episodes``)."""

    domain: str
    task_id: str
    trial: int
    episode_id: str
    eval_result: float
    success: bool
    steps: int
    terminated_by: str
    format_error: bool
    env_error: bool


@dataclass
class EvalRun:
    """What ``run_evaluation`` returns."""

    episodes: list[EpisodeResult] = field(default_factory=list)
    stats: RolloutStats = field(default_factory=RolloutStats)
    wall_s: float = 0.0


TrajectorySink = Callable[[list[Trajectory], list[EpisodeResult]], None]
"""Gets each batch's trajectories and their results (parquet log, HTML report)."""


def run_evaluation(
    refs: Sequence[TaskRef],
    env_factory: Callable[[], Any],
    policy: EvalPolicy,
    *,
    trials: int,
    max_steps: int = 15,
    parallel: int = DEFAULT_PARALLEL,
    step_timeout_s: float = 300.0,
    max_retries: int = 2,
    seed: int = 0,
    sinks: Sequence[TrajectorySink] = (),
    progress: Callable[[str], None] | None = None,
) -> EvalRun:
    """Runs every task ``trials`` times, ``parallel`` episodes at a time in lock step.

    Args:
        refs: The tasks.
        env_factory: Makes one env (called once per parallel slot; envs are reused).
        policy: Answers the batched requests.
        trials: Episodes per task.
        max_steps: Step budget per episode.
        parallel: Episodes in flight at once (envs alive, rows per generation).
        step_timeout_s: Limit on one env call.
        max_retries: Fresh envs tried when a reset fails.
        seed: Base seed of env resets.
        sinks: Called with each batch's trajectories and results.
        progress: Called with one line per finished batch.

    Returns:
        Every episode's result (task order, then trial) and the summed rollout counters.
    """
    if trials < 1:
        raise EvalError(f"--trials must be >= 1, got {trials}")
    if parallel < 1:
        raise EvalError(f"--parallel must be >= 1, got {parallel}")
    tracker = EnvTracker()

    def generate(requests: list[TurnRequest]) -> list[TurnResponse]:
        envs = [tracker.env_for(r.screenshots[-1]) for r in requests]
        responses = policy.generate(requests, envs)
        for env, response in zip(envs, responses):
            env.history.append(response.text)
        return responses

    # Each (task, trial) is its own group of one: batches cut anywhere, every trial seeded apart.
    rollout = GroupRollout(
        env_factory=lambda: tracker.wrap(env_factory()),
        generate=generate,
        coordinate_space=policy.coordinate_space,
        settings=RolloutSettings(
            group_size=1,
            max_steps=max_steps,
            step_timeout_s=step_timeout_s,
            max_retries=max_retries,
            seed=seed,
        ),
    )
    jobs = [(ref, trial) for ref in refs for trial in range(trials)]
    batches = [jobs[i : i + parallel] for i in range(0, len(jobs), parallel)]
    run = EvalRun()
    started = time.perf_counter()
    try:
        for number, batch in enumerate(batches):
            batch_started = time.perf_counter()
            prefix = f"b{number}/"
            trajectories, stats = rollout.run(
                [ref.task_id for ref, _ in batch],
                group_prefix=prefix,
                seed=seed + number * parallel,
            )
            run.stats.merge(stats)
            by_episode = {t.episode_id: t for t in trajectories}
            kept, results = [], []
            for index, (ref, trial) in enumerate(batch):
                trajectory = by_episode.get(f"{prefix}g{index}:{ref.task_id}:0")
                result = _episode_result(ref, trial, trajectory, f"{prefix}g{index}")
                results.append(result)
                if trajectory is not None:
                    kept.append(trajectory)
            run.episodes.extend(results)
            for sink in sinks:
                sink(kept, [r for r in results if r.episode_id in by_episode])
            if progress is not None:
                done = sum(len(b) for b in batches[: number + 1])
                wins = sum(r.success for r in results)
                progress(
                    f"batch {number + 1}/{len(batches)}: {len(batch)} episodes, {wins} solved, "
                    f"{stats.env_steps} env steps, {time.perf_counter() - batch_started:.1f} s "
                    f"({done}/{len(jobs)} episodes)"
                )
    finally:
        rollout.close()
    run.wall_s = time.perf_counter() - started
    return run


def _episode_result(
    ref: TaskRef, trial: int, trajectory: Trajectory | None, fallback_id: str
) -> EpisodeResult:
    if trajectory is None:  # never reached the policy (cannot happen with GroupRollout today)
        return EpisodeResult(
            ref.domain, ref.task_id, trial, fallback_id, 0.0, False, 0,
            Termination.ENV_ERROR.value, False, True,
        )  # fmt: skip
    terminated_by = trajectory.terminated_by.value
    return EpisodeResult(
        domain=ref.domain,
        task_id=ref.task_id,
        trial=trial,
        episode_id=trajectory.episode_id,
        eval_result=float(trajectory.eval_result),
        success=trajectory.is_success(SUCCESS_THRESHOLD),
        steps=trajectory.num_steps,
        terminated_by=terminated_by,
        format_error=terminated_by == Termination.PARSE_ERROR.value,
        env_error=terminated_by == Termination.ENV_ERROR.value,
    )


# ------------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class VariantStats:
    """One task variant's episodes (the original or the noisy twin).

    Attributes:
        trials: Episodes run.
        valid: Episodes without env errors (the denominator of ``success_rate``).
        successes: Episodes the evaluator scored above ``SUCCESS_THRESHOLD``.
        success_rate: ``successes / valid``; None when no episode is valid.
        mean_steps: Mean steps over valid episodes; None when none.
        format_errors: Episodes ended by an unparsable answer.
        env_errors: Episodes ended by an env failure.
    """

    trials: int
    valid: int
    successes: int
    success_rate: float | None
    mean_steps: float | None
    format_errors: int
    env_errors: int


def variant_stats(episodes: Sequence[EpisodeResult]) -> VariantStats:
    valid = [e for e in episodes if not e.env_error]
    successes = sum(e.success for e in valid)
    return VariantStats(
        trials=len(episodes),
        valid=len(valid),
        successes=successes,
        success_rate=successes / len(valid) if valid else None,
        mean_steps=sum(e.steps for e in valid) / len(valid) if valid else None,
        format_errors=sum(e.format_error for e in episodes),
        env_errors=sum(e.env_error for e in episodes),
    )


@dataclass(frozen=True)
class TaskRow:
    """One row of the per-task table: a task and its noisy twin.

    Attributes:
        domain: The task list's domain.
        task_id: The original's id (the noisy twin is ``task_id + "_noise"``).
        original: Stats of the original, or None when it was not run.
        noisy: Stats of the noisy twin, or None when it was not run.
        delta: ``noisy.success_rate - original.success_rate`` when both exist.
    """

    domain: str
    task_id: str
    original: VariantStats | None
    noisy: VariantStats | None
    delta: float | None

    @property
    def all_steps(self) -> float | None:
        """Mean steps over the valid episodes of both variants."""
        parts = [v for v in (self.original, self.noisy) if v is not None and v.valid]
        total = sum(v.valid for v in parts)
        return sum(v.mean_steps * v.valid for v in parts) / total if total else None  # type: ignore[operator]

    @property
    def format_errors(self) -> int:
        return sum(v.format_errors for v in (self.original, self.noisy) if v is not None)

    @property
    def env_errors(self) -> int:
        return sum(v.env_errors for v in (self.original, self.noisy) if v is not None)


def task_table(episodes: Sequence[EpisodeResult]) -> list[TaskRow]:
    """Per-task rows, a noisy twin (``<id>_noise``) on its original's row, first-seen order."""
    groups: dict[tuple[str, str], dict[bool, list[EpisodeResult]]] = {}
    for episode in episodes:
        key = (episode.domain, base_task_id(episode.task_id))
        variants = groups.setdefault(key, {False: [], True: []})
        variants[episode.task_id.endswith(NOISE_SUFFIX)].append(episode)
    rows = []
    for (domain, task_id), variants in groups.items():
        original = variant_stats(variants[False]) if variants[False] else None
        noisy = variant_stats(variants[True]) if variants[True] else None
        delta = None
        if original and noisy and None not in (original.success_rate, noisy.success_rate):
            delta = noisy.success_rate - original.success_rate  # type: ignore[operator]
        rows.append(TaskRow(domain, task_id, original, noisy, delta))
    return rows


def summary(rows: Sequence[TaskRow]) -> dict[str, Any]:
    """Overall success rates (over episodes), the paired delta and error counts."""

    def pooled(variants: list[VariantStats]) -> float | None:
        valid = sum(v.valid for v in variants)
        return sum(v.successes for v in variants) / valid if valid else None

    originals = [r.original for r in rows if r.original is not None]
    noisies = [r.noisy for r in rows if r.noisy is not None]
    deltas = [r.delta for r in rows if r.delta is not None]
    return {
        "tasks": len(rows),
        "episodes": sum(v.trials for v in originals + noisies),
        "success_rate_original": pooled(originals),
        "success_rate_noisy": pooled(noisies),
        "mean_delta": sum(deltas) / len(deltas) if deltas else None,
        "pairs": len(deltas),
        "format_errors": sum(r.format_errors for r in rows),
        "env_errors": sum(r.env_errors for r in rows),
    }


TABLE_COLUMNS = (
    "domain", "task_id",
    "original_trials", "original_successes", "original_success_rate",
    "noisy_trials", "noisy_successes", "noisy_success_rate",
    "delta", "mean_steps", "mean_steps_original", "mean_steps_noisy",
    "format_errors", "env_errors",
)  # fmt: skip
"""Columns of ``results.csv`` (one row per task and its noisy twin)."""


def row_dict(row: TaskRow) -> dict[str, Any]:
    """A table row as flat built-in values (``TABLE_COLUMNS``; None where not run)."""
    o, n = row.original, row.noisy
    return {
        "domain": row.domain,
        "task_id": row.task_id,
        "original_trials": o.trials if o else None,
        "original_successes": o.successes if o else None,
        "original_success_rate": o.success_rate if o else None,
        "noisy_trials": n.trials if n else None,
        "noisy_successes": n.successes if n else None,
        "noisy_success_rate": n.success_rate if n else None,
        "delta": row.delta,
        "mean_steps": row.all_steps,
        "mean_steps_original": o.mean_steps if o else None,
        "mean_steps_noisy": n.mean_steps if n else None,
        "format_errors": row.format_errors,
        "env_errors": row.env_errors,
    }


def _rate(v: VariantStats | None) -> str:
    if v is None:
        return "-"
    if v.success_rate is None:
        return f"n/a (0/{v.trials})"
    return f"{100 * v.success_rate:.0f}% ({v.successes}/{v.valid})"


def _signed(value: float | None, percent: bool = True) -> str:
    if value is None:
        return "-"
    return f"{100 * value:+.0f}%" if percent else f"{value:+.2f}"


def format_table(rows: Sequence[TaskRow]) -> str:
    """The per-task table as aligned text, with a total line."""
    header = ("task", "original", "noisy", "delta", "mean steps", "format errors", "env errors")
    lines = [
        (
            f"{r.domain}/{r.task_id}",
            _rate(r.original),
            _rate(r.noisy),
            _signed(r.delta),
            "-" if r.all_steps is None else f"{r.all_steps:.1f}",
            str(r.format_errors),
            str(r.env_errors),
        )
        for r in rows
    ]
    total = summary(rows)

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.1f}%"

    lines.append(
        (
            f"all ({total['tasks']} tasks, {total['episodes']} episodes)",
            pct(total["success_rate_original"]),
            pct(total["success_rate_noisy"]),
            _signed(total["mean_delta"]),
            "",
            str(total["format_errors"]),
            str(total["env_errors"]),
        )
    )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]

    def fmt(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]
        return "  ".join([first, *rest])

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), rule, *(fmt(c) for c in lines[:-1]), rule, fmt(lines[-1])])


def write_table(out_dir: Path, rows: Sequence[TaskRow], extra: dict[str, Any]) -> dict[str, Path]:
    """Writes ``results.csv`` (``TABLE_COLUMNS``) and ``results.json`` (rows, summary, ``extra``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / "results.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=TABLE_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in row_dict(row).items()})
    json_path = out_dir / "results.json"
    document = {"summary": summary(rows), "tasks": [row_dict(r) for r in rows], **extra}
    json_path.write_text(json.dumps(document, indent=2, default=_jsonable) + "\n", encoding="utf-8")
    return {"csv": csv_path, "json": json_path}


def _jsonable(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# ------------------------------------------------------------------------------ selection


@dataclass(frozen=True)
class TaskCount:
    """One task's successes in a selection run.

    Attributes:
        ref: The task.
        trials: Episodes run.
        valid: Episodes without env errors.
        successes: Solved episodes.
        selected: Whether ``select_tasks`` kept it.
    """

    ref: TaskRef
    trials: int
    valid: int
    successes: int
    selected: bool = False

    @property
    def success_rate(self) -> float | None:
        return self.successes / self.valid if self.valid else None


def count_successes(refs: Sequence[TaskRef], episodes: Sequence[EpisodeResult]) -> list[TaskCount]:
    """Per task of ``refs`` (in order): trials, valid trials and successes."""
    by_ref: dict[TaskRef, list[EpisodeResult]] = {ref: [] for ref in refs}
    for episode in episodes:
        by_ref.setdefault(TaskRef(episode.domain, episode.task_id), []).append(episode)
    counts = []
    for ref, items in by_ref.items():
        valid = [e for e in items if not e.env_error]
        counts.append(TaskCount(ref, len(items), len(valid), sum(e.success for e in valid)))
    return counts


def select_tasks(
    counts: Sequence[TaskCount],
    *,
    min_success: int = 1,
    min_rate: float | None = None,
    max_rate: float | None = None,
) -> list[TaskCount]:
    """ARPO's valuable-task filter, and middle-difficulty selection.

    A task is kept when it was solved at least ``min_success`` times and its success rate (over
    trials without env errors) lies within ``[min_rate, max_rate]`` (each bound optional). The
    paper: 16 trials of UI-TARS-1.5-7B, ``min_success=1``, keeps 128 of 369 OSWorld tasks. With
    ``max_rate < 1`` tasks the policy always solves are dropped too: they give GRPO groups
    without reward variance, so no gradient.

    Returns:
        ``counts`` in order with ``selected`` set.
    """
    check_selection_bounds(min_success, min_rate, max_rate)
    out = []
    for count in counts:
        rate = count.success_rate
        keep = (
            rate is not None
            and count.successes >= min_success
            and (min_rate is None or rate >= min_rate - RATE_TOLERANCE)
            and (max_rate is None or rate <= max_rate + RATE_TOLERANCE)
        )
        out.append(TaskCount(count.ref, count.trials, count.valid, count.successes, keep))
    return out


def check_selection_bounds(
    min_success: int, min_rate: float | None, max_rate: float | None
) -> None:
    """Raises ``EvalError`` naming the bad ``select_tasks`` bound."""
    if min_success < 0:
        raise EvalError(f"--min-success must be >= 0, got {min_success}")
    for name, value in (("--min-rate", min_rate), ("--max-rate", max_rate)):
        if value is not None and not 0.0 <= value <= 1.0:
            raise EvalError(f"{name} must be within [0, 1], got {value}")
    if min_rate is not None and max_rate is not None and min_rate > max_rate:
        raise EvalError(f"--min-rate {min_rate} is above --max-rate {max_rate}")


def write_selection(
    out_dir: Path, counts: Sequence[TaskCount], extra: dict[str, Any]
) -> dict[str, Path]:
    """Writes ``selected_tasks.json`` ({domain: [ids]}) and ``task_success.csv``/``.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    selected = write_task_list(
        out_dir / "selected_tasks.json", [c.ref for c in counts if c.selected]
    )
    rows = [
        {
            "domain": c.ref.domain,
            "task_id": c.ref.task_id,
            "trials": c.trials,
            "valid": c.valid,
            "successes": c.successes,
            "success_rate": c.success_rate,
            "selected": c.selected,
        }
        for c in counts
    ]
    csv_path = out_dir / "task_success.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["task_id"])
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    json_path = out_dir / "task_success.json"
    document = {
        "selected": sum(c.selected for c in counts),
        "tasks": len(counts),
        "counts": rows,
        **extra,
    }
    json_path.write_text(json.dumps(document, indent=2, default=_jsonable) + "\n", encoding="utf-8")
    return {"selected": selected, "csv": csv_path, "json": json_path}


def format_counts(counts: Sequence[TaskCount]) -> str:
    """Every task's success count, selected ones marked with ``*``."""
    width = max([len("task"), *(len(f"{c.ref.domain}/{c.ref.task_id}") for c in counts)])
    lines = [f"{'task'.ljust(width)}  successes  rate  selected"]
    for c in counts:
        rate = "n/a" if c.success_rate is None else f"{100 * c.success_rate:.0f}%"
        lines.append(
            f"{f'{c.ref.domain}/{c.ref.task_id}'.ljust(width)}  "
            f"{f'{c.successes}/{c.valid}':>9}  {rate:>4}  {'*' if c.selected else ''}"
        )
    return "\n".join(lines)
