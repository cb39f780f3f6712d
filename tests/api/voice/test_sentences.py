from api.voice.sentences import SentenceSplitter, speakable


def feed_all(pieces: list[str]) -> list[str]:
    splitter = SentenceSplitter()
    out = [s for piece in pieces for s in splitter.feed(piece)]
    rest = splitter.flush()
    return [*out, rest] if rest else out


def test_sentences_come_out_as_soon_as_they_end() -> None:
    splitter = SentenceSplitter()
    assert splitter.feed("The speed of light is about 3") == []
    assert splitter.feed(".0 times ten to the eight metres per second. It is") == [
        "The speed of light is about 3.0 times ten to the eight metres per second."
    ]
    assert splitter.flush() == "It is"


def test_abbreviations_decimals_and_short_fragments_do_not_split() -> None:
    text = "Yes. Pi is about 3.14159, e.g. in circles. Dr. Who said so! Really?"
    assert feed_all([c for c in text]) == [
        "Yes. Pi is about 3.14159, e.g. in circles.",
        "Dr. Who said so!",
        "Really?",
    ]


def test_markdown_and_citations_are_not_spoken() -> None:
    assert speakable("**Water** boils at 100 degrees [chem-water-boiling-point].") == (
        "Water boils at 100 degrees."
    )
    assert feed_all(["# Heat and light\n", "- first item is here\n", "2. second"]) == [
        "Heat and light",
        "first item is here",
        "second",
    ]


def test_a_long_first_clause_is_spoken_before_its_sentence_ends() -> None:
    text = (
        "Light travels very fast in a vacuum, about 300,000 kilometres a second, or so. "
        "Yes, it does."
    )
    assert feed_all([c for c in text]) == [
        "Light travels very fast in a vacuum,",
        "about 300,000 kilometres a second, or so.",
        "Yes, it does.",
    ]
    assert feed_all(["Hi, there friend. Okay, then, sure."]) == [
        "Hi, there friend.",
        "Okay, then, sure.",
    ]


def streamed(text: str, **options: int) -> list[str]:
    """``text`` fed word by word, as an LLM streams it, and the rest flushed."""
    splitter = SentenceSplitter(**options)
    out = [s for word in text.split(" ") for s in splitter.feed(word + " ")]
    rest = splitter.flush()
    return [*out, rest] if rest else out


def test_a_first_sentence_without_a_comma_is_spoken_from_a_phrase_on() -> None:
    text = "The tides on Earth are caused by the pull of the Moon. It pulls the oceans."
    assert streamed(text, first_phrase_words=4) == [
        "The tides on Earth are caused",
        "by the pull of the Moon.",
        "It pulls the oceans.",
    ]
    assert streamed(text) == [  # off by default
        "The tides on Earth are caused by the pull of the Moon.",
        "It pulls the oceans.",
    ]
    # only the first sentence is cut, and not before it has four words
    assert streamed(
        "Water boils at sea level in an open pot. Salt in water boils later.", first_phrase_words=4
    ) == [
        "Water boils at sea level",
        "in an open pot.",
        "Salt in water boils later.",
    ]


def test_a_number_is_never_cut_from_its_unit() -> None:
    text = "The mass of an electron is 9.1 times ten to the minus 31 kilograms. It is tiny."
    assert streamed(text, first_phrase_words=4) == [
        "The mass of an electron is 9.1 times ten to the minus 31 kilograms.",
        "It is tiny.",
    ]
    assert streamed("It weighs 5 kilograms of mass in total. Yes.", first_phrase_words=2) == [
        "It weighs 5 kilograms",
        "of mass in total.",
        "Yes.",
    ]


def test_a_word_ending_like_an_abbreviation_still_ends_a_sentence() -> None:
    # "kilograms." ends in "ms." (as in "Ms. Curie"): only the whole word is an abbreviation
    assert feed_all(["It is 2 kilograms. ", "Ms. Curie said so. ", "Done"]) == [
        "It is 2 kilograms.",
        "Ms. Curie said so.",
        "Done",
    ]


def test_an_answer_that_opens_with_a_mark_is_spoken() -> None:
    # The LLM wrote "." first on a live turn (jfk.flac): the empty text before it has no last
    # word, and the splitter raised IndexError, so the turn ended in `internal_error`.
    assert feed_all([".", " ", "..", "\n", "Ask what you can do. ", "Then do it"]) == [
        "Ask what you can do.",
        "Then do it",
    ]


def test_a_leading_decimal_point_is_kept() -> None:
    assert speakable(". .5 metres is half a metre.") == ".5 metres is half a metre."
