"""The feature pass on a local Ray instance with 1 and 2 workers against the local engine, on the
same images, in the same run.

Each measurement is ``run_feature_pass`` into a fresh features file, end to end: for Ray that
includes starting the actors and loading the model in each (Ray Data starts them per pass). Two
folders, of N and 2N images, separate that fixed cost from the rate: "end to end" is 2N over the
time for 2N, "steady" is N over the difference of the two times. Ray gets ``--cpus`` CPUs
(default: the machine's). Prints medians of images per second and the ratios to the local engine.

    .venv/bin/python benchmarks/ray_engine.py [--images 96] [--runs 3] [--cpus N]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=96, help="N")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cpus", type=int, default=os.cpu_count())
    args = parser.parse_args(argv)

    from feature_pass import make_folder
    from grounding_desktop.folder.engine import LocalEngine
    from grounding_desktop.folder.feature_pass import run_feature_pass
    from grounding_desktop.folder.ray_engine import RayEngine
    from grounding_desktop.grounder_factory import make_grounder
    from grounding_desktop.project import open_project
    from grounding_desktop.store.features import FeatureStore

    work = Path(tempfile.mkdtemp(prefix="ray_engine_"))
    try:
        folders = {}
        for n in (args.images, 2 * args.images):
            make_folder(work / f"photos{n}", n)
            folders[n], _ = open_project(work / f"photos{n}")
        grounder = make_grounder("cpu")
        local = LocalEngine(grounder)
        ray = RayEngine(num_cpus=args.cpus, device="cpu")  # starts Ray once; workers set per run below

        def seconds(engine, n: int) -> float:
            features_file = work / "features.sqlite"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{features_file}{suffix}").unlink(missing_ok=True)
            start = time.perf_counter()
            with FeatureStore(features_file) as features:
                report = run_feature_pass(folders[n], features, engine)
            assert report.prepared == n, report
            return time.perf_counter() - start

        seconds(local, args.images)  # warm-up
        n = args.images
        ends: dict[str, list[float]] = {}
        steady: dict[str, list[float]] = {}
        for _ in range(args.runs):
            for name, workers in (("local", 0), ("ray, 1 worker", 1), ("ray, 2 workers", 2)):
                engine = local if not workers else ray
                ray.workers = workers or ray.workers
                small, big = seconds(engine, n), seconds(engine, 2 * n)
                ends.setdefault(name, []).append(2 * n / big)
                steady.setdefault(name, []).append(n / max(big - small, 1e-9))
        ray.close()
        for store in folders.values():
            store.close()
        print(f"{n} and {2 * n} images, {args.runs} runs each, Ray with {args.cpus} CPUs, "
              f"load average {os.getloadavg()[0]:.2f}")
        base_end, base_steady = statistics.median(ends["local"]), statistics.median(steady["local"])
        for name in ends:
            e, st = statistics.median(ends[name]), statistics.median(steady[name])
            print(f"{name:<16} end to end {e:6.1f} images/s ({e / base_end:.2f} x local)   "
                  f"steady {st:6.1f} images/s ({st / base_steady:.2f} x local)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
