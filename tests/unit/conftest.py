"""Fixtures the unit tests of exports and imports share (found by pytest, never imported)."""
import pytest

from exportkit import labelled_project

from grounding_desktop.project import open_project


@pytest.fixture
def source(tmp_path):
    """:func:`exportkit.labelled_project` in ``tmp_path/photos``."""
    s = labelled_project(tmp_path / "photos")
    yield s
    s.close()


@pytest.fixture
def fresh(tmp_path, source):
    """A second, empty project over the same image folder (its own database)."""
    s, _ = open_project(tmp_path / "photos", tmp_path / "fresh.sqlite")
    yield s
    s.close()
