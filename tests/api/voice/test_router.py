import asyncio
from typing import Any

from api.voice.actions.http_api import HttpApiAction
from api.voice.kb import KnowledgeBase
from api.voice.router import Action, ActionRequest, ActionResult, Router, load_actions
from core.messages import NLUResult
from core.settings import Settings
from tests.utils.http_server import json_server


def request(text: str, intent: str = "scientific_query") -> ActionRequest:
    return ActionRequest(text=text, nlu=NLUResult(intent=intent, domain="physics"))  # type: ignore[arg-type]


async def test_default_actions_by_intent(settings: Settings, tmp_path) -> None:
    router = Router(settings, load_actions(settings, kb=KnowledgeBase.load(tmp_path)))
    science = await router.route(request("what is the speed of light"))
    assert [p.id for p in science.passages] == [
        "codata:speed-of-light-in-vacuum",  # the fact, answered from the store
        "phys-speed-of-light",  # the passage, for the LLM when there is no fact
    ]
    assert science.answer == "The speed of light in vacuum is 299,792,458 m/s."
    assert science.grounding[0].value == 299792458 and science.abandoned == []
    explain = await router.route(request("why is the sky blue"))
    assert explain.answer is None and explain.grounding == []
    unknown = await router.route(request("what is the mass of a unicorn"))
    assert unknown.answer == "I don't know that value." and unknown.grounding == []
    units = await router.route(request("convert 5 miles to kilometers", "unit_conversion"))
    assert units.answer == "5 miles is about 8.05 kilometres." and units.passages == []
    other = await router.route(request("what's the weather tomorrow", "other"))
    assert other.answer is not None and "only help with science" in other.answer
    greeting = await router.route(request("hello", "greeting"))
    assert (greeting.passages, greeting.facts, greeting.answer) == ([], [], None)


class SleepyAction(Action):
    """A real coroutine that overruns any small budget."""

    name = "sleepy"

    async def run(self, request: ActionRequest) -> ActionResult:
        await asyncio.sleep(5)
        return ActionResult(facts=["too late"])


class BrokenAction(Action):
    name = "broken"

    async def run(self, request: ActionRequest) -> ActionResult:
        raise RuntimeError("backend exploded")


async def test_over_budget_and_failing_actions_are_abandoned(settings: Settings, tmp_path) -> None:
    custom = settings.model_copy(
        update={
            "actions": {"scientific_query": ["rag", "sleepy", "broken"]},
            "action_budget_ms": {"rag": 500, "sleepy": 50, "broken": 500},
        }
    )
    actions: dict[str, Any] = load_actions(settings, kb=KnowledgeBase.load(tmp_path))
    actions.update(sleepy=SleepyAction(), broken=BrokenAction())
    result = await Router(custom, actions).route(request("what is the speed of light"))
    assert sorted(result.abandoned) == ["broken", "sleepy"]
    assert result.passages and "too late" not in result.facts
    assert result.elapsed_ms < 1000


async def test_http_api_action_posts_and_reads_facts(settings: Settings) -> None:
    def respond(body: dict[str, Any]) -> tuple[int, Any, float]:
        return 200, {"facts": [f"echo: {body['text']}"], "answer": "Forty two."}, 0.0

    with json_server(respond) as (url, received):
        action = HttpApiAction(settings.model_copy(update={"api_action_url": url}))
        result = await action.run(request("what is the answer"))
    assert (
        received[0]["text"] == "what is the answer" and received[0]["intent"] == "scientific_query"
    )
    assert result.facts == ["echo: what is the answer"] and result.answer == "Forty two."


async def test_slow_http_api_is_abandoned_within_budget(settings: Settings) -> None:
    with json_server(lambda body: (200, {"answer": "slow"}, 2.0)) as (url, _):
        custom = settings.model_copy(
            update={
                "api_action_url": url,
                "actions": {"scientific_query": ["api"]},
                "action_budget_ms": {"api": 200},
            }
        )
        router = Router(custom, load_actions(custom))
        started = asyncio.get_running_loop().time()
        result = await router.route(request("anything"))
        assert asyncio.get_running_loop().time() - started < 1.5
    assert result.abandoned == ["api"] and result.answer is None


async def test_http_api_errors_and_odd_replies_add_nothing(settings: Settings) -> None:
    with json_server(lambda body: (500, {"error": "x"}, 0.0)) as (url, _):
        custom = settings.model_copy(
            update={"api_action_url": url, "actions": {"scientific_query": ["api"]}}
        )
        result = await Router(custom, load_actions(custom)).route(request("x"))
        assert result.abandoned == ["api"]
    with json_server(lambda body: (200, ["not", "an", "object"], 0.0)) as (url, _):
        action = HttpApiAction(settings.model_copy(update={"api_action_url": url}))
        assert await action.run(request("x")) == ActionResult()
