"""Which ImageNet kinds a category noun names: what ships (``imagenet.kinds_for``: the kinds WordNet
files under the noun's senses, each by its sense's share of the noun's uses, and for its other uses
the embedding's weights) against weighing each kind by how close its name comes to the noun's
MiniLM embedding alone (what decided every noun before). No image is
needed: the table shows, for the kinds WordNet files under one of the noun's senses, the weight
each way gives them, and how much of the embedding's weight goes to other kinds. WordNet is a
dictionary, not the truth about a picture: a rare sense is filed as faithfully as a common one,
which is why each sense counts by how often the word means it.

    .venv/bin/python benchmarks/imagenet_kinds.py [NOUN ...]

A region's ImageNet evidence for a noun is sum(weight of kind x probability of kind): a mean
weight of 0.07 on the monkeys means a crop ImageNet is sure shows a baboon gives "the monkey" 0.07.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

NOUNS = ("wheel plant toy monkey snake butterfly fish lizard spider turtle shark beetle frog guitar hat "
         "shoe ball fruit "
         "tool bag bottle phone clock keyboard tie bear bird cat dog car truck boat bus chair").split()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("nouns", nargs="*", default=NOUNS)
    args = ap.parse_args(argv)
    from grounding_desktop.core.phrase_parse import parse_phrase
    from grounding_desktop.grounding.detectors.ssd_weights import cache_dir
    from grounding_desktop.grounding.recognition import imagenet
    from grounding_desktop.grounding.text.encoder import PhraseEncoder

    prototypes = imagenet.imagenet_prototypes(PhraseEncoder(device="cpu"), cache_dir())
    print(f"{'noun':<10} {'kinds':>5}  shipped (WordNet's senses, the embedding for the other uses): "
          "mean weight on them | embedding alone: mean weight on them, share of weight elsewhere, top kind")
    covers, elsewhere, shipped = [], [], []
    for noun in args.nouns:
        phrase = parse_phrase(f"the {noun}").subject
        named = imagenet.named_kinds(phrase)  # (word, WordNet's weights, its senses' share)
        if named is None:
            print(f"{noun:<10}     -  WordNet files no ImageNet kind under it")
            continue
        under = named[1] > 0
        by_embedding = imagenet.kinds_by_embedding(prototypes, phrase)
        w = by_embedding.weights.astype(np.float64)
        covers.append(w[under].mean())
        elsewhere.append(w[~under].sum() / max(w.sum(), 1e-12))
        ships = imagenet.kinds_for(prototypes, phrase).weights
        shipped.append(ships[under].mean())
        print(f"{noun:<10} {int(under.sum()):5d}  {ships[under].mean():.2f} | {covers[-1]:.2f}  "
              f"{elsewhere[-1]:.2f}  {by_embedding.label}")
    if covers:
        print(f"median over {len(covers)} nouns: shipped {np.median(shipped):.2f}; the embedding alone "
              f"{np.median(covers):.2f} / {np.median(elsewhere):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
