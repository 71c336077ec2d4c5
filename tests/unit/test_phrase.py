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


def test_invisible_characters_are_dropped_and_joiners_kept():
    assert clean_phrase("\ufeffthe\u200b cup\u2060") == "the cup"
    assert clean_phrase("the \u202ecup") == "the cup"
    assert clean_phrase("می\u200cخواهم") == "می\u200cخواهم"  # Persian needs its zero-width non-joiner


@pytest.mark.parametrize("text", ["the", "a of", "The  Of", "\ufeffthe", "on the"])
def test_a_phrase_of_only_stop_words_names_nothing(text):
    from grounding_desktop.core import NamesNothing

    with pytest.raises(NamesNothing, match="names nothing"):
        clean_phrase(text)
    assert clean_phrase(f"{text} cup").endswith("cup")
