import importlib.util
import json
from collections.abc import Iterator

import pytest

from api.voice.backends.llm_openai import OpenAICompatibleLLM
from api.voice.backends.nlu_llm import LLMNLU
from api.voice.llm import registry as llm_registry
from api.voice.models import Models
from api.voice.nlu import NLU_SCHEMA
from api.voice.tts import registry as tts_registry
from core.errors import BackendUnavailable
from core.messages import DOMAINS, INTENTS, ChatMessage
from core.settings import Settings
from tests.utils.processes import PYTHON, free_port, running

QUESTION = [
    ChatMessage(role="system", content="Answer in one short sentence."),
    ChatMessage(role="user", content="What is the speed of light?"),
]


async def test_llamacpp_streams_an_answer(models: Models) -> None:
    pieces = [p async for p in models.llm.generate(QUESTION, max_tokens=40)]
    assert len(pieces) > 3
    assert "light" in "".join(pieces).lower()
    assert models.llm.count_tokens("What is the speed of light?") < 12


async def test_closing_the_stream_early_frees_the_model(models: Models) -> None:
    stream = models.llm.generate(QUESTION, max_tokens=80)
    first = await stream.__anext__()
    await stream.aclose()
    assert first
    again = [p async for p in models.llm.generate(QUESTION, max_tokens=8)]
    assert again  # the lock was released: a second generation runs


async def test_llm_nlu_backend_is_constrained_to_the_schema(
    settings: Settings, models: Models
) -> None:
    raw = await models.llm.complete_json(QUESTION[1:], NLU_SCHEMA)
    data = json.loads(raw)
    assert data["intent"] in INTENTS and data["domain"] in DOMAINS
    nlu = LLMNLU(settings, models.llm)
    for text in ["what is the speed of light", "", "🙂🙂", "x" * 3000]:
        result = await nlu.understand(text)
        assert result.intent in INTENTS and result.domain in DOMAINS


@pytest.fixture(scope="module")
def openai_server(settings: Settings) -> Iterator[str]:
    port = free_port()
    command = [
        PYTHON,
        "-m",
        "llama_cpp.server",
        "--model",
        str(settings.resolved_llm_model_path()),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        "2",
    ]
    with running(command, f"http://127.0.0.1:{port}/v1/models", timeout_s=90):
        yield f"http://127.0.0.1:{port}/v1"


async def test_openai_backend_streams_from_a_real_server(
    settings: Settings, openai_server: str
) -> None:
    llm = OpenAICompatibleLLM(settings.model_copy(update={"openai_base_url": openai_server}))
    pieces = [p async for p in llm.generate(QUESTION, max_tokens=40)]
    assert len(pieces) > 3
    assert "light" in "".join(pieces).lower()
    data = json.loads(await llm.complete_json(QUESTION[1:], NLU_SCHEMA))
    assert data["intent"] in INTENTS and data["domain"] in DOMAINS


async def test_openai_backend_unreachable_is_a_clear_error(settings: Settings) -> None:
    llm = OpenAICompatibleLLM(
        settings.model_copy(update={"openai_base_url": f"http://127.0.0.1:{free_port()}/v1"})
    )
    with pytest.raises(BackendUnavailable, match="unreachable"):
        _ = [p async for p in llm.generate(QUESTION, max_tokens=5)]


@pytest.mark.parametrize(
    ("registry", "name", "extra", "package"),
    [(llm_registry, "vllm", "gpu", "vllm"), (tts_registry, "xtts", "xtts", "TTS")],
)
def test_gpu_backends_name_their_missing_extra(
    registry, name: str, extra: str, package: str
) -> None:
    # vLLM and coqui-tts are not installed on CPU machines: loading must say which extra to
    # install, in one line, instead of a traceback.
    if importlib.util.find_spec(package) is not None:
        pytest.skip(f"{package} is installed here, so no extra is missing")
    with pytest.raises(BackendUnavailable) as caught:
        registry.load(name)
    message = str(caught.value)
    assert f"voice-service[{extra}]" in message and "\n" not in message


def test_unknown_backend_lists_the_choices() -> None:
    with pytest.raises(BackendUnavailable, match=r"choose one of (fake, )?llamacpp, openai, vllm"):
        llm_registry.load("gpt-17")
