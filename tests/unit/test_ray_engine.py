"""The Ray engine on a local Ray instance (2 CPUs, 2 actors) against the local engine, on the same
small folder: the same feature records to the byte (their region embeddings within a rounding
step), the same proposals, concepts learned from the project's boxes included."""
from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from support import SAMPLES, make_gizmo_photos

pytest.importorskip("ray", reason="Ray is not installed (pip install 'grounding-desktop[cluster]')")


@pytest.mark.model
def test_the_ray_engine_gives_what_the_local_engine_gives(tmp_path):
    from grounding_desktop.folder.engine import LocalEngine
    from grounding_desktop.folder.ray_engine import RayEngine
    from grounding_desktop.grounder_factory import make_grounder
    from grounding_desktop.grounding.scoring.concepts import LabelledBox
    from grounding_desktop.grounding.features import ImageFeatures
    from grounding_desktop.io.scan import quick_hash
    from grounding_desktop.project_concepts import Lesson

    folder = tmp_path / "photos"
    gizmos = make_gizmo_photos(folder, count=3)
    with Image.open(SAMPLES / "chelsea.jpg") as im:
        im.convert("RGB").resize((320, 240)).save(folder / "cat.jpg")
    Image.fromarray(np.random.default_rng(2).integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(folder / "noise.png")
    paths = [str(p) for p, _ in gizmos] + [str(folder / "cat.jpg"), str(folder / "noise.png")]

    grounder = make_grounder("cpu", cache_size=8)
    # What the project's boxes teach: the gizmo boxed on the first two pictures.
    lessons = []
    for i, (path, box) in enumerate(gizmos[:2]):
        made = grounder.learn(str(path), [LabelledBox(i + 1, "the gizmo", box, True)])
        lessons.append(Lesson(str(path), Image.open(path).size,
                              tuple(LabelledBox(e.example_id, "the gizmo", e.bbox, True, e.embedding, e.context)
                                    for e in made),
                              look=False))
    local = LocalEngine(grounder)
    items = [(quick_hash(p, os.path.getsize(p)), p) for p in paths]  # filed under their content's hash
    local_features = [r for batch in local.features(items, 2) for r in batch]
    records = [(key, path, data) for (key, data, _), (_, path) in zip(local_features, items)]
    phrases = ["the cat", "the gizmo", "the striped things"]
    local_answers = [r for batch in local.propose(records, phrases, 0.0, 2) for r in batch]

    engine = RayEngine(workers=2, num_cpus=2, device="cpu", lessons=lessons)
    try:
        assert engine.features_version == grounder.features_version
        ray_features = sorted(r for batch in engine.features(items, 2) for r in batch)
        ray_answers = sorted(r for batch in engine.propose(records, phrases, 0.0, 2) for r in batch)
    finally:
        engine.close()

    def parts(results):
        """Each record to the byte but what the second CNN gave, and that: its float sums may
        round an int8 embedding value, or a crop's float16 kind probability, the other way in
        another process (and so swap two kinds of equal probability)."""
        out = []
        for key, data, error in results:
            f = ImageFeatures.from_bytes(data)
            kinds = np.zeros((len(f.classified), 1000))
            np.put_along_axis(kinds, f.kind_ids.astype(np.int64), f.kind_probs.astype(np.float64), 1)
            out.append(((key, replace(f, embeddings=np.zeros_like(f.embeddings), kind_ids=np.zeros_like(f.kind_ids),
                                      kind_probs=np.zeros_like(f.kind_probs)).to_bytes(), error),
                        f.embeddings.astype(np.int16), kinds))
        return out

    assert all(data for _, data, _ in ray_features)
    ray_parts, local_parts = parts(ray_features), parts(sorted(local_features))
    assert [r for r, _, _ in ray_parts] == [r for r, _, _ in local_parts]
    assert all(np.abs(a - b).max(initial=0) <= 1 for (_, a, _), (_, b, _) in zip(ray_parts, local_parts))
    assert all(np.allclose(a, b, rtol=2e-3, atol=1e-4) for (_, _, a), (_, _, b) in zip(ray_parts, local_parts))

    def boxes(answers):
        return sorted((key, phrase, [(p.bbox, p.score, p.label, p.explanation) for p in found])
                      for key, per_phrase in answers for phrase, found in per_phrase)

    assert boxes(ray_answers) == boxes(local_answers)
    gizmo_on_third = dict(dict(local_answers)[items[2][0]])["the gizmo"]
    assert gizmo_on_third and "learned from 2" in gizmo_on_third[0].explanation


def test_more_workers_than_the_cluster_has_slots_is_refused_at_once():
    """Ray would start the actors that fit and wait forever for the others."""
    from grounding_desktop.folder.engine import EngineError
    from grounding_desktop.folder.ray_engine import RayEngine

    with pytest.raises(EngineError, match="--workers 3: the Ray cluster has 1 CPU, one model copy each"):
        RayEngine(workers=3, num_cpus=1, device="cpu")
    import ray

    assert not ray.is_initialized()  # the Ray it started is shut down
