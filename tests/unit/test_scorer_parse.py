"""The phrase parser: which words go to which scorer module."""
import pytest

from grounding_desktop.core.phrase_parse import parse_phrase, singular


def test_subject_with_colour_and_location():
    p = parse_phrase("the pink bowl on the top right")
    assert p.subject.noun == "bowl" and p.subject.colours == ("pink",)
    assert [l.word for l in p.subject.locations] == ["top", "right"]
    assert p.relation is None and not p.plural


def test_relation_with_object_attributes():
    p = parse_phrase("the rider on the dark horse")
    assert p.subject.noun == "rider"
    assert p.relation == "on" and p.relation_words == "on"
    assert p.obj.noun == "horse" and p.obj.brightness == ("dark",)


@pytest.mark.parametrize("phrase,relation,obj", [
    ("the woman holding the umbrella", "holding", "umbrella"),
    ("the person riding the white horse", "on", "horse"),
    ("the dog next to the car", "near", "car"),
    ("the man to the left of the car", "left_of", "car"),
    ("the cat in front of the tv", "front_of", "tv"),
    ("the flowers in the vase", "in", "vase"),
    ("the boy under the umbrella", "below", "umbrella"),
    ("the person on the right elephant", "on", "elephant"),
    ("the dog chasing the ball", "near", "ball"),
])
def test_relations(phrase, relation, obj):
    p = parse_phrase(phrase)
    assert p.relation == relation and p.obj is not None and p.obj.noun == obj


def test_location_phrases_are_not_relations():
    for phrase in ("the dog on the left", "the orange in the top right corner",
                   "the giraffe lying in the bottom left", "the man in the middle"):
        p = parse_phrase(phrase)
        assert p.relation is None, phrase
        assert p.subject.locations, phrase


def test_object_location_stays_with_the_object():
    p = parse_phrase("the person on the right elephant")
    assert not p.subject.locations
    assert [l.word for l in p.obj.locations] == ["right"]


def test_colour_after_in_is_an_attribute():
    p = parse_phrase("the man in red")
    assert p.relation is None and p.subject.colours == ("red",) and p.subject.noun == "man"


def test_lighter_the_thing_and_lighter_the_shade():
    assert parse_phrase("the lighter").subject.noun == "lighter"
    assert parse_phrase("the lighter on the left").subject.noun == "lighter"
    cup = parse_phrase("the lighter cup").subject
    assert cup.noun == "cup" and cup.brightness == ("light",)
    one = parse_phrase("the lighter one").subject
    assert one.generic and one.brightness == ("light",)


def test_orange_the_fruit_and_orange_the_colour():
    assert parse_phrase("the orange on the left").subject.noun == "orange"
    assert parse_phrase("the orange").subject.colours == ()
    cup = parse_phrase("the orange cup").subject
    assert cup.noun == "cup" and cup.colours == ("orange",)


@pytest.mark.parametrize("phrase,n,axis,direction", [
    ("second from left", 2, "x", -1), ("the third person from the right", 3, "x", 1),
    ("the first car", 1, "x", -1), ("the last dog", -1, "x", -1),
    ("the second cup from the top", 2, "y", -1),
])
def test_ordinals(phrase, n, axis, direction):
    o = parse_phrase(phrase).subject.ordinal
    assert (o.n, o.axis, o.direction) == (n, axis, direction)
    assert not parse_phrase(phrase).subject.locations  # the axis word belongs to the ordinal


@pytest.mark.parametrize("phrase,plural", [
    ("the horses", True), ("all people", True), ("both dogs", True), ("the people", True),
    ("two cats on the bed", True), ("the horse", False), ("the glass", False),
    ("the bus", False), ("the sheep", False), ("the person", False), ("every car", True),
])
def test_plural(phrase, plural):
    assert parse_phrase(phrase).plural is plural


def test_size_pose_and_brightness_words():
    s = parse_phrase("the bigger dark elephant lying down").subject
    assert s.noun == "elephant" and s.brightness == ("dark",)
    assert [w for _, _, w in s.sizes] == ["bigger"] and s.poses == ((1, "lying"),)


def test_generic_and_pronoun_objects():
    assert parse_phrase("the left one").subject.generic
    p = parse_phrase("the cat next to it")
    assert p.relation is None  # nothing to anchor "next to" on


def test_singular():
    assert [singular(w) for w in ("horses", "puppies", "boxes", "glass", "bus", "people", "men")] == \
        ["horse", "puppy", "box", "glass", "bus", "person", "man"]


@pytest.mark.parametrize("phrase,noun,relation,obj,locations", [
    ("the person closest to the car", "person", "near", "car", []),
    ("the person nearest the red car", "person", "near", "car", []),
    ("the person nearest to the camera", "person", None, None, ["nearest"]),
    ("the cup closest to us", "cup", None, None, ["closest"]),
    ("the closest one to the camera", "one", None, None, ["closest"]),
    ("the closest person", "person", None, None, ["closest"]),
    ("the bottle furthest from the camera", "bottle", None, None, ["furthest"]),
    ("the bottle furthest from the car", "bottle", None, None, []),
    ("the dog in front of the house", "dog", "front_of", "house", []),
    ("the man holding the umbrella", "man", "holding", "umbrella", []),
])
def test_the_subject_is_the_head_noun_not_a_noun_of_a_relation_or_place(phrase, noun, relation, obj,
                                                                         locations):
    p = parse_phrase(phrase)
    assert p.subject.noun == noun
    assert p.relation == relation
    assert (p.obj.noun if p.obj else None) == obj
    assert [loc.word for loc in p.subject.locations] == locations


def test_head_noun_names_the_class_of_a_phrase():
    from grounding_desktop.core import head_noun

    assert [head_noun(t) for t in ("the horses on the left", "the man riding a horse", "The  Red  Block",
                                   "the teddy bears", "people on the bench", "the one on the left",
                                   "the black widows", "the red traffic light", "the cups of coffee")] == \
        ["horse", "man", "block", "teddy bear", "person", "object", "black widow", "traffic light", "cup"]


@pytest.mark.parametrize("phrase,noun,colours,brightness,sizes", [
    ("the traffic light", "traffic light", (), (), ()),        # not a traffic that is light
    ("the red traffic lights", "traffic lights", ("red",), (), ()),
    ("the black widow", "black widow", ("black",), (), ()),   # a black widow is black
    ("the great white shark", "great white shark", ("white",), (), ("great",)),
    ("the walking stick on the left", "walking stick", (), (), ()),  # not "walking" the stick
    ("the indigo bunting", "indigo bunting", (), (), ()),   # "bunting" not a verb here
    ("the small boat", "small boat", (), (), ("small",)),     # the smaller of the boats
    ("the chest of drawers", "chest of drawers", (), (), ()),  # one chest
])
def test_a_known_name_of_several_words_is_one_noun(phrase, noun, colours, brightness, sizes):
    p = parse_phrase(phrase)
    assert p.relation is None and p.plural == phrase.endswith("lights")
    assert p.subject.noun == noun and p.subject.colours == colours
    assert p.subject.brightness == brightness and tuple(w for _, _, w in p.subject.sizes) == sizes


def test_a_known_name_does_not_swallow_a_relation_after_the_subject():
    p = parse_phrase("the cat on the chest of drawers")
    assert p.subject.noun == "cat" and p.relation == "on" and p.obj.noun == "chest of drawers"
    p = parse_phrase("the boy eating apple")   # "eating apple" is a name, here a verb and its object
    assert p.subject.noun == "boy" and p.relation is not None and p.obj.noun == "apple"


@pytest.mark.parametrize("phrase,noun,plural,relation,obj", [
    ("the cup of coffee", "cup", False, None, None),          # a cup, not coffee
    ("the cups of coffee on the left", "cups", True, None, None),
    ("the glass of red wine", "glass", False, None, None),    # not the kind "red wine"
    ("the slice of pizza", "pizza", False, None, None),       # a portion is looked for as the thing
    ("the slices of pizza", "pizza", True, None, None),
    ("the bunch of bananas", "bananas", True, None, None),
    ("the man at the table", "man", False, "near", "table"),  # not a "man table"
])
def test_the_noun_of_an_of_phrase_is_what_it_is_of_only_for_a_portion(phrase, noun, plural, relation, obj):
    p = parse_phrase(phrase)
    assert (p.subject.noun, p.plural, p.relation) == (noun, plural, relation)
    assert (p.obj.noun if p.obj else None) == obj


@pytest.mark.parametrize("phrase,noun,locations", [
    ("the dead end sign", "dead end sign", []),   # was a "dead sign"
    ("the side table on the left", "table", ["left"]),  # "side" first: a place word, as before
    ("the left side", "", ["left"]),              # a place, no thing
    ("the end zebra", "zebra", []),               # a zebra at the end: no word of a name before "end"
    ("the person at the end", "person", []),
    ("the end of the table", "table", []),
])
def test_a_noun_of_place_before_a_noun_is_part_of_its_name(phrase, noun, locations):
    p = parse_phrase(phrase)
    assert p.subject.noun == noun and [loc.word for loc in p.subject.locations] == locations


@pytest.mark.parametrize("phrase,noun,plural", [
    ("the hot dogs on the left", "hot dogs", True),           # a name's plural survives what follows
    ("the teddy bears in the front", "teddy bears", True),
    ("one of the dogs", "dogs", False),                       # one dog
    ("the left one of the two zebras", "zebras", False),
    ("the pile of books", "books", True),
    ("the kind of dog", "dog", False),
])
def test_what_an_of_phrase_or_a_name_leaves_plural(phrase, noun, plural):
    p = parse_phrase(phrase)
    assert (p.subject.noun, p.plural) == (noun, plural)


@pytest.mark.parametrize("phrase,locations,relation,obj", [
    ("the man at the left with a dog", ["left"], "holding", "dog"),   # a place, then the relation
    ("the woman at the far right next to the car", ["right"], "near", "car"),
    ("the man on the left holding an umbrella", ["left"], "holding", "umbrella"),
    ("the person on the right elephant", [], "on", "elephant"),      # a place of the object's
])
def test_a_place_after_a_relation_word_is_the_subject_s_when_another_relation_follows(phrase, locations,
                                                                                     relation, obj):
    p = parse_phrase(phrase)
    assert [loc.word for loc in p.subject.locations] == locations
    assert p.relation == relation and p.obj.noun == obj


def test_a_name_is_a_phrase_s_class_unless_it_only_describes_a_coco_class():
    from grounding_desktop.core import head_noun

    assert [head_noun(t) for t in ("the chest of drawers", "the brown bears", "the small boat",
                                   "the killer whale", "the wine glasses")] == \
        ["chest of drawers", "bear", "boat", "killer whale", "wine glass"]


@pytest.mark.parametrize("phrase,locations,relation,obj", [
    ("the guy sitting down", [], None, None),                 # "down" is the verb's, not a place
    ("the man sitting down on the left", ["left"], None, None),
    ("the kid looking up", [], None, None),
    ("the man bending over", [], None, None),                 # not a relation to an "over"
    ("the guy facing away", [], None, None),
    ("the man bending over the table", [], "near", "table"),  # the particle is the verb's
    ("the dog looking up at the frisbee", [], "near", "frisbee"),
    ("the boy picking up the ball", [], "near", "ball"),
    ("the car down the street", ["down"], None, None),       # after a noun, still a place
    ("a man sitting down on a bench", [], "on", "bench"),     # the next word's relation, not "near"
    ("the bird flying up in the sky", [], "in", "sky"),
    ("the man leaning back in his chair", ["back"], "in", "chair"),  # "back" may be a place
    ("the man over there", [], None, None),                   # no object "there"
    ("the old man out front", ["front"], None, None),
    ("the car parked on the street", [], "on", "street"),     # not a car "parked"
])
def test_a_particle_after_a_verb_is_neither_a_place_nor_an_object(phrase, locations, relation, obj):
    p = parse_phrase(phrase)
    assert [loc.word for loc in p.subject.locations] == locations
    assert p.relation == relation and (p.obj.noun if p.obj else None) == obj
    assert p.obj is None or not p.obj.locations


@pytest.mark.parametrize("phrase,noun,colours,locations,relation,obj", [
    ("the girl in the pink shirt", "girl", ("pink",), [], None, None),
    ("the man wearing a red hat", "man", ("red",), [], None, None),
    ("the boy in the red and white striped shirt", "boy", ("red", "white"), [], None, None),
    ("the lady with the pink shirt", "lady", ("pink",), [], None, None),
    ("the woman dressed in red", "woman", ("red",), [], None, None),
    ("the man in white shirt and black pants", "man", ("white", "black"), [], None, None),
    ("the person in the red jacket on the left", "person", ("red",), ["left"], None, None),
    ("the woman in a black dress holding an umbrella", "woman", ("black",), [], "holding", "umbrella"),
    ("the man in black wearing a white hat", "man", ("black", "white"), [], None, None),
    ("the man in the red shirt and the dog", "man", ("red",), [], None, None),
    ("the man wearing a black shirt and sitting on the bench", "man", ("black",), [], "on", "bench"),
    ("the man in the shirt and tie holding a glass", "man", (), [], "holding", "glass"),
    ("the woman in the suit jacket on the right", "woman", (), ["right"], None, None),
    ("the man in the baseball cap", "man", (), [], None, None),
    ("the men in suits", "men", (), [], None, None),
    ("the guy with his jacket off", "guy", (), [], None, None),
    ("a man in a suit sitting down at a table", "man", (), [], "near", "table"),
    # ... and only what may wear it: a chair with a jacket on it is no red chair
    ("the chair with a red jacket", "chair", (), [], "holding", "jacket"),
    ("the coat with the red scarf", "coat", (), [], "holding", "scarf"),
    ("the table with wine glasses", "table", (), [], "holding", "wine glasses"),  # glasses of wine
    # ... and said without "in" after or before who wears it, but not in a name
    ("guy red shirt", "guy", ("red",), [], None, None),
    ("the blue jacket guy", "guy", ("blue",), [], None, None),
    ("the cowboy hat", "cowboy hat", (), [], None, None),
    # what one is in, or holds, that is not worn stays a relation, with its own colour
    ("the man in the red car", "man", (), [], "in", "car"),
    ("the man holding a red jacket", "man", (), [], "holding", "jacket"),
    ("the man wearing a red tie", "man", (), [], "holding", "tie"),  # a COCO object
])
def test_the_colour_of_what_one_wears_is_one_s_own(phrase, noun, colours, locations, relation, obj):
    p = parse_phrase(phrase)
    assert (p.subject.noun, p.subject.colours) == (noun, colours)
    assert [loc.word for loc in p.subject.locations] == locations
    assert p.relation == relation and (p.obj.noun if p.obj else None) == obj


@pytest.mark.parametrize("phrase,noun,generic,locations,relation", [
    ("the person cut off on the left", "person", False, ["left"], None),   # not a person "cut off"
    ("the car partially cut off", "car", False, [], None),
    ("the mostly hidden car on the left", "car", False, ["left"], None),   # a state, not the noun
    ("a slightly bigger dog", "dog", False, [], None),
    ("player number 5", "player", False, [], None),                         # a label, not a "5"
    ("the one behind", "one", True, ["behind"], None),                      # a place in depth
    ("the man behind the car", "man", False, [], "behind"),                 # a relation
    ("the frontmost sheep", "sheep", False, ["frontmost"], None),
    ("the picture on the wall", "picture", False, [], "on"),                # a thing
    ("the picture frame", "picture frame", False, [], None),
    ("the man in the picture", "man", False, [], None),                     # the whole photo
    ("the top left of the picture", "", True, ["top", "left"], None),
    ("the picture of a dog", "dog", False, [], None),                       # an image of a dog
])
def test_states_labels_and_pictures_are_not_nouns_unless_they_name_the_thing(phrase, noun, generic,
                                                                            locations, relation):
    p = parse_phrase(phrase)
    assert (p.subject.noun, p.subject.generic) == (noun, generic)
    assert [loc.word for loc in p.subject.locations] == locations
    assert p.relation == relation


def test_the_object_of_a_relation_wears_what_it_wears():
    p = parse_phrase("the man next to the woman in the red dress")
    assert (p.relation, p.obj.noun, p.obj.colours) == ("near", "woman", ("red",))
