"""The words the phrase scorer understands: class synonyms, colours, sizes, places, relations.

Kept as plain data in one module so the parser and the scorer agree on them and a reader can see
at a glance what the zero-shot scorer knows. Nothing here imports torch; the phrase encoder turns
the synonym lists into class prototypes, so a word that is *not* listed ("puppy", "pooch") still
finds its class through embedding similarity.
"""
from __future__ import annotations

# COCO class name -> words people use for it. The class name itself is always included. Words
# not listed still find their class through the phrase encoder ("puppy" -> dog, "guy" -> person);
# the lists give the encoder several anchors per class and make common words exact.
CLASS_SYNONYMS: dict[str, tuple[str, ...]] = {
    "person": ("person", "man", "woman", "people", "lady", "boy", "girl", "child", "kid",
               "baby", "human", "player", "rider", "skier", "surfer", "skateboarder", "pedestrian",
               "someone", "gentleman", "adult", "teenager", "toddler", "batter", "catcher",
               "umpire", "jockey", "cowboy", "biker", "cyclist", "worker", "chef", "spectator"),
    "bicycle": ("bicycle", "bike", "cycle"),
    "car": ("car", "automobile", "taxi", "sedan", "suv", "van"),
    "motorcycle": ("motorcycle", "motorbike", "scooter", "moped"),
    "airplane": ("airplane", "plane", "aeroplane", "jet", "aircraft", "airliner"),
    "bus": ("bus", "coach"),
    "train": ("train", "locomotive", "tram"),
    "truck": ("truck", "lorry", "pickup"),
    "boat": ("boat", "ship", "sailboat", "canoe", "kayak", "yacht"),
    "traffic light": ("traffic light", "stoplight", "signal"),
    "fire hydrant": ("fire hydrant", "hydrant"),
    "stop sign": ("stop sign",),
    "parking meter": ("parking meter", "meter"),
    "bench": ("bench",),
    "bird": ("bird", "duck", "pigeon", "seagull", "gull", "goose", "parrot"),
    "cat": ("cat", "kitten", "kitty"),
    "dog": ("dog", "pup", "doggy"),
    "horse": ("horse", "pony", "foal", "stallion", "mare"),
    "sheep": ("sheep", "lamb", "ram"),
    "cow": ("cow", "cattle", "bull", "calf", "ox"),
    "elephant": ("elephant",),
    "bear": ("bear",),
    "zebra": ("zebra",),
    "giraffe": ("giraffe",),
    "backpack": ("backpack", "rucksack"),
    "umbrella": ("umbrella", "parasol"),
    "handbag": ("handbag", "purse", "bag"),
    "tie": ("tie", "necktie"),
    "suitcase": ("suitcase", "luggage"),
    "frisbee": ("frisbee",),
    "skis": ("skis", "ski"),
    "snowboard": ("snowboard",),
    "sports ball": ("sports ball", "ball", "football", "soccer ball", "baseball", "tennis ball"),
    "kite": ("kite",),
    "baseball bat": ("baseball bat", "bat"),
    "baseball glove": ("baseball glove", "glove", "mitt"),
    "skateboard": ("skateboard",),
    "surfboard": ("surfboard", "board"),
    "tennis racket": ("tennis racket", "racket", "racquet"),
    "bottle": ("bottle",),
    "wine glass": ("wine glass", "glass"),
    "cup": ("cup", "mug"),
    "fork": ("fork",),
    "knife": ("knife",),
    "spoon": ("spoon",),
    "bowl": ("bowl", "container", "dish"),
    "banana": ("banana",),
    "apple": ("apple",),
    "sandwich": ("sandwich", "burger"),
    "orange": ("orange", "tangerine", "mandarin"),
    "broccoli": ("broccoli",),
    "carrot": ("carrot",),
    "hot dog": ("hot dog", "hotdog"),
    "pizza": ("pizza",),
    "donut": ("donut", "doughnut"),
    "cake": ("cake", "cupcake", "muffin"),
    "chair": ("chair", "seat"),
    "couch": ("couch", "sofa"),
    "potted plant": ("potted plant", "plant", "houseplant", "flower", "flowers", "bouquet"),
    "bed": ("bed",),
    "dining table": ("dining table", "table", "desk"),
    "toilet": ("toilet",),
    "tv": ("tv", "television", "monitor", "screen"),
    "laptop": ("laptop", "notebook", "computer"),
    "mouse": ("mouse",),
    "remote": ("remote", "remote control", "controller"),
    "keyboard": ("keyboard",),
    "cell phone": ("cell phone", "phone", "smartphone", "mobile"),
    "microwave": ("microwave",),
    "oven": ("oven", "stove"),
    "toaster": ("toaster",),
    "sink": ("sink",),
    "refrigerator": ("refrigerator", "fridge"),
    "book": ("book",),
    "clock": ("clock",),
    "vase": ("vase",),
    "scissors": ("scissors",),
    "teddy bear": ("teddy bear", "teddy", "stuffed animal", "plush"),
    "hair drier": ("hair drier", "hair dryer", "hairdryer"),
    "toothbrush": ("toothbrush",),
}

# Words for a kind of thing that covers several COCO classes equally ("the animal on the left").
HYPERNYMS: dict[str, tuple[str, ...]] = {
    "animal": ("bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra",
               "giraffe"),
    "pet": ("cat", "dog", "bird"),
    "vehicle": ("bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat"),
    "fruit": ("banana", "apple", "orange"),
    "vegetable": ("broccoli", "carrot"),
    "food": ("banana", "apple", "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza",
             "donut", "cake"),
    "furniture": ("chair", "couch", "bed", "dining table", "bench"),
    "utensil": ("fork", "knife", "spoon"),
    "cutlery": ("fork", "knife", "spoon"),
    "dessert": ("donut", "cake"),
    "electronics": ("tv", "laptop", "mouse", "remote", "keyboard", "cell phone"),
    "appliance": ("microwave", "oven", "toaster", "sink", "refrigerator"),
    "luggage": ("backpack", "handbag", "suitcase"),
}

# Nouns that name "whatever object": the subject module then falls back to objectness.
GENERIC_NOUNS = frozenset({"thing", "things", "object", "objects", "one", "ones", "item", "items",
                           "it", "stuff", "something", "region", "area", "anything", "there", "here"})

ARTICLES = frozenset({"the", "a", "an", "this", "that", "these", "those", "its", "his", "her",
                      "their", "some", "any", "of", "is", "are", "which", "who", "to", "other",
                      "another", "same"})

# Colour names a pixel can get (regions.py assigns them) and the words that mean each.
COLOUR_NAMES = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black",
                "white", "gray")
COLOUR_WORDS: dict[str, str] = {
    "red": "red", "reddish": "red", "maroon": "red", "crimson": "red", "scarlet": "red",
    "orange": "orange", "yellow": "yellow", "golden": "yellow", "gold": "yellow",
    "blond": "yellow", "blonde": "yellow",
    "green": "green", "greenish": "green", "olive": "green",
    "blue": "blue", "bluish": "blue", "navy": "blue", "teal": "blue", "cyan": "blue",
    "turquoise": "blue",
    "purple": "purple", "violet": "purple", "lilac": "purple", "magenta": "pink",
    "pink": "pink", "pinkish": "pink",
    "brown": "brown", "tan": "brown", "beige": "brown", "chocolate": "brown",
    "black": "black", "white": "white", "gray": "gray", "grey": "gray", "silver": "gray",
}
# Colour names people use for overlapping shades (amber walls of a yellow bowl in shade, a
# pinkish red): a pixel of a neighbouring name counts partly (priors.colour_neighbour_credit).
COLOUR_NEIGHBOURS = frozenset({
    ("red", "orange"), ("orange", "yellow"), ("yellow", "green"), ("green", "blue"),
    ("blue", "purple"), ("purple", "pink"), ("pink", "red"), ("orange", "brown"),
    ("brown", "red"), ("white", "gray"), ("gray", "black"),
})
# Brightness words are scored on the region's mean lightness, not on one colour name.
BRIGHTNESS_WORDS: dict[str, str] = {
    "dark": "dark", "darker": "dark", "darkest": "dark",
    "light": "light", "lighter": "light", "lightest": "light", "bright": "light",
    "pale": "light",
}

# Words that are a thing or a quality: "the orange" (the fruit) and "the orange cup" (the
# colour), "the lighter" (the igniter) and "the lighter cup" (the brighter one).
NOUN_OR_ADJECTIVE = frozenset({"orange", "lighter"})

# Size words -> (measure, direction). Measures: area, height, width.
SIZE_WORDS: dict[str, tuple[str, int]] = {
    "big": ("area", 1), "bigger": ("area", 1), "biggest": ("area", 1),
    "large": ("area", 1), "larger": ("area", 1), "largest": ("area", 1),
    "huge": ("area", 1), "giant": ("area", 1), "great": ("area", 1),
    "small": ("area", -1), "smaller": ("area", -1), "smallest": ("area", -1),
    "little": ("area", -1), "tiny": ("area", -1), "mini": ("area", -1),
    "tall": ("height", 1), "taller": ("height", 1), "tallest": ("height", 1),
    "short": ("height", -1), "shorter": ("height", -1), "shortest": ("height", -1),
    "wide": ("width", 1), "wider": ("width", 1), "widest": ("width", 1),
    "long": ("width", 1), "longer": ("width", 1), "longest": ("width", 1),
    "narrow": ("width", -1), "thin": ("width", -1),
}
# Posture words say something about the box's shape: lying things are wide, standing ones tall.
POSE_WORDS: dict[str, int] = {
    "lying": 1, "laying": 1, "sleeping": 1, "resting": 1,
    "standing": -1, "upright": -1, "rearing": -1,
}

# Location words -> axis and direction. x: -1 left, +1 right; y: -1 top, +1 bottom;
# "center" pulls to the middle; depth: +1 near the viewer, -1 far away.
LOCATION_WORDS: dict[str, tuple[str, int]] = {
    "left": ("x", -1), "leftmost": ("x", -1), "right": ("x", 1), "rightmost": ("x", 1),
    "top": ("y", -1), "upper": ("y", -1), "topmost": ("y", -1), "up": ("y", -1),
    "bottom": ("y", 1), "lower": ("y", 1), "bottommost": ("y", 1), "down": ("y", 1),
    "middle": ("center", 0), "center": ("center", 0), "centre": ("center", 0),
    "central": ("center", 0),
    "closest": ("depth", 1), "closer": ("depth", 1), "nearest": ("depth", 1),
    "front": ("depth", 1), "foreground": ("depth", 1),
    "farthest": ("depth", -1), "furthest": ("depth", -1), "far": ("depth", -1),
    "back": ("depth", -1), "background": ("depth", -1), "distant": ("depth", -1),
    "frontmost": ("depth", 1), "backmost": ("depth", -1),
    "behind": ("depth", -1),  # with nothing after it ("the one behind"); before an object, a relation
}
# Words that, right after a verb, belong to it ("sitting down", "standing up", "bending over",
# "facing away", "leaning back"): neither a place in the picture nor an object of a relation.
PARTICLES = frozenset({"up", "down", "over", "away", "around", "out", "off"})
# Participles that are no -ing or -ed form, before a particle: "the person cut off on the left".
IRREGULAR_PARTICIPLES = frozenset({"cut", "bent", "shut", "held"})
# Words of degree say how much, not what: "the car partially cut off", "the mostly hidden dog".
DEGREE_WORDS = frozenset({"partially", "partly", "mostly", "barely", "slightly", "fully", "completely",
                          "almost", "nearly"})
# Words for a picture in the picture: the thing a phrase names first ("the picture on the wall", "the
# picture frame"), but the whole photo after another noun ("the man in the picture"), when a place is
# said ("the top left of the picture") and before "of" ("the picture of a dog" is looked for as a dog).
PICTURE_WORDS = frozenset({"picture", "photo", "image", "frame"})
# Words that may sit inside a location phrase, or between a noun and what it is in, without
# changing it ("the man sitting on the left", "the woman dressed in red").
LOCATION_FILLER = frozenset({"side", "corner", "part", "edge", "half", "end", "row", "one",
                             "most", "hand", "image", "picture", "photo", "frame", "very",
                             "far", "all", "way", "of", "in", "on", "at", "the", "to", "from",
                             "and", "sitting", "standing", "positioned", "placed", "located",
                             "dressed", "clad", "out"})
# What people wear: "the girl in the pink shirt" is a girl who looks pink where the shirt is, not a
# girl inside a shirt ("in", "wearing", "with": WEARING_WORDS). No place word ("top"), no COCO
# class ("tie": the detector's tie is an object a relation can be judged with), nothing else
# first ("hood": a car's; "glasses": of wine). Plurals are read in the singular.
CLOTHING_WORDS = frozenset({
    "shirt", "tshirt", "blouse", "sweater", "sweatshirt", "hoodie", "jumper", "cardigan",
    "jacket", "coat", "parka", "vest", "dress", "gown", "skirt", "suit", "uniform", "jersey",
    "outfit", "clothes", "clothing", "costume", "robe", "apron", "pants", "trousers", "jeans",
    "shorts", "leggings", "hat", "cap", "beanie", "helmet", "scarf", "gloves", "boots",
    "shoes", "sneakers", "socks", "sunglasses", "eyeglasses", "goggles", "wetsuit", "bikini",
    "swimsuit", "overalls", "sleeves", "kimono", "poncho", "sombrero"})
WEARING_WORDS = frozenset({"in", "wearing", "wears", "with"})
# Words for people beyond COCO's person words (``CLASS_SYNONYMS["person"]``) that say who wears
# the clothes a phrase names without "in": "guy red shirt", "red shirt guy" are a guy. Only the
# parser reads them: they are no class prototypes (which would move other nouns' classes).
MORE_PEOPLE = frozenset({"guy", "guys", "dude", "fellow", "mom", "mother", "dad", "father", "teen",
                         "teenager", "youngster", "cop", "policeman", "policewoman", "officer",
                         "soldier", "bride", "groom", "students", "student", "tourist", "athlete"})

ORDINALS: dict[str, int] = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "last": -1,
}

# Relation words (possibly several tokens) -> the geometric relation they are scored with.
# Longest match wins, so "in front of" is not read as "in".
RELATION_PHRASES: dict[str, str] = {
    "on top of": "on", "on": "on", "onto": "on", "atop": "on", "upon": "on",
    "riding": "on", "rides": "on", "sitting on": "on", "standing on": "on",
    "sits on": "on", "stands on": "on", "lying on": "on", "laying on": "on", "perched on": "on",
    "in": "in", "inside": "in", "within": "in", "inside of": "in", "sitting in": "in",
    "standing in": "in", "filled with": "in", "full of": "in", "contains": "in",
    "containing": "in",
    "under": "below", "underneath": "below", "below": "below", "beneath": "below",
    "above": "above", "over": "above",
    "next to": "near", "beside": "near", "besides": "near", "near": "near", "by": "near",
    "close to": "near", "alongside": "near", "nearby": "near", "near to": "near",
    "between": "near", "among": "near", "against": "near",
    "left of": "left_of", "to the left of": "left_of", "on the left of": "left_of",
    "right of": "right_of", "to the right of": "right_of", "on the right of": "right_of",
    "behind": "behind", "in back of": "behind",
    "in front of": "front_of", "before": "front_of",
    "holding": "holding", "holds": "holding", "carrying": "holding", "carries": "holding",
    "with": "holding", "has": "holding", "having": "holding", "using": "holding",
    "wearing": "holding", "wears": "holding", "eating": "holding", "playing": "holding",
    "playing with": "holding", "throwing": "near", "catching": "near", "hitting": "near",
    "walking": "near", "looking at": "near", "watching": "near", "feeding": "near",
    "pulling": "near", "pushing": "near", "leading": "near", "petting": "near",
    "at": "near",
}

# Words before "of" after which what follows is what to look for: a portion or a kind of it ("the
# slice of pizza", "the kind of dog"), a part of it, seen only with it ("the head of the giraffe"),
# or an image of it, which looks like it ("the statue of a man"); "the cup of coffee" is a cup.
# Many of it: COLLECTIVE_WORDS ("the pile of books": books).
OF_WHAT_FOLLOWS = frozenset({"slice", "piece", "bit", "chunk", "portion", "serving", "wedge", "scoop",
                             "helping", "morsel", "kind", "type", "sort", "rest",
                             "head", "tail", "leg", "arm", "face", "nose", "ear", "eye", "wing", "rear",
                             "reflection", "shadow", "statue", "painting", "drawing", "silhouette",
                             "sculpture", "figurine"})
COLLECTIVE_WORDS = frozenset({"pile", "stack", "line", "set", "lot", "team", "heap", "cluster",
                              "collection", "bundle"})

# Words that tell a plural phrase apart even when the noun does not ("all people").
PLURAL_MARKERS = frozenset({"all", "both", "every", "each", "many", "several", "two", "three",
                            "four", "five", "six", "seven", "eight", "nine", "ten", "multiple",
                            "group", "pair", "couple", "bunch", "herd", "flock", "crowd"})
IRREGULAR_PLURALS: dict[str, str] = {
    "people": "person", "persons": "person", "men": "man", "women": "woman",
    "children": "child", "kids": "kid", "mice": "mouse", "geese": "goose", "teeth": "tooth",
    "feet": "foot", "knives": "knife", "leaves": "leaf", "wolves": "wolf", "shelves": "shelf",
    "loaves": "loaf", "skis": "skis", "scissors": "scissors", "sheep": "sheep",
    "cattle": "cattle", "glasses": "glass", "dishes": "dish", "buses": "bus",
    "benches": "bench", "boxes": "box", "sandwiches": "sandwich", "ponies": "pony",
    "puppies": "puppy", "ladies": "lady", "guys": "guy", "broccoli": "broccoli",
    "bouquets": "bouquet", "flowers": "flower",
}
# Nouns whose singular and plural forms are the same: the phrase alone cannot say.
AMBIGUOUS_NUMBER = frozenset({"sheep", "fish", "deer", "broccoli", "skis", "scissors"})
