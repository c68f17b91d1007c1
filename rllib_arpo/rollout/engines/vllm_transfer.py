"""Full weights from the learner into vLLM's workers by a collective broadcast: vLLM's RL
weight transfer (``vllm.distributed.weight_transfer``, vLLM >= 0.32).

The protocol, the same for every backend:

1. once: the learner (rank 0) and every vLLM worker of every engine join one process group
   (``trainer_init``; engine i's workers take ranks ``1 + i * workers .. 1 + (i+1) * workers - 1``);
2. per sync: ``start_weight_update`` on every engine (vLLM prepares a layerwise reload), then
   the learner broadcasts each tensor while every worker receives it and hands it to the
   model's ``load_weights`` (transformers' names mapped onto vLLM's fused layers), then
   ``finish_weight_update`` (each layer's post-load processing runs again: quantization, the
   CPU backend's oneDNN repacking).

Backends:

- ``nccl`` (GPUs): vLLM's own engines, ``NCCLWeightTransferEngine`` in the workers and
  ``NCCLTrainerWeightTransferEngine`` in the learner, packed broadcasts over NCCL. Nothing of
  it is re-written here.
- ``gloo`` (CPUs): the same protocol over a gloo group, defined below because vLLM ships no CPU
  backend. It lets every step of the path except NCCL itself run in CI on a CPU.

The weights are a ``StateSource``: the learner's live tensors, by transformers' names: the
tensors the object-store path (``WeightUpdate``) carries as copies.

Imported inside vLLM's worker processes (``vllm_worker`` registers the gloo backend on import):
it imports only torch and vLLM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import torch
from vllm.distributed.weight_transfer.base import (
    ParamMeta,
    TrainerInitInfo,
    TrainerWeightTransferEngine,
    WeightSource,
    WeightTransferEngine,
    WeightTransferInitInfo,
    WeightTransferUpdateInfo,
)

from rllib_arpo.rollout.engines.base import free_port


class StateSource(WeightSource):
    """A ``WeightSource`` over the learner's live weights: ``state()`` returns them by name, on
    their device, uncopied (``Policy.get_state(live=True)``); read afresh every round."""

    def __init__(self, state: Callable[[], dict[str, torch.Tensor]]) -> None:
        self.state = state

    def metadata(self) -> list[ParamMeta]:
        return [ParamMeta(n, t.dtype, tuple(t.shape)) for n, t in self.state().items()]

    def __iter__(self) -> Iterator[tuple[str, torch.Tensor]]:
        return iter(self.state().items())

    def nbytes(self) -> int:
        """Bytes one round sends (to each engine)."""
        return sum(int(t.numel()) * int(t.element_size()) for t in self.state().values())


def update_info(source: WeightSource) -> dict[str, Any]:
    """What the workers must allocate to receive ``source``: names, dtypes, shapes (in order)."""
    meta = source.metadata()
    return {
        "names": [m.name for m in meta],
        "dtype_names": [str(m.dtype).removeprefix("torch.") for m in meta],
        "shapes": [list(m.shape) for m in meta],
    }


# ---------------------------------------------------------------------------------- gloo: workers


@dataclass(kw_only=True)
class GlooInitInfo(WeightTransferInitInfo):
    """Where a worker joins the group: the learner's address, its rank offset, the group size."""

    master_address: str
    master_port: int
    rank_offset: int
    world_size: int


@dataclass
class GlooUpdateInfo(WeightTransferUpdateInfo):
    """One sync's tensors, in broadcast order."""

    names: list[str]
    dtype_names: list[str]
    shapes: list[list[int]]

    def __post_init__(self) -> None:
        if not len(self.names) == len(self.dtype_names) == len(self.shapes):
            raise ValueError(
                f"names, dtype_names and shapes differ in length: {len(self.names)}, "
                f"{len(self.dtype_names)}, {len(self.shapes)}"
            )


def join_group(address: str, port: int, rank: int, world_size: int) -> Any:
    """A gloo process group of its own (the processes' default groups are left alone)."""
    from vllm.distributed.utils import stateless_init_torch_distributed_process_group

    return stateless_init_torch_distributed_process_group(
        address, port, rank, world_size, backend="gloo"
    )


class GlooWeightTransferEngine(WeightTransferEngine[GlooInitInfo, GlooUpdateInfo]):
    """The worker side: receive each broadcast tensor and load it (layerwise reload)."""

    init_info_cls = GlooInitInfo
    update_info_cls = GlooUpdateInfo

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group: Any = None

    def init_transfer_engine(self, init_info: GlooInitInfo) -> None:
        parallel = self.parallel_config
        rank = (
            init_info.rank_offset
            + parallel.data_parallel_index * parallel.world_size
            + parallel.rank
        )
        self.group = join_group(
            init_info.master_address, init_info.master_port, rank, init_info.world_size
        )

    def start_weight_update(self) -> None:
        from vllm.model_executor.model_loader.reload import initialize_layerwise_reload

        initialize_layerwise_reload(self.model)

    def receive_weights(self, update_info: GlooUpdateInfo) -> None:
        if self.group is None:
            raise RuntimeError("gloo weight transfer: init_transfer_engine was not called")
        for name, dtype_name, shape in zip(
            update_info.names, update_info.dtype_names, update_info.shapes, strict=True
        ):
            tensor = torch.empty(shape, dtype=getattr(torch, dtype_name))
            self.group.broadcast(tensor, 0).wait()
            self.model.load_weights([(name, tensor)])

    def finish_weight_update(self) -> None:
        from vllm.model_executor.model_loader.reload import finalize_layerwise_reload

        finalize_layerwise_reload(self.model, self.model_config)

    def shutdown(self) -> None:
        self.group = None


def register_gloo_backend() -> None:
    """Make ``WeightTransferConfig(backend="gloo")`` resolve (once per process)."""
    from vllm.distributed.weight_transfer.factory import WeightTransferEngineFactory

    if "gloo" not in WeightTransferEngineFactory._registry:
        WeightTransferEngineFactory.register_engine("gloo", GlooWeightTransferEngine)


# ---------------------------------------------------------------------------------- gloo: learner


@dataclass
class GlooTrainerInitInfo(TrainerInitInfo):
    """The learner's end of the gloo group (rank 0, the sender)."""

    backend: ClassVar[str] = "gloo"

    master_address: str
    master_port: int
    world_size: int


class GlooTrainerWeightTransferEngine(TrainerWeightTransferEngine[GlooTrainerInitInfo]):
    """The learner side: open rank 0 while the workers join, then broadcast every tensor."""

    init_info_cls = GlooTrainerInitInfo

    @classmethod
    def trainer_init(
        cls, init_info: GlooTrainerInitInfo, *, client: Any, source: WeightSource | None = None
    ) -> GlooTrainerWeightTransferEngine:
        if source is None:
            raise ValueError("gloo weight transfer needs a WeightSource")
        engine = cls(client=client, source=source, is_sender=init_info.is_sender)
        worker_info = GlooInitInfo(
            master_address=init_info.master_address,
            master_port=init_info.master_port,
            rank_offset=1,
            world_size=init_info.world_size,
        )
        # The workers block in the rendezvous until rank 0 joins: both at once.
        with ThreadPoolExecutor(max_workers=1) as side:
            joined = side.submit(client.init_weight_transfer_engine, asdict(worker_info))
            engine.group = join_group(
                init_info.master_address, init_info.master_port, 0, init_info.world_size
            )
            joined.result()
        return engine

    def send_weights(self) -> None:
        assert self.source is not None
        self.client.start_weight_update()
        side = ThreadPoolExecutor(max_workers=1)
        try:
            received = side.submit(self.client.update_weights, update_info(self.source))
            for _, tensor in self.source:
                self.group.broadcast(tensor.detach().contiguous(), 0).wait()
            received.result()
        finally:
            side.shutdown(wait=False)  # after a failed broadcast the workers never return
        self.client.finish_weight_update()

    def shutdown(self) -> None:
        self.group = None


class LocalClient:
    """vLLM's ``VLLMWeightSyncClient`` protocol over one ``VLLMEngine`` in this process (tests,
    benchmarks; a training run reaches its engine actors through
    ``engine_actors.TransferClient``). ``version`` is what the next update serves."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.version = engine.weight_version
        self.world_size = 1 + engine.settings.tensor_parallel_size

    def init_weight_transfer_engine(self, init_info: dict[str, Any]) -> None:
        self.engine.join_weight_transfer(init_info)

    def start_weight_update(self) -> None:
        self.engine.start_weight_transfer(self.version)

    def update_weights(self, update_info: Any) -> None:
        self.engine.receive_weights(update_info)

    def finish_weight_update(self, weight_version: str | None = None) -> None:
        self.engine.finish_weight_transfer(self.version)


def open_trainer_endpoint(
    backend: str, address: str, client: Any, source: WeightSource
) -> TrainerWeightTransferEngine:
    """The learner's transfer engine for ``backend`` ("nccl": vLLM's; "gloo": the one above),
    joined with every engine's workers (``client`` reaches the engines and knows the group's
    size) through a rendezvous store on a free port of ``address``, this process at rank 0."""
    port, world_size = free_port(address), client.world_size
    if backend == "nccl":
        from vllm.distributed.weight_transfer.nccl_engine import (
            NCCLTrainerInitInfo,
            NCCLTrainerWeightTransferEngine,
        )

        info = NCCLTrainerInitInfo(address, port, world_size, rank=0)
        return NCCLTrainerWeightTransferEngine.trainer_init(info, client=client, source=source)
    if backend == "gloo":
        info = GlooTrainerInitInfo(address, port, world_size, rank=0)
        return GlooTrainerWeightTransferEngine.trainer_init(info, client=client, source=source)
    raise ValueError(f"weight transfer backend must be 'nccl' or 'gloo', got {backend!r}")
