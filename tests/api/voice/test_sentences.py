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
