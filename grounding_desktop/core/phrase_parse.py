"""Rule-based reading of a referring expression into the parts the scorer's modules use.

"the rider on the dark horse" -> subject "rider", relation "on", object "horse" (dark);
"the pink bowl on the top right" -> subject "bowl" (pink), location top + right. The head noun
(:func:`head_noun`) names a phrase's class where a format has classes, not phrases (YOLO, VOC). No parser
model is needed: referring expressions are short and their structure is regular, and keeping it
rule-based means the explanation shown to the user says exactly which words were understood.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Optional

from .kind_names import compound_names, longest_compound
from .vocabulary import (
    AMBIGUOUS_NUMBER,
    ARTICLES,
    BRIGHTNESS_WORDS,
    CLASS_SYNONYMS,
    CLOTHING_WORDS,
    COLLECTIVE_WORDS,
    COLOUR_WORDS,
    DEGREE_WORDS,
    GENERIC_NOUNS,
    IRREGULAR_PARTICIPLES,
    IRREGULAR_PLURALS,
    LOCATION_FILLER,
    LOCATION_WORDS,
    MORE_PEOPLE,
    NOUN_OR_ADJECTIVE,
    OF_WHAT_FOLLOWS,
    ORDINALS,
    PARTICLES,
    PICTURE_WORDS,
    PLURAL_MARKERS,
    POSE_WORDS,
    RELATION_PHRASES,
    SIZE_WORDS,
    WEARING_WORDS,
)

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_MAX_RELATION_WORDS = max(len(k.split()) for k in RELATION_PHRASES)
# Every word the class lexicon knows, with multi-word names kept whole ("teddy bear").
_LEXICON = frozenset(w for syns in CLASS_SYNONYMS.values() for w in syns)
_PEOPLE = frozenset(CLASS_SYNONYMS["person"]) | MORE_PEOPLE
_PREPOSITIONS = frozenset({"in", "on", "at", "from", "of", "to", "and", "near"})
# "closest to the car" relates the subject to a thing; "closest to the camera" is a place in depth.
_NEAREST = frozenset({"closest", "nearest", "closer", "nearer"})
_FURTHEST = frozenset({"furthest", "farthest", "further", "farther"})
# Nouns of place ("the left side", "the far end") that can also be part of a thing's name ("the
# dead end sign").
_PLACE_NOUNS = frozenset({"side", "corner", "part", "edge", "half", "end", "row", "hand"}) | PICTURE_WORDS
VIEWER_WORDS = frozenset({"camera", "viewer", "us", "me", "you", "photographer", "lens", "picture",
                          "photo", "image", "foreground", "front"})


@dataclass(frozen=True)
class Location:
    axis: str       # "x", "y", "center" or "depth"
    direction: int  # -1 / +1 (see vocabulary.LOCATION_WORDS), 0 for center
    word: str


@dataclass(frozen=True)
class Ordinal:
    n: int          # 1-based; -1 means last
    axis: str       # "x" or "y"
    direction: int  # counted from -1 (left/top) or +1 (right/bottom)
    word: str


@dataclass(frozen=True)
class NounPhrase:
    """One noun phrase: the noun and the words that qualify it."""

    noun: str = ""                       # content words left after the modifiers, e.g. "potted plant"
    head: str = ""                       # singular form of the noun's last word
    generic: bool = False                # "thing", "one", or no noun at all
    colours: tuple[str, ...] = ()        # canonical colour names
    brightness: tuple[str, ...] = ()     # "dark" / "light"
    sizes: tuple[tuple[str, int, str], ...] = ()   # (measure, direction, word)
    poses: tuple[tuple[int, str], ...] = ()        # (+1 lying / -1 standing, word)
    locations: tuple[Location, ...] = ()
    ordinal: Optional[Ordinal] = None
    plural: bool = False
    words: tuple[str, ...] = ()          # the tokens of this phrase part


@dataclass(frozen=True)
class ParsedPhrase:
    text: str
    subject: NounPhrase
    relation: Optional[str] = None       # geometric relation name (vocabulary.RELATION_PHRASES)
    relation_words: str = ""             # the words that said it, for the explanation
    obj: Optional[NounPhrase] = None
    tokens: tuple[str, ...] = field(default=(), repr=False)

    @property
    def plural(self) -> bool:
        return self.subject.plural


def tokenize(text: str) -> list[str]:
    text = text.lower().replace("-", " ").replace("_", " ")
    return [t.replace("'s", "") for t in _TOKEN.findall(text)]


def singular(word: str) -> str:
    """Cheap English singular, good enough for nouns people use in referring expressions."""
    if word in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[word]
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    return word[:-1]


def lookup_words(noun: "NounPhrase", head_alone: bool = True) -> tuple[str, ...]:
    """The words a word list is asked for ``noun``, most specific first: the noun, its singular,
    its last two words (the second of them singular too) and, with ``head_alone``, its last word
    and its head word."""
    words = noun.noun.split()
    if not words:
        return ()
    tried = (noun.noun, " ".join(words[:-1] + [singular(words[-1])]), " ".join(words[-2:]),
             " ".join(words[-2:-1] + [noun.head]))
    return tried + (words[-1], noun.head) if head_alone else tried


def _is_plural_noun(word: str) -> bool:
    if not word or word in AMBIGUOUS_NUMBER:
        return False
    if word in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[word] != word
    return singular(word) != word


def _match_relation(tokens: list[str], i: int) -> tuple[Optional[str], int]:
    """Longest relation phrase starting at ``tokens[i]``: (relation, number of tokens) or (None, 0)."""
    for n in range(min(_MAX_RELATION_WORDS, len(tokens) - i), 0, -1):
        key = " ".join(tokens[i:i + n])
        if key in RELATION_PHRASES:
            return RELATION_PHRASES[key], n
    return None, 0


def _is_modifier(tok: str) -> bool:
    return (tok in ARTICLES or tok in COLOUR_WORDS or tok in BRIGHTNESS_WORDS
            or tok in SIZE_WORDS or tok in LOCATION_WORDS or tok in LOCATION_FILLER
            or tok in ORDINALS or tok in POSE_WORDS or tok in PLURAL_MARKERS
            or tok in _PREPOSITIONS)


def _only_modifiers(tokens: list[str]) -> bool:
    """True for "the left", "the top right corner", "red": a place or attribute, not an object."""
    return bool(tokens) and all(_is_modifier(t) for t in tokens)


def _looks_like_verb(tok: str) -> bool:
    return len(tok) > 4 and tok.endswith("ing") and tok not in POSE_WORDS and tok not in _LEXICON


def _looks_like_participle(tok: str) -> bool:
    """ "parked", "tipped": a verb's -ed form after the noun ("the car parked on the street")."""
    return len(tok) > 4 and tok.endswith("ed") and tok not in _LEXICON


def _particle_verb(tokens: list[str], i: int) -> int:
    """The index of the verb whose particle ``tokens[i]`` is ("down" in "sitting down", "off" in
    "cut off", "away" in "turned away"; words of degree between them: "partially cut off"), or -1
    when it is none."""
    if tokens[i] not in PARTICLES:
        return -1
    j = i - 1
    while j >= 0 and tokens[j] in DEGREE_WORDS:
        j -= 1
    if j < 0:
        return -1
    verb = tokens[j]
    is_verb = verb in POSE_WORDS or verb in IRREGULAR_PARTICIPLES or _looks_like_verb(verb) or \
        _looks_like_participle(verb)
    return j if is_verb else -1


def _is_particle(tokens: list[str], i: int) -> bool:
    return _particle_verb(tokens, i) >= 0


def _distance_words(tokens: list[str], i: int) -> tuple[int, bool]:
    """After a word of distance at ``tokens[i]`` ("closest", "furthest"): (how many tokens its
    complement takes, whether the complement is the viewer). "closest to the camera" -> (3, True),
    "nearest the car" -> (2, False), "closest" alone -> (0, False)."""
    j = i + 1
    if j < len(tokens) and tokens[j] in ("to", "from"):
        j += 1
    rest = tokens[j:]
    k = 0
    while k < len(rest) and rest[k] in ARTICLES:
        k += 1
    if k >= len(rest) or rest[k] in LOCATION_WORDS and rest[k] not in VIEWER_WORDS:
        return 0, False
    return len(tokens) - i - 1, rest[k] in VIEWER_WORDS


def _split_relation(tokens: list[str]) -> tuple[list[str], Optional[str], str, list[str]]:
    """Find where the subject ends and a relation to another object begins. A word of distance
    with an object relates to it ("the person closest to the car": near the car); with the viewer
    ("nearest to the camera") it is a place in depth and its words go ("the person closest")."""
    seen_content = False
    i = 0
    while i < len(tokens):
        distance = tokens[i] in _NEAREST or tokens[i] in _FURTHEST
        if tokens[i] in ("to", "from") and any(t in _NEAREST or t in _FURTHEST for t in tokens[:i]):
            rest = [t for t in tokens[i + 1:] if t not in ARTICLES]
            if rest and rest[0] in VIEWER_WORDS:  # "the closest one to the camera"
                return tokens[:i], None, "", []
        if distance:
            n, viewer = _distance_words(tokens, i)
            if viewer:
                return tokens[:i + 1], None, "", []
        if distance and seen_content:
            if n and tokens[i] in _NEAREST:
                rest = tokens[i + 1:]
                rest = rest[1:] if rest and rest[0] in ("to", "from") else rest
                if not _only_modifiers(rest):
                    return tokens[:i], "near", " ".join(tokens[i:len(tokens) - len(rest)]), rest
            if n:  # "furthest from the car": no relation models it; the subject stays itself
                return tokens[:i], None, "", []
        name = 0 if seen_content else _name_at(tokens, i)[0]
        if name:  # "the walking stick", "the bird of prey": one noun, no relation in it
            seen_content = True
            i += name
            continue
        rel, n = _match_relation(tokens, i)
        if rel is None and seen_content and _looks_like_verb(tokens[i]):
            rel, n = "near", 1  # an unknown verb with an object: "the dog chasing the ball"
        while rel is not None and i + n < len(tokens) and _is_particle(tokens, i + n):
            n += 1  # "looking up at the kite": the particle is the verb's, the kite its object
        if n > 1 and _match_relation(tokens, i + n)[0] is not None:
            i += n  # "sitting down on a bench": the relation is the next word's ("on")
            seen_content = True
            continue
        if rel is not None and (seen_content or i > 0 or n > 1 or tokens[i] not in ("in", "at")):
            rest = tokens[i + n:]
            if rest and not _only_modifiers(rest) and not _place_then_relation(rest):
                return tokens[:i], rel, " ".join(tokens[i:i + n]), rest
        tok = tokens[i]
        if not _is_modifier(tok):
            seen_content = True
        i += 1
    return tokens, None, "", []


def _place_then_relation(rest: list[str]) -> bool:
    """Whether the words after a relation word are a place and then another relation: "at the left"
    in "the man at the left with a hat" says where the man is; the hat is what he is with. "the
    right elephant" in "the person on the right elephant" is an object (with its place)."""
    j = 0
    while j < len(rest) and _match_relation(rest, j)[0] is None and \
            (rest[j] in ARTICLES or rest[j] in LOCATION_WORDS or rest[j] in LOCATION_FILLER):
        j += 1
    if j == len(rest) or not any(t in LOCATION_WORDS for t in rest[:j]):
        return False
    return _match_relation(rest, j)[0] is not None or _looks_like_verb(rest[j])


def _ordinal_axis(tokens: list[str], i: int) -> tuple[str, int]:
    """Axis an ordinal counts along: "second from the right" -> ("x", +1); default left to right."""
    for tok in tokens[i + 1:i + 5]:
        if tok in LOCATION_WORDS:
            axis, direction = LOCATION_WORDS[tok]
            if axis in ("x", "y"):
                return axis, direction
    return "x", -1


def parse_noun_phrase(tokens: list[str]) -> NounPhrase:
    colours, brightness, sizes, poses, locations = [], [], [], [], []
    ordinal: Optional[Ordinal] = None
    plural_marker = False
    content: list[str] = []
    ordinal_axis_words: set[int] = set()
    name_end = 0  # tokens before this index belong to a known name of several words
    named = 0     # the words of ``content`` up to the last such name's end
    complement = False  # after "of": what the noun is of, not the noun
    name_plural = False
    one_of = False      # "one of the dogs": one dog
    placed = any(t in LOCATION_WORDS or t in ORDINALS for t in tokens)
    for i, tok in enumerate(tokens):
        if i >= name_end and not complement:
            length, is_plural = _name_at(tokens, i)
            if length:
                name_end, name_plural = i + length, is_plural
        if i < name_end:
            content.append(tok)
            named = len(content)
            # Words before the name's noun that say what the thing looks like still do: a black
            # bear is black, the small boat smaller than the others.
            if i < name_end - 1 and tok in COLOUR_WORDS:
                colours.append(COLOUR_WORDS[tok])
            elif i < name_end - 1 and tok in SIZE_WORDS:
                measure, direction = SIZE_WORDS[tok]
                sizes.append((measure, direction, tok))
            continue
        verb = _particle_verb(tokens, i)
        if verb >= 0:  # "sitting down" is no place; "cut off" and "facing away" no part of the noun
            if len(content) > max(1, named) and content[-1] == tokens[verb]:
                content.pop()
            continue
        if tok in DEGREE_WORDS or tok.isdigit() or tok == "number" and tokens[i + 1:i + 2] and tokens[i + 1].isdigit():
            continue  # "partially"; a number labels the thing ("player number 5"), it is not one
        if i and tokens[i - 1] in DEGREE_WORDS and tok not in _LEXICON and not _is_modifier(tok):
            continue  # what a word of degree says how much of is a state, not the noun ("mostly hidden")
        if tok in ORDINALS and ordinal is None:
            axis, direction = _ordinal_axis(tokens, i)
            ordinal = Ordinal(ORDINALS[tok], axis, direction, tok)
            for j in range(i + 1, min(i + 5, len(tokens))):
                if tokens[j] in LOCATION_WORDS and LOCATION_WORDS[tokens[j]][0] == axis:
                    ordinal_axis_words.add(j)
                    break
        elif tok in NOUN_OR_ADJECTIVE and _is_noun_here(tokens, i):
            content.append(tok)
        elif tok in COLOUR_WORDS:
            colours.append(COLOUR_WORDS[tok])
        elif tok in BRIGHTNESS_WORDS:
            brightness.append(BRIGHTNESS_WORDS[tok])
        elif tok in SIZE_WORDS:
            measure, direction = SIZE_WORDS[tok]
            sizes.append((measure, direction, tok))
        elif tok in POSE_WORDS:
            poses.append((POSE_WORDS[tok], tok))
        elif tok in LOCATION_WORDS:
            if i in ordinal_axis_words:
                continue
            axis, direction = LOCATION_WORDS[tok]
            if tok == "far" and i + 1 < len(tokens) and tokens[i + 1] in LOCATION_WORDS:
                continue  # "far left" is an intensifier
            locations.append(Location(axis, direction, tok))
        elif tok in PLURAL_MARKERS:
            plural_marker = True
        elif tok == "of" and content and not complement:
            # "the cup of coffee" is a cup; "the slices of pizza" are pizza, "the pile of books"
            # books, "one of the dogs" a dog
            before = singular(content[-1])
            if before in OF_WHAT_FOLLOWS or before in COLLECTIVE_WORDS or all(t in GENERIC_NOUNS for t in content):
                many = _is_plural_noun(content[-1])
                one_of = before in GENERIC_NOUNS and not many
                plural_marker = plural_marker or before in COLLECTIVE_WORDS or (many and before not in GENERIC_NOUNS)
                content.clear()
                named = 0
            else:
                complement = True
        elif tok in ARTICLES or tok in _PREPOSITIONS:
            continue
        elif complement and tok not in LOCATION_FILLER:
            continue  # the complement's nouns are not the subject's
        elif tok in PICTURE_WORDS and not placed and tokens[i + 1:i + 2] != ["of"] and \
                (not content or content[-1] in PICTURE_WORDS):
            content.append(tok)  # "the picture on the wall", "the picture frame"; not "the man in the picture"
        elif tok in LOCATION_FILLER and (locations or ordinal or tok not in GENERIC_NOUNS):
            # "the left side", "the end of the table" are places; "the dead end sign" a sign
            if tok == "one" and not content or content and not (locations or ordinal) and _names_with_next(tokens, i):
                content.append(tok)
            continue
        else:
            content.append(tok)
    # Unknown verbs ("lying" is a pose; "smiling", "parked") after the noun are not part of it; a name's
    # words are ("indigo bunting").
    while len(content) > max(1, named) and (_looks_like_verb(content[-1]) or _looks_like_participle(content[-1])):
        content.pop()
    if not named and any(singular(t) in _PEOPLE for t in content) and any(_is_clothing(t) for t in content):
        content = [t for t in content if not _is_clothing(t)]  # "guy red shirt": the guy wears it ("the cowboy hat" is a name)
    noun = " ".join(content)
    last = content[-1] if content else ""
    head = singular(last)
    generic = not content or all(t in GENERIC_NOUNS for t in content)
    plural = plural_marker or (name_plural if content and named == len(content) else _is_plural_noun(last))
    plural = plural and not one_of
    return NounPhrase(
        noun=noun, head=head, generic=generic, colours=tuple(colours),
        brightness=tuple(brightness), sizes=tuple(sizes), poses=tuple(poses),
        locations=tuple(locations), ordinal=ordinal, plural=bool(plural), words=tuple(tokens),
    )


def _name_at(tokens: list[str], i: int) -> tuple[int, bool]:
    """(how many tokens from ``tokens[i]`` spell a known name of several words, longest first, 0
    for none; whether its last word is plural: "traffic lights", not "chest of drawers"). Such a
    name is one noun: its words are not read as the attributes they would otherwise be ("light",
    "black"), though a colour in it still says what colour the thing is."""
    names = compound_names()
    for n in range(min(longest_compound(), len(tokens) - i), 1, -1):
        words = tokens[i:i + n]
        if tuple(words) in names:
            return n, False
        if tuple(words[:-1] + [singular(words[-1])]) in names:
            return n, True
    return 0, False


def _names_with_next(tokens: list[str], i: int) -> bool:
    """Whether the place noun ``tokens[i]``, after a word of the noun, is followed by a noun it is
    part of ("end" in "the dead end sign"), not by a word of place, relation or description ("the
    end zebra" is a zebra at the end, which the caller checks: no word of the noun before it)."""
    return tokens[i] in _PLACE_NOUNS and i + 1 < len(tokens) and not _is_modifier(tokens[i + 1]) \
        and tokens[i + 1] not in LOCATION_FILLER


def _is_noun_here(tokens: list[str], i: int) -> bool:
    """ "the orange" / "the lighter on the left" name a thing; "the orange cup" and "the lighter
    one" describe one."""
    rest = [t for t in tokens[i + 1:] if t not in ARTICLES]
    if not rest:
        return True
    nxt = rest[0]
    if nxt in ("one", "ones"):
        return tokens[i] == "orange"  # "the orange one" was always the fruit
    return nxt in LOCATION_WORDS or nxt in LOCATION_FILLER or nxt in _PREPOSITIONS or \
        nxt in POSE_WORDS or _looks_like_verb(nxt)


@lru_cache(maxsize=4096)
def parse_phrase(text: str) -> ParsedPhrase:
    """Parse a cleaned phrase (see ``core.phrase.clean_phrase``); never raises."""
    tokens = tokenize(text)
    subj_tokens, relation, rel_words, obj_tokens = _split_relation(tokens)
    worn: list[str] = []
    while rel_words in WEARING_WORDS and _can_wear(subj_tokens) and (k := _worn_until(obj_tokens)):
        # "the woman in the black dress holding an umbrella": the dress and its colour are the
        # woman's; what follows it says more of her ("holding an umbrella", "on the left")
        worn += obj_tokens[:k]
        subj_tokens, relation, rel_words, obj_tokens = _split_relation(subj_tokens + _after_and(obj_tokens[k:]))
    subject = _with_colours_of(parse_noun_phrase(subj_tokens), worn)
    obj = None
    if relation:  # "next to the woman in the red dress": the object wears it
        obj_tokens, obj_worn = _without_worn(obj_tokens)
        obj = _with_colours_of(parse_noun_phrase(obj_tokens), obj_worn)
    if obj is not None and obj.generic:
        # "next to it", "over there": nothing to anchor the relation on.
        relation, rel_words, obj = None, "", None
    return ParsedPhrase(text=text, subject=subject, relation=relation, relation_words=rel_words,
                        obj=obj, tokens=tuple(tokens))


def _can_wear(tokens: list[str]) -> bool:
    """Whether the thing ``tokens`` name may wear clothes: not a COCO class other than a person
    ("the chair with a red jacket on it" is no red chair, "the coat with the red scarf" no red
    coat; "the guy", "the bride" may)."""
    head = parse_noun_phrase(tokens).head
    return (head not in _LEXICON or head in _PEOPLE) and not _is_clothing(head)


def _is_clothing(tok: str) -> bool:
    return tok in CLOTHING_WORDS or singular(tok) in CLOTHING_WORDS


def _worn_until(tokens: list[str]) -> int:
    """How many of the tokens after a word of wearing ("in", "with") say what is worn: up to and
    including the clothes ("the red and white shirt", "a striped shirt", "the suit jacket", "the
    baseball cap", "a white shirt and black pants", "his jacket off"), or colours alone before
    another relation ("in black" in "the man in black wearing a hat"); 0 when they name no
    clothing (a COCO object or another relation comes first: "in the car"; "in the kitchen
    wearing a hat" is the kitchen's)."""
    coloured = False
    for k, tok in enumerate(tokens):
        if _is_clothing(tok):
            end = k + 1
            while end < len(tokens) and (tokens[end] in PARTICLES or _is_clothing(tokens[end]) or (
                    tokens[end] not in _LEXICON and not _is_modifier(tokens[end])
                    and _match_relation(tokens, end)[0] is None and not _looks_like_verb(tokens[end]))):
                end += 1  # "the suit jacket", "the jacket pocket", "his jacket off"
            if tokens[end:end + 1] == ["and"]:  # "a white shirt and black pants" are worn together
                more = _worn_until(tokens[end + 1:])
                end += 1 + more if more else 0
            return end
        if _match_relation(tokens, k)[0] is not None or _looks_like_verb(tok):
            return k if coloured else 0
        if tok in _LEXICON and not (k + 1 < len(tokens) and _is_clothing(tokens[k + 1])):
            return 0  # a COCO object, unless it says what clothes ("the baseball cap")
        coloured = coloured or tok in COLOUR_WORDS or tok in BRIGHTNESS_WORDS
    return 0


def _after_and(tokens: list[str]) -> list[str]:
    """What follows the clothes that still says something of the wearer: "and sitting on the
    bench" does, "and tie" does not, "and tie holding a glass" from "holding" on."""
    if tokens[:1] != ["and"]:
        return tokens
    j = 1
    while j < len(tokens) and _match_relation(tokens, j)[0] is None and not _looks_like_verb(tokens[j]) \
            and tokens[j] not in POSE_WORDS:
        j += 1
    return tokens[j:]


def _without_worn(tokens: list[str]) -> tuple[list[str], list[str]]:
    """(an object's words without what it wears, what it wears): "the woman in the red dress"."""
    for i, tok in enumerate(tokens):
        if tok in WEARING_WORDS and i and _can_wear(tokens[:i]):
            k = _worn_until(tokens[i + 1:])
            if k:
                return tokens[:i] + _after_and(tokens[i + 1 + k:]), tokens[i + 1:i + 1 + k]
    return tokens, []


def _with_colours_of(noun: NounPhrase, worn: list[str]) -> NounPhrase:
    """``noun`` with the colour and brightness words of the clothes it wears."""
    if not worn:
        return noun
    clothes = parse_noun_phrase(worn)
    return replace(noun, colours=noun.colours + clothes.colours, brightness=noun.brightness + clothes.brightness)


GENERIC_CLASS = "object"


def head_noun(text: str) -> str:
    """The class a phrase names: its subject's noun in the singular, "the horses on the left" ->
    "horse", with a known name of several words kept whole ("the teddy bears" -> "teddy bear",
    "the black widow" -> "black widow", ``kind_names``); :data:`GENERIC_CLASS` for a phrase with
    no noun of its own ("the one on the left")."""
    subject = parse_phrase(text).subject
    if subject.generic:
        return GENERIC_CLASS
    words = subject.noun.split()
    for n in range(len(words), 1, -1):
        for name in (words[-n:], words[-n:-1] + [subject.head]):
            if tuple(name) in compound_names():
                # "the brown bears" are bears, a COCO class; "the black widow" is not a widow
                return subject.head if subject.head in _LEXICON and " ".join(name) not in _LEXICON \
                    else " ".join(name)
    return subject.head
