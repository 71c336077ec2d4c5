"""The names of the kinds of thing the model knows, where a name takes more than one word
("traffic light", "black widow", "walking stick", "great white shark"): COCO's class words
(``vocabulary.CLASS_SYNONYMS``) and the WordNet nouns filed above ImageNet-1k's kinds
(``resources/imagenet_taxonomy.json``, made by ``tools/make_imagenet_taxonomy.py``). The phrase
parser reads such a name as one noun, so a word in it that would otherwise describe the thing
("light", "black", "great") stays part of what the thing is.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from .vocabulary import CLASS_SYNONYMS

TAXONOMY_FILE = Path(__file__).resolve().parents[1] / "resources" / "imagenet_taxonomy.json"


@lru_cache(maxsize=1)
def taxonomy() -> dict:
    """The taxonomy file as written: ``senses`` is keyed by each noun as the parser tokenizes it."""
    return json.loads(TAXONOMY_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def compound_names() -> frozenset[tuple[str, ...]]:
    """Every known name of two or more words, as a tuple of the parser's tokens."""
    names = [w for syns in CLASS_SYNONYMS.values() for w in syns] + list(taxonomy()["senses"])
    return frozenset(tuple(n.split()) for n in names if " " in n)


@lru_cache(maxsize=1)
def longest_compound() -> int:
    return max(len(n) for n in compound_names())
