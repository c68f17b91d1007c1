"""The envs of an evaluation: specs, factories by name, an early check, and request tracking.

``make_env_factory`` builds envs by name (minidesk in process, osworld through env servers,
miniwob where installed); ``check_env`` fails early, in one line, on an env that cannot be made or
a task id it does not know. ``TrackedEnv`` and ``EnvTracker`` let a policy that needs more than the
rollout's ``TurnRequest`` (the scripted expert, an OpenAI-compatible endpoint) find the request's
env.
"""

from __future__ import annotations

import importlib.metadata
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rllib_arpo.evaluation.errors import EvalError
from rllib_arpo.rollout.tasks import TaskRef

ENV_CHOICES = ("minidesk", "osworld", "miniwob")
"""Env names ``arpo eval`` knows."""
MINIWOB_ENTRY_POINT = ("rllib.envs", "miniwob")
"""(group, name) of the installed MiniWoB++ env's entry point."""


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
    """The envs of ``spec``.

    Args:
        spec: Which env and its settings.

    Returns:
        (zero-arg env factory, most envs that may exist at once or None for no limit).

    Raises:
        EvalError: unknown env name, an env that is not available here, osworld without servers.
    """
    if spec.name == "minidesk":
        from envs import make_minidesk

        config: dict[str, Any] = {"screen_size": spec.screen_size, "max_steps": spec.max_steps}
        if spec.task_dir:
            check_task_dir(spec.task_dir)
            config["task_dir"] = spec.task_dir
        return (lambda: make_minidesk(config)), None
    if spec.name == "osworld":
        if not spec.server_urls:
            raise EvalError("--env osworld needs --server-url (one env server per parallel env)")
        return _osworld_factory(spec), len(spec.server_urls)
    if spec.name == "miniwob":
        creator = _miniwob_creator()
        return (lambda: creator({"max_steps": spec.max_steps})), None
    raise EvalError(f"unknown env {spec.name!r}; choose one of: {', '.join(ENV_CHOICES)}")


def check_task_dir(task_dir: str | Path) -> None:
    """Fails in one line on a ``--task-dir`` that MiniDesk cannot read tasks from.

    The layout is detected (``envs.minidesk.tasks.detect_layout``): OSWorld's
    ``evaluation_examples`` (``examples/<domain>/<id>.json``) or test_data
    (``tasks/<id>.json``); its index files ``test_*.json`` are read and checked here. Task files
    are checked when their task runs: a bad one is its episodes' error, not the run's.

    Args:
        task_dir: The ``--task-dir`` value.

    Raises:
        EvalError: the directory is missing or not a directory, an index file is bad (the message
            names it), or no task file is found in either layout.
    """
    from envs.minidesk.tasks import TaskError, TaskSet

    path = Path(task_dir)
    try:
        is_dir = path.is_dir()
        exists = is_dir or path.exists()
    except OSError as error:
        raise EvalError(f"--task-dir {task_dir} cannot be read: {error.strerror}") from None
    if not exists:
        raise EvalError(f"task directory {task_dir} does not exist")
    if not is_dir:
        raise EvalError(f"--task-dir {task_dir} is not a directory")
    try:
        tasks = TaskSet(path)
    except TaskError as error:
        raise EvalError(f"--task-dir {task_dir}: {error}") from None
    if not len(tasks):
        raise EvalError(
            f"--task-dir {task_dir} holds no task files: expected tasks/<id>.json (test_data) "
            "or examples/<domain>/<id>.json (OSWorld's evaluation_examples)"
        )


def _osworld_factory(spec: EnvSpec) -> Callable[[], Any]:
    """OSWorld envs, the n-th made talking to server ``n`` (mod the number of servers)."""
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

    return make_osworld


def _miniwob_creator() -> Callable[[dict], Any]:
    """The ``rllib.envs`` entry point "miniwob", else ``envs.miniwob.make_rllib_env``."""
    group, name = MINIWOB_ENTRY_POINT
    for entry in importlib.metadata.entry_points(group=group):
        if entry.name == name:
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


def check_env(
    env_factory: Callable[[], Any], env_name: str, refs: Sequence[TaskRef]
) -> dict[TaskRef, str]:
    """Fails early with one line on an env that cannot be made, or an unknown task id.

    A task the env knows but cannot load (a task file that breaks the schema or cannot be read)
    does not stop the run: it is returned, and its episodes end as env errors that record why.

    Args:
        env_factory: Makes one env (one is made and closed again).
        env_name: The env's name, for the message.
        refs: The tasks to run; checked where the env resolves ids itself (MiniDesk).

    Returns:
        The tasks that cannot be loaded -> why (the message names the task's file).

    Raises:
        EvalError: the env cannot be made (no browser, no server), or a task id is unknown.
    """
    try:
        env = env_factory()
    except EvalError:
        raise
    except Exception as error:  # noqa: BLE001 - any failure here is the user's setup
        raise EvalError(f"cannot create env {env_name!r}: {error}") from None
    problems: dict[TaskRef, str] = {}
    try:
        resolve = getattr(getattr(env, "unwrapped", env), "resolve_task", None)
        if resolve is None:
            return problems
        from envs.minidesk.tasks import TaskError

        for ref in refs:
            try:
                resolve(ref.task_id)
            except TaskError as error:  # the task's own file: its episodes' error
                problems[ref] = " ".join(str(error).split())
            except (KeyError, ValueError) as error:  # an id the env does not know
                message = error.args[0] if error.args else str(error)
                raise EvalError(f"task {ref.domain}/{ref.task_id}: {message}") from None
    finally:
        env.close()
    return problems


class TrackedEnv:
    """An env that remembers its current episode's answers, for policies that need the env.

    The scripted expert reads the live desktop, and an OpenAI-compatible endpoint needs the text
    of earlier answers (it returns no token ids): the rollout's ``TurnRequest`` carries neither,
    so each request is matched to its env by its last screenshot, the very array this env
    returned (``EnvTracker.env_for``).

    Args:
        env: The env to wrap (every other attribute is read from it).
        tracker: Told of every observation this env returns.
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
        """The env's reset; starts a new answer history. A failure is noted with the tracker
        under the task it was for (``EnvTracker.reset_error``) and raised again."""
        try:
            observation, info = self.env.reset(**kwargs)
        except Exception as error:
            task = (kwargs.get("options") or {}).get("task")
            self.tracker.note_reset_error(task, error)
            raise
        self.history = []
        self.tracker.record(self, observation)
        return observation, info

    def step(self, action: str) -> tuple[Any, float, bool, bool, dict]:
        """The env's step; its screenshot now maps to this env."""
        observation, reward, terminated, truncated, info = self.env.step(action)
        self.tracker.record(self, observation)
        return observation, reward, terminated, truncated, info

    def close(self) -> None:
        """Forgets this env's screenshot and closes the env."""
        self.tracker.forget(self)
        self.env.close()


class EnvTracker:
    """Maps the screenshot arrays envs returned to the envs (see ``TrackedEnv``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_screen: dict[int, tuple[Any, TrackedEnv]] = {}
        self._screen_of: dict[int, int] = {}
        self._reset_errors: dict[str, str] = {}

    def note_reset_error(self, task: Any, error: BaseException) -> None:
        """Keeps why a reset to ``task`` failed (the last failure per task id).

        Args:
            task: The task the reset was for (an id, or a dict with an ``id``).
            error: What the env raised.
        """
        with self._lock:
            self._reset_errors[_task_key(task)] = f"{type(error).__name__}: {error}"

    def reset_error(self, task: Any) -> str | None:
        """Why the last failed reset to ``task`` failed, or None.

        Args:
            task: A task id (or a dict with an ``id``).
        """
        with self._lock:
            return self._reset_errors.get(_task_key(task))

    def wrap(self, env: Any) -> TrackedEnv:
        """``env`` tracked by this tracker.

        Args:
            env: A Gymnasium env whose observations are screenshots or ``{"screenshot": ...}``.
        """
        return TrackedEnv(env, self)

    def record(self, env: TrackedEnv, observation: Any) -> None:
        """Maps ``observation``'s screenshot to ``env`` (its earlier one is forgotten).

        Args:
            env: The env that returned ``observation``.
            observation: A screenshot array or a dict with one under ``"screenshot"``.
        """
        screen = observation.get("screenshot") if isinstance(observation, dict) else observation
        with self._lock:
            self._drop(env)
            # The array is kept alive here, so its id cannot be reused while it is mapped.
            self._by_screen[id(screen)] = (screen, env)
            self._screen_of[id(env)] = id(screen)

    def forget(self, env: TrackedEnv) -> None:
        """Drops ``env``'s screenshot (the env is closing).

        Args:
            env: A tracked env.
        """
        with self._lock:
            self._drop(env)

    def env_for(self, screenshot: Any) -> TrackedEnv:
        """The env that returned ``screenshot`` (the very object, not an equal copy).

        Args:
            screenshot: A request's last screenshot.

        Raises:
            RuntimeError: no tracked env returned it.
        """
        with self._lock:
            entry = self._by_screen.get(id(screenshot))
        if entry is None or entry[0] is not screenshot:
            raise RuntimeError("a request's screenshot was not returned by any tracked env")
        return entry[1]

    def _drop(self, env: TrackedEnv) -> None:
        old = self._screen_of.pop(id(env), None)
        if old is not None:
            self._by_screen.pop(old, None)


def _task_key(task: Any) -> str:
    return str(task.get("id", "?")) if isinstance(task, dict) else str(task)
