"""Import a RefCOCO-style folder (what ``refcoco.py`` writes, and the refer API's datasets):
``refs.json`` (or ``refs(unc).p`` and the like) beside ``instances.json``. Every sentence of a ref
is a phrase of the ref's image with the ref's annotation box; sentences with the same text on one
image are one phrase with all their boxes. The ``raw`` sentence is the phrase (``sent`` when
there is no ``raw``).

A pickle can run code when it is loaded, so ``refs(...).p`` is read with an unpickler that
refuses every class: RefCOCO's refs are plain lists, dicts, strings and numbers.
"""
from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

from ..core import shown
from .import_checks import ImageMatcher, Problems, box_from, checked_box, clean_text, entry_name, is_id
from .import_files import parse_json, read_bytes, read_text
from .import_plan import ImportPlan, ImportRequest, PlannedPhrase, finish_plan, importer
from .import_summary import ImportSummary
from .refcoco import INSTANCES_NAME, REFS_NAME

__all__ = ["import_refcoco", "plan_refcoco"]



class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: refs hold only plain data")


def _read_refs(folder: Path, max_bytes: int, problem: Problems) -> Any:
    json_path = folder / REFS_NAME
    if json_path.exists():
        return parse_json(read_text(json_path, max_bytes), str(json_path))
    pickles = sorted(folder.glob("refs(*).p"))
    if not pickles:
        raise problem.fatal(f"no {REFS_NAME} or refs(...).p in the folder")
    data = read_bytes(pickles[0], max_bytes, "pickle file", starts=b"\x80(]}")
    try:
        return _PlainUnpickler(io.BytesIO(data), encoding="latin1").load()
    except Exception as exc:  # a corrupt or hostile pickle: any error is "unreadable", one line
        raise problem.fatal(f"{pickles[0].name}: not a readable refs pickle ({type(exc).__name__}: {exc})") from None


def plan_refcoco(req: ImportRequest) -> ImportPlan:
    folder = Path(req.path)
    problem = Problems(req.path)
    if not folder.is_dir():
        raise problem.fatal("a RefCOCO import reads a folder (refs.json or refs(unc).p, and instances.json)")
    refs = _read_refs(folder, req.max_bytes, problem)
    instances_path = folder / INSTANCES_NAME
    instances = parse_json(read_text(instances_path, req.max_bytes), str(instances_path))
    if not isinstance(refs, list):
        raise problem.fatal("the refs must be a list")
    if not isinstance(instances, dict) or not isinstance(instances.get("images"), list) \
            or not isinstance(instances.get("annotations"), list):
        raise problem.fatal(f"{INSTANCES_NAME} needs 'images' and 'annotations' lists")
    summary = ImportSummary(file=req.path, flavour="refcoco", as_proposals=req.as_proposals)
    req.ticker.set_total(len(refs))
    file_names = {im.get("id"): im.get("file_name") for im in instances["images"]
                  if isinstance(im, dict) and is_id(im.get("id"))}
    anns = {a.get("id"): a for a in instances["annotations"] if isinstance(a, dict) and is_id(a.get("id"))}
    matcher = ImageMatcher(req.store.images.all())
    phrases: dict[tuple[int, str], PlannedPhrase] = {}
    for k, ref in enumerate(refs):
        req.ticker.step()
        where = entry_name("refs", k, ref)
        if not isinstance(ref, dict):
            problem(f"{where}: must be an object")
            continue
        ann_id = ref.get("ann_id")
        if not is_id(ann_id):
            problem(f"{where}: 'ann_id' must be an integer or a short string, got {shown(ann_id)}")
            continue
        ann = anns.get(ann_id)
        if ann is None:
            problem(f"{where}: ann_id {shown(ann_id)} is not in {INSTANCES_NAME}")
            continue
        image_id = ann.get("image_id")
        img = matcher.usable(file_names.get(image_id) if is_id(image_id) else None,
                             f"{where}: image {shown(image_id)}", problem)
        bbox = None if img is None else checked_box(ann.get("bbox"), img, f"{where}: annotation {shown(ann['id'])}", problem)
        box = None if bbox is None else box_from(ann, bbox, req.as_proposals, where, problem)
        sentences = ref.get("sentences")
        if box is None:
            continue
        if not isinstance(sentences, list) or not sentences:
            problem(f"{where}: needs a non-empty 'sentences' list")
            continue
        for s, sent in enumerate(sentences):
            raw = sent.get("raw", sent.get("sent")) if isinstance(sent, dict) else None
            text = clean_text(raw, "sentence", f"{where}, sentences[{s}]", problem, summary)
            if text is None:
                continue
            phrase = phrases.setdefault((img.id, text), PlannedPhrase(img.id, text))
            if all(b.bbox != box.bbox for b in phrase.boxes):
                phrase.boxes.append(box)
    problem.raise_if_any()
    return finish_plan(list(phrases.values()), set(), summary)


import_refcoco = importer(plan_refcoco, "RefCOCO folder")
