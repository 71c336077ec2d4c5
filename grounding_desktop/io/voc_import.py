"""Import Pascal VOC annotations (what ``voc.py`` writes, and labelImg, CVAT, supervision, the VOC
datasets): a VOC folder (its ``Annotations/``) or a folder of ``.xml`` files, one per image.

- the image: ``<path>`` (a project path as ``voc.py`` writes it, or labelImg's absolute path),
  else ``<filename>`` (under the annotation's subfolder), matched as every import matches names.
  ``<size>``, when given, must be the project image's upright size.
- each ``<object>`` is a box of the phrase in its ``<phrase>`` element, else of its ``<name>``;
  ``<bndbox>`` holds the VOC devkit's 1-based inclusive pixel indices (``x = xmin - 1``,
  ``width = xmax - xmin + 1``), as ``voc.py`` and supervision write them.
  ``<not_in_image>`` elements are the image's no-target phrases.
- a file with no object and no ``<not_in_image>`` is a background image: the image is marked
  reviewed (nothing in it to label).

XML is parsed with defusedxml: a file with entity declarations (the "billion laughs"), external
entities or DTDs is refused.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ..core import ImageState
from .errors import ImportFileError
from .import_checks import ImageMatcher, Problems, box_from, checked_box, clean_text, image_size_matches, is_number
from .import_files import read_bytes
from .import_plan import ImportPlan, ImportRequest, PlannedPhrase, finish_plan, importer
from .import_summary import ImportSummary
from .voc import ANNOTATIONS, NOT_IN_IMAGE, PHRASE

__all__ = ["import_voc", "plan_voc"]


def _annotation_files(folder: Path, problem: Problems) -> tuple[Path, list[Path]]:
    if not folder.is_dir():
        raise problem.fatal("not found" if not folder.exists() else
                            "a VOC import reads a folder (with Annotations/, or of .xml files)")
    if (folder / ANNOTATIONS).is_dir():
        folder = folder / ANNOTATIONS
    files = sorted(p for p in folder.rglob("*.xml") if p.is_file())
    if not files:
        raise problem.fatal(f"no .xml annotation in {folder}")
    return folder, files


def _number(el: Optional[Element], tag: str) -> Optional[float]:
    child = el.find(tag) if el is not None else None
    try:
        v = float((child.text or "").strip()) if child is not None else None
    except ValueError:
        return None
    return v if is_number(v) else None


def _read(path: Path, max_bytes: int, where: str, problem: Problems) -> Optional[Element]:
    try:
        root = fromstring(read_bytes(path, max_bytes, "VOC XML file", starts=b"<"))
    except ImportFileError as exc:
        problem(exc.problems[0])
        return None
    except ParseError as exc:
        problem(f"{where}: malformed XML: {exc}")
        return None
    except DefusedXmlException as exc:
        problem(f"{where}: refused: {exc}")
        return None
    if root.tag != "annotation":
        problem(f"{where}: not a VOC annotation (its root element is <{root.tag[:40]}>)")
        return None
    return root


def plan_voc(req: ImportRequest) -> ImportPlan:
    problem = Problems(req.path)
    folder, files = _annotation_files(Path(req.path), problem)
    summary = ImportSummary(file=req.path, flavour="voc", as_proposals=req.as_proposals)
    matcher = ImageMatcher(req.store.images.all())
    req.ticker.set_total(len(files))
    phrases: dict[tuple[int, str], PlannedPhrase] = {}
    reviewed: set[int] = set()
    labelled: dict[int, str] = {}  # project image id -> the annotation file that labels it
    for path in files:
        req.ticker.step()
        rel = path.relative_to(folder).as_posix()
        root = _read(path, req.max_bytes, rel, problem)
        if root is None:
            continue
        img = _image(root, rel, matcher, problem)
        if img is None:
            continue
        if img.id in labelled:
            problem(f"{rel}: its image {img.path} is labelled by {labelled[img.id]} too")
            continue
        labelled[img.id] = rel
        size = root.find("size")
        sized = {"width": _number(size, "width"), "height": _number(size, "height")} if size is not None else {}
        if sized and None in sized.values():
            sized = {}  # labelImg and others leave a size empty or zero when they did not read the image
        if sized and sized["width"] and not image_size_matches(sized, img, img.path, rel, problem):
            continue
        found = False
        for k, obj in enumerate(root.findall("object")):
            where = f"{rel}, object {k + 1}"
            found = True
            label, what = obj.find(PHRASE), PHRASE
            if label is None:
                label, what = obj.find("name"), "name"
            text = clean_text(label.text if label is not None else None, what, where, problem, summary)
            corners = [_number(obj.find("bndbox"), tag) for tag in ("xmin", "ymin", "xmax", "ymax")]
            if None in corners:
                problem(f"{where}: <bndbox> needs four numbers: xmin, ymin, xmax, ymax")
                continue
            xmin, ymin, xmax, ymax = corners
            bbox = checked_box([xmin - 1, ymin - 1, xmax, ymax], img, where, problem, xyxy=True)
            box = None if bbox is None or text is None else box_from({}, bbox, req.as_proposals, where, problem)
            if box is not None:
                phrases.setdefault((img.id, text), PlannedPhrase(img.id, text)).boxes.append(box)
        for absent in root.findall(NOT_IN_IMAGE):
            found = True
            text = clean_text(absent.text, NOT_IN_IMAGE, rel, problem, summary)
            if text is not None:
                phrases.setdefault((img.id, text), PlannedPhrase(img.id, text))
        if not found and not req.as_proposals and img.state != ImageState.REVIEWED:
            reviewed.add(img.id)
    problem.raise_if_any()
    return finish_plan(list(phrases.values()), reviewed, summary)


def _image(root: Element, rel: str, matcher: ImageMatcher, problem: Problems):
    path, filename = (root.findtext(tag, "").strip() for tag in ("path", "filename"))
    subfolder = rel.rsplit("/", 1)[0] + "/" if "/" in rel else ""
    for name in (path, subfolder + filename, filename):
        if name:
            img, _ = matcher.match(name)
            if img is not None:
                return matcher.usable(img.path, rel, problem)
    if not filename and not path:
        problem(f"{rel}: names no image (<filename> or <path>)")
        return None
    return matcher.usable(filename or path, rel, problem)


import_voc = importer(plan_voc, "Pascal VOC folder")
