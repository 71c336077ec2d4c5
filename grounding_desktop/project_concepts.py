"""Teaching the Grounder what a project's labelled boxes show: the app does it when a project opens
and after every edit of an image, ``ground --project`` and ``evaluate`` before they ground.

The boxes are the truth (``store``); the Grounder's concepts are rebuilt from them. A region
embedding costs a pass of the second CNN over the image, so each one is kept in the project
database (``box_embeddings``) and a reopened project needs no image work for the boxes it knows.
Wired here because ``grounding`` does not import ``store``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Optional

from .core import Box, BoxState, Expression, ImageReadError, ImageRecord
from .store import ProjectStore

Progress = Optional[Callable[[int, int], None]]


def image_key(store: ProjectStore, record: ImageRecord) -> str:
    """The key the Grounder knows an image by: its path (what the app prepares it as)."""
    return str(Path(store.root) / record.path)


def labelled_boxes(annotations: Iterable[tuple[Expression, list[Box]]], known: dict):
    """The accepted and rejected boxes of an image as ``grounding.concepts.LabelledBox``es, each
    with its stored embedding when that was made for the box as it is now."""
    from .grounding.concepts import LabelledBox, embedding_from_bytes

    out = []
    for expr, boxes in annotations:
        for b in boxes:
            if b.state == BoxState.PROPOSED:
                continue  # a proposal is not a label
            stored = known.get(b.id)
            vector = embedding_from_bytes(stored[1]) if stored and tuple(stored[0]) == tuple(b.bbox) \
                else None
            out.append(LabelledBox(b.id, expr.text, tuple(b.bbox), b.state == BoxState.ACCEPTED, vector))
    return out


def teach_image(grounder, store: ProjectStore, record: ImageRecord,
                annotations: Optional[list] = None, known: Optional[dict] = None,
                look: bool = True) -> bool:
    """Make the Grounder's examples of ``record`` its labelled boxes now, and store the embeddings
    it had to make. With ``look`` False only boxes whose embedding is stored teach (no image work);
    returns whether some box still waits for a look at the image."""
    if annotations is None:
        annotations = store.annotations(record.id)
    if known is None:
        known = store.box_embeddings(grounder.embedding_model, [b.id for _, bs in annotations for b in bs])
    boxes = labelled_boxes(annotations, known)
    stored = [b for b in boxes if b.embedding is not None]
    key, size = image_key(store, record), (record.width, record.height)
    if not look:
        grounder.learn(key, stored, size=size)
        return len(stored) < len(boxes)
    try:
        made = grounder.learn(key, boxes, size=size)
    except ImageReadError:  # the file is gone or broken: only what is stored can teach
        grounder.learn(key, stored, size=size)
        return False
    if made:
        from .grounding.concepts import embedding_bytes

        store.set_box_embeddings(grounder.embedding_model,
                                 [(e.example_id, e.bbox, embedding_bytes(e.embedding)) for e in made])
    return False


def teach_project(grounder, store: ProjectStore, progress: Progress = None,
                  cancelled: Optional[Callable[[], bool]] = None,
                  phrases: Optional[Iterable[str]] = None, look: bool = True) -> list[int]:
    """Teach the Grounder this project's boxes, and nothing else it knew: every image that has
    labelled boxes (only boxes of ``phrases``' concepts, if given). With ``look`` False, only what
    the database keeps (no image work: what the app does first, so a project whose boxes were
    never embedded does not hold up the first proposal); returns the ids of the images whose
    boxes still wait for a look (``teach_image``)."""
    grounder.concepts.clear()
    known = store.box_embeddings(grounder.embedding_model)
    labelled = _labelled_images(store, phrases)
    waiting = []
    for i, (record, annotations) in enumerate(labelled):
        if cancelled is not None and cancelled():
            break
        if teach_image(grounder, store, record, annotations, known, look):
            waiting.append(record.id)
        if progress is not None:
            progress(i + 1, len(labelled))
    return waiting


def stored_lessons(store: ProjectStore, model: str, phrases: Optional[Iterable[str]] = None
                   ) -> list[tuple[str, tuple[int, int], list]]:
    """What ``teach_project`` teaches without looking at images, as data another process can
    learn from (``Grounder.learn(key, boxes, size=size)`` each): ``(image key, (width, height),
    labelled boxes with their stored embeddings of ``model``)`` per image."""
    known = store.box_embeddings(model)
    out = []
    for record, annotations in _labelled_images(store, phrases):
        boxes = [b for b in labelled_boxes(annotations, known) if b.embedding is not None]
        if boxes:
            out.append((image_key(store, record), (record.width, record.height), boxes))
    return out


def _labelled_images(store: ProjectStore, phrases: Optional[Iterable[str]]
                     ) -> list[tuple[ImageRecord, list[tuple[Expression, list[Box]]]]]:
    """Every image with phrases (missing files too: their stored embeddings still teach), with
    its annotations (only those of ``phrases``' concepts, if given)."""
    from .grounding.concepts import ConceptKey
    from .grounding.phrase_parse import parse_phrase

    nouns = None if phrases is None else \
        {k.noun for k in (ConceptKey.of(parse_phrase(p)) for p in phrases) if k is not None}
    by_image = store.all_annotations()
    out = []
    for record in store.images(include_missing=True):
        annotations = by_image.get(record.id)
        if annotations and nouns is not None:
            annotations = [(e, bs) for e, bs in annotations
                           if (k := ConceptKey.of(parse_phrase(e.text))) is not None and k.noun in nouns]
        if annotations:
            out.append((record, annotations))
    return out
