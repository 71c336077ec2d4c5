import pytest

from grounding_desktop.core import MAX_PHRASE_CHARS, PhraseError, clean_phrase


def test_whitespace_collapsed_and_text_kept():
    assert clean_phrase("  the   dog\ton the LEFT ") == "the dog on the LEFT"


@pytest.mark.parametrize("bad", ["", "   ", "\n\t", "?!...", None])
def test_empty_or_meaningless_refused(bad):
    with pytest.raises(PhraseError):
        clean_phrase(bad)


def test_too_long_refused_with_length_in_message():
    with pytest.raises(PhraseError, match="501"):
        clean_phrase("a" * (MAX_PHRASE_CHARS + 1))
    assert clean_phrase("a" * MAX_PHRASE_CHARS)
