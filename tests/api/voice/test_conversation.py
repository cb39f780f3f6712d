from api.voice.conversation import Conversation


def count(text: str) -> int:
    return len(text.split())


def test_history_is_kept_in_order_and_trimmed_oldest_first() -> None:
    conversation = Conversation(context_tokens=120, reply_tokens=20)
    for n in range(10):
        conversation.add(f"question {n} " + "word " * 5, f"answer {n}")
    messages = conversation.messages("be brief", "the newest question", count)
    assert messages[0].role == "system" and messages[-1].content == "the newest question"
    kept = [m.content for m in messages if m.role == "user"][:-1]
    assert kept and kept[-1].startswith("question 9")
    assert not any(k.startswith("question 0") for k in kept)
    numbers = [int(k.split()[1]) for k in kept]
    assert numbers == sorted(numbers)
    # the kept history fits what the system prompt, the question and the reply leave over
    history = sum(count(m.content) + 8 for m in messages[1:-1])
    assert history <= 120 - 20 - count("be brief") - count("the newest question") - 16


def test_roles_alternate() -> None:
    conversation = Conversation(context_tokens=8192, reply_tokens=96)
    conversation.add("hi", "hello")
    roles = [m.role for m in conversation.messages("s", "next", count)]
    assert roles == ["system", "user", "assistant", "user"]
