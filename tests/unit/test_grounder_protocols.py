"""The model's protocols (``core.grounder``) are what the models are: the real model
(``grounding.grounder.Grounder``) is every one of them, member by member and call by call, checked
on the class without loading anything; the tests' fake (``tests/gui/fakes.py``) is the interactive
and the folder model and says it does not learn, which is how the model process tells (``isinstance``
once, at load)."""
from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Protocol

import pytest

from grounding_desktop.core.grounder import FolderGrounder, Grounder, LearningGrounder

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gui"))
from fakes import FakeGrounder  # noqa: E402

PROTOCOLS = (Grounder, FolderGrounder, LearningGrounder)


def _members(protocol: type) -> dict[str, object]:
    """Every member a protocol declares, its own and its bases' (the nearest declaration wins)."""
    out: dict[str, object] = {}
    for cls in reversed(protocol.__mro__):
        if cls is not Protocol and getattr(cls, "_is_protocol", False):
            out.update({k: v for k, v in vars(cls).items() if not k.startswith("_")})
    return out


def _unmet(model: object, protocol: type) -> list[str]:
    """What ``model`` (a class, or an instance: values it sets when built) lacks of ``protocol``: a member missing, a property that is a method (or the
    other way round), or a method that cannot be called as the protocol calls it (a parameter
    missing or out of place, a default the protocol has and it lacks, a further one with none)."""
    cls = model if isinstance(model, type) else type(model)
    unmet = []
    for name, wanted in _members(protocol).items():
        try:
            have = inspect.getattr_static(model, name)
        except AttributeError:
            unmet.append(f"{name}: missing")
            continue
        if isinstance(wanted, property):
            if callable(have) and not isinstance(have, property):
                unmet.append(f"{name}: a method, not a value")
            continue
        if not callable(have) or isinstance(have, property):
            unmet.append(f"{name}: not a method")
            continue
        want = list(inspect.signature(wanted).parameters.values())[1:]
        got = list(inspect.signature(getattr(cls, name)).parameters.values())
        if not isinstance(have, staticmethod):
            got = got[1:]
        by_name = {p.name: p for p in got}
        for i, p in enumerate(want):
            q = by_name.get(p.name)
            if q is None:
                unmet.append(f"{name}: no parameter {p.name}")
            elif p.kind != p.KEYWORD_ONLY and got.index(q) != i:
                unmet.append(f"{name}: {p.name} is not parameter {i + 1}")
            elif p.default is not p.empty and q.default is q.empty:
                unmet.append(f"{name}: {p.name} has no default")
        unmet += [f"{name}: {q.name} is needed" for q in got
                  if q.name not in {p.name for p in want} and q.default is q.empty
                  and q.kind not in (q.VAR_POSITIONAL, q.VAR_KEYWORD)]
    return unmet


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=lambda p: p.__name__)
def test_the_real_model_is_every_protocol_of_the_model(protocol):
    from grounding_desktop.grounding.grounder import Grounder as Model

    assert _unmet(Model, protocol) == []


def test_the_real_model_is_what_search_indexes_it_as():
    """``grounding.image_search.IndexedGrounder``: a folder model whose scorer and learned concepts
    the index reads (``concepts`` is set when the model is built: checked on one, nothing loaded)."""
    from grounding_desktop.grounding.grounder import Grounder as Model
    from grounding_desktop.grounding.image_search import IndexedGrounder

    assert _unmet(Model(), IndexedGrounder) == []
    assert _unmet(Model, IndexedGrounder) == ["concepts: missing"]


def test_the_check_finds_what_a_model_lacks():
    class Partial:
        device = "cpu"
        runtime = model_version = "x"

        def load(self):
            return self

        def prepare(self, image):  # no key
            return str(image)

        def propose(self, phrase, image_or_key, hint=None, top_k=5):  # out of place
            return []

    assert _unmet(Partial, Grounder) == ["prepare: no parameter key", "propose: image_or_key is not parameter 1",
                                         "propose: phrase is not parameter 2"]
    assert "forget_concepts: missing" in _unmet(Partial, LearningGrounder)


def test_the_fake_model_is_the_interactive_and_the_folder_model_and_does_not_learn():
    fake = FakeGrounder()
    assert _unmet(fake, Grounder) == _unmet(fake, FolderGrounder) == []
    assert isinstance(fake, FolderGrounder)
    assert not isinstance(fake, LearningGrounder)  # what the model process asks once it loaded
