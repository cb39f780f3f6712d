import json

import pytest

from api.voice.protocol import (
    MAX_AUDIO_FRAME,
    Consent,
    Feedback,
    ProtocolError,
    Start,
    check_audio_frame,
    parse_client_message,
)


def test_valid_messages() -> None:
    start = parse_client_message(
        '{"type":"start","voice":"friendly","consent":true,"user":"u1","region":"eu"}'
    )
    assert isinstance(start, Start) and start.consent and start.region == "eu"
    assert parse_client_message('{"type":"start"}') == Start(type="start")
    assert isinstance(parse_client_message('{"type":"consent","granted":false}'), Consent)
    feedback = parse_client_message('{"type":"feedback","turn_id":"t1","value":"thumbs_down"}')
    assert isinstance(feedback, Feedback) and feedback.value == "thumbs_down"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("not json", "bad_json"),
        ("[1, 2]", "bad_json"),
        ('"start"', "bad_json"),
        ("[" * 100_000, "message_too_large"),
        ('{"type":"launch"}', "unknown_type"),
        ('{"no":"type"}', "unknown_type"),
        ('{"type":"start","consent":"yes"}', "invalid_message"),
        ('{"type":"start","voice":"robot"}', "invalid_message"),
        ('{"type":"start","region":"mars"}', "invalid_message"),
        ('{"type":"start","extra":1}', "invalid_message"),
        ('{"type":"consent"}', "invalid_message"),
        ('{"type":"feedback","turn_id":"","value":"thumbs_up"}', "invalid_message"),
        ('{"type":"feedback","turn_id":"t","value":"meh"}', "invalid_message"),
        (json.dumps({"type": "start", "user": "x" * 600}), "invalid_message"),
    ],
)
def test_bad_messages_have_codes(text: str, code: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_client_message(text)
    assert caught.value.code == code


def test_deeply_nested_json_is_refused_not_crashing() -> None:
    with pytest.raises(ProtocolError):
        parse_client_message("[" * 2000 + "]" * 2000)


def test_audio_frames() -> None:
    check_audio_frame(b"\x00\x00" * 320)
    with pytest.raises(ProtocolError, match="even"):
        check_audio_frame(b"\x00" * 641)
    with pytest.raises(ProtocolError) as caught:
        check_audio_frame(b"\x00" * (MAX_AUDIO_FRAME + 2))
    assert caught.value.code == "frame_too_large"
