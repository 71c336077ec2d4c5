"""The folder's model work on a Ray cluster (``--engine ray [--address ADDR]``), an optional extra:
``pip install 'grounding-desktop[cluster]'`` on the machine that runs the command and on every node.

Ray Data ``map_batches`` runs the batches on actors that each build the model once
(``grounder_factory.make_grounder``), one GPU each when the cluster has GPUs, else one CPU each.
Rows carry image paths, so every node must see the folder at the same path (a shared filesystem;
on one machine it simply does). Answers stream back to this process, the one writer of the
project database and the features file. Nothing of the app imports this module.
"""
from __future__ import annotations

import json
import logging
import os
import socket
from typing import Iterator, Optional, Sequence

import numpy as np

from ..core import Proposal
from .engine import EngineError, FeatureResult, ProposeResult, feature_results, propose_results


class _Worker:
    """One actor: the model, built once, and what the project's boxes taught it."""

    def __init__(self, settings: dict, lessons: Sequence = ()) -> None:
        from ..grounder_factory import make_grounder
        from ..project_concepts import teach

        self.grounder = make_grounder(settings["device"], cache_size=1, detector=settings["detector"])
        teach(self.grounder, lessons)  # project_concepts.Lessons of stored embeddings: no image work


class _FeatureWorker(_Worker):
    def __call__(self, batch: dict) -> dict:
        results = feature_results(self.grounder, list(zip(batch["key"], (str(p) for p in batch["path"]))))
        return {"key": np.array([k for k, _, _ in results], dtype=object),
                "data": np.array([d or b"" for _, d, _ in results], dtype=object),
                "error": np.array([e or "" for _, _, e in results], dtype=object)}


class _ProposeWorker(_Worker):
    def __init__(self, settings: dict, lessons: Sequence, phrases: Sequence[str], min_score: float) -> None:
        super().__init__(settings, lessons)
        self.phrases, self.min_score = list(phrases), min_score

    def __call__(self, batch: dict) -> dict:
        items = [(str(k), str(p), bytes(d)) for k, p, d in zip(batch["key"], batch["path"], batch["data"])]
        results = propose_results(self.grounder, items, self.phrases, self.min_score)
        return {"key": np.array([k for k, _ in results], dtype=object),
                "answers": np.array([json.dumps([[phrase, [_proposal_row(p) for p in found]]
                                                  for phrase, found in answers]) for _, answers in results],
                                    dtype=object)}


def _check_reachable(address: Optional[str], timeout_s: float = 5.0) -> None:
    """A ``HOST:PORT`` or ``ray://HOST:PORT`` address nothing answers at is a clear error now:
    Ray itself would keep trying to connect for minutes."""
    if not address or ":" not in address.removeprefix("ray://"):
        return  # none (start Ray here) or "auto": Ray answers at once
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except (OSError, ValueError) as exc:
        raise EngineError(f"cannot reach the Ray cluster at {address}: "
                          f"{getattr(exc, 'strerror', None) or exc}") from exc


def _reason(exc: BaseException, first: bool = False) -> str:
    """An exception's message on one line: its first, or (a worker's, after Ray's traceback) its
    last."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return (lines[0] if first else lines[-1]) if lines else type(exc).__name__


def _version(settings: dict) -> str:
    return _Worker(settings).grounder.features_version


def _proposal_row(p: Proposal) -> list:
    return [list(p.bbox), p.score, p.label, p.explanation, p.model_version]


def _proposal(row: list) -> Proposal:
    bbox, score, label, explanation, version = row
    return Proposal(bbox=tuple(bbox), score=score, label=label, explanation=explanation, model_version=version)


class RayEngine:
    """``engine.Engine`` on Ray: ``address`` None starts a Ray instance on this machine (all its
    CPUs and GPUs unless ``num_cpus`` says), "auto" or "ray://HOST:10001" joins a cluster.
    ``workers`` actors (default: one per GPU, else one per CPU; more than that is an EngineError)."""

    def __init__(self, address: Optional[str] = None, workers: Optional[int] = None,
                 device: Optional[str] = None, detector=None, lessons: Sequence = (),
                 num_cpus: Optional[int] = None) -> None:
        try:
            import ray
        except ImportError as exc:
            raise EngineError("--engine ray needs Ray: pip install 'grounding-desktop[cluster]'") from exc
        self._ray = ray
        self._started = not ray.is_initialized()
        # Ray's core logs to stderr notes meant for its developers (that Ray Data's actors are
        # restartable, say); errors that matter come back as exceptions.
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
        if self._started:
            _check_reachable(address)
            try:
                ray.init(address=address, num_cpus=num_cpus, include_dashboard=False, log_to_driver=False,
                         logging_level=logging.ERROR, configure_logging=True)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise EngineError(f"cannot reach the Ray cluster at {address}: {_reason(exc, first=True)}") from exc
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        for name in ("ray", "ray.data"):
            logging.getLogger(name).setLevel(logging.ERROR)
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        self._per_actor = {"num_gpus": 1} if gpus else {"num_cpus": 1}
        slots = max(1, gpus or int(resources.get("CPU", 1)))
        if workers is not None and workers > slots:  # the actors beyond would wait for a slot forever
            self.close()
            raise EngineError(f"--workers {workers}: the Ray cluster has {slots} {'GPU' if gpus else 'CPU'}"
                              f"{'s' if slots != 1 else ''}, one model copy each")
        self.workers = workers or slots
        self._settings = {"device": device if device not in (None, "auto") else ("cuda" if gpus else "cpu"),
                          "detector": detector}
        self._lessons = list(lessons)
        self._version: Optional[str] = None

    @property
    def features_version(self) -> str:
        """Asked of a worker: the cluster's model may run on another backend than this machine's."""
        if self._version is None:
            task = self._ray.remote(_version).options(**self._per_actor)
            try:
                self._version = self._ray.get(task.remote(self._settings))
            except self._ray.exceptions.RayError as exc:
                raise EngineError(f"a Ray worker could not load the model: {_reason(exc)}") from exc
        return self._version

    def _run(self, rows: list[dict], worker, batch_size: int, **kwargs) -> Iterator[dict]:
        if not rows:
            return
        data = self._ray.data.from_items(rows)
        mapped = data.map_batches(worker, fn_constructor_kwargs={"settings": self._settings, **kwargs},
                                  batch_size=batch_size, batch_format="numpy",
                                  compute=self._ray.data.ActorPoolStrategy(size=self.workers), **self._per_actor)
        try:
            yield from mapped.iter_batches(batch_size=None, batch_format="numpy")
        except self._ray.exceptions.RayError as exc:
            raise EngineError(f"the Ray workers failed: {_reason(exc)}") from exc

    def features(self, items: Sequence[tuple[str, str]], batch_size: int) -> Iterator[list[FeatureResult]]:
        for batch in self._run([{"key": k, "path": p} for k, p in items], _FeatureWorker, batch_size):
            yield [(str(k), bytes(d) or None, str(e) or None)
                   for k, d, e in zip(batch["key"], batch["data"], batch["error"])]

    def propose(self, items: Sequence[tuple[str, str, bytes]], phrases: Sequence[str], min_score: float,
                batch_size: int) -> Iterator[list[ProposeResult]]:
        rows = [{"key": k, "path": p, "data": d} for k, p, d in items]
        for batch in self._run(rows, _ProposeWorker, batch_size, lessons=self._lessons,
                               phrases=list(phrases), min_score=min_score):
            yield [(str(k), [(phrase, [_proposal(r) for r in found]) for phrase, found in json.loads(a)])
                   for k, a in zip(batch["key"], batch["answers"])]

    def close(self) -> None:
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()
