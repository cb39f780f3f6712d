import pytest

from api.voice.units import convert, parse_number


@pytest.mark.parametrize(
    ("words", "value"),
    [
        ("5", 5.0),
        ("2,500.5", 2500.5),
        ("five", 5.0),
        ("twenty six", 26.0),
        ("three hundred and twelve", 312.0),
        ("two point five", 2.5),
        ("one thousand two hundred", 1200.0),
        ("a", 1.0),
        ("half", 0.5),
        ("banana", None),
        ("", None),
    ],
)
def test_numbers_spoken_or_written(words: str, value: float | None) -> None:
    assert parse_number(words) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Convert 5 miles to kilometers.", "5 miles is about 8.05 kilometres."),
        ("how many grams are in three pounds", "3 pounds is about 1,361 grams."),
        (
            "What is 100 fahrenheit in celsius?",
            "100 degrees Fahrenheit is about 37.8 degrees Celsius.",
        ),
        ("what is 0 degrees celsius in kelvin", "0 degrees Celsius is about 273 kelvin."),
        ("how many joules is one calorie", "1 calorie is about 4.18 joules."),
        ("twenty six point two miles in km", "26.2 miles is about 42.2 kilometres."),
        ("how many seconds in a day", "1 day is about 86,400 seconds."),
        (
            "one mile per hour in metres per second",
            "1 mile per hour is about 0.447 metres per second.",
        ),
    ],
)
def test_conversions(text: str, expected: str) -> None:
    conversion = convert(text)
    assert conversion is not None
    assert conversion.spoken() == expected


@pytest.mark.parametrize(
    "text",
    [
        "convert 5 miles to kilograms",
        "what is the speed of light",
        "",
        "how many moons has jupiter",
    ],
)
def test_no_conversion(text: str) -> None:
    assert convert(text) is None
