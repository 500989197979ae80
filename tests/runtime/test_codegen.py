"""seawall_runtime.codegen: serialization, parsing and credentials, without a network."""

from __future__ import annotations

import enum
import inspect
from typing import Any

import httpx
import pytest
from pydantic import Field

from seawall_runtime import (
    ApiError,
    AsyncResilientClient,
    Backoff,
    BudgetPolicy,
    FakeClock,
    FallbackPolicy,
    Operation,
    Outcome,
    Policy,
    ResilientClient,
    ResponseValidationError,
    RetryPolicy,
)
from seawall_runtime.saga import StepResult

from runtime_script import Script
from seawall_runtime.codegen import (
    ApiResponse,
    Body,
    Session,
    Credentials,
    Endpoint,
    Model,
    Param,
    Reply,
    discriminator,
    path_segment,
    returning_value,
    returning_value_async,
)


class Color(str, enum.Enum):
    RED = "red"


class Pet(Model):
    pet_id: int = Field(validation_alias="petId", serialization_alias="petId")
    name: str | None = None


class NotFound(ApiError):
    pass


def request_for(params: list[Param], args: dict[str, object], body: Body | None = None, payload: object = None, credentials: Credentials | None = None) -> httpx.Request:
    endpoint: Endpoint[None] = Endpoint(Operation("op", "POST", "/items/{id}"), params=params, body=body, replies={})
    with ResilientClient("https://api.example.com/v1") as client:
        return endpoint.build_request(client, args, payload, credentials)


@pytest.mark.parametrize(
    ("style", "explode", "value", "path"),
    [
        ("simple", False, 5, "/v1/items/5"),
        ("simple", False, ["a", "b"], "/v1/items/a,b"),
        ("simple", False, {"x": 1, "y": 2}, "/v1/items/x,1,y,2"),
        ("simple", True, {"x": 1, "y": 2}, "/v1/items/x=1,y=2"),
        ("label", False, ["a", "b"], "/v1/items/.a,b"),
        ("label", True, ["a", "b"], "/v1/items/.a.b"),
        ("matrix", False, "v", "/v1/items/;id=v"),
        ("matrix", True, ["a", "b"], "/v1/items/;id=a;id=b"),
        ("simple", False, "../admin", "/v1/items/..%2Fadmin"),
        ("simple", False, Color.RED, "/v1/items/red"),
        ("simple", False, True, "/v1/items/true"),
    ],
)
def test_path_styles(style: str, explode: bool, value: object, path: str) -> None:
    request = request_for([Param("id", "id", "path", style, explode)], {"id": value})
    assert request.url.raw_path.decode() == path


def test_dot_segments_are_encoded() -> None:
    assert path_segment("..") == "%2E%2E" and path_segment(".") == "%2E" and path_segment("a.b") == "a.b"


@pytest.mark.parametrize(
    ("style", "explode", "value", "query"),
    [
        ("form", True, ["a", "b"], "q=a&q=b"),
        ("form", False, ["a", "b"], "q=a%2Cb"),
        ("form", True, {"x": "1", "y": "2"}, "x=1&y=2"),
        ("form", False, {"x": "1"}, "q=x%2C1"),
        ("spaceDelimited", False, ["a", "b"], "q=a+b"),
        ("pipeDelimited", False, ["a", "b"], "q=a%7Cb"),
        ("deepObject", True, {"x": "1"}, "q%5Bx%5D=1"),
        ("form", True, False, "q=false"),
    ],
)
def test_query_styles(style: str, explode: bool, value: object, query: str) -> None:
    request = request_for([Param("id", "id", "path", "simple", False), Param("q", "q", "query", style, explode)], {"id": 1, "q": value})
    assert request.url.query.decode() == query


def test_omitted_optional_parameters_are_not_sent() -> None:
    request = request_for([Param("id", "id", "path", "simple", False), Param("q", "q", "query", "form", True), Param("h", "X-H", "header", "simple", False)], {"id": 1, "q": None, "h": None})
    assert request.url.query == b"" and "x-h" not in request.headers


def test_json_body_uses_wire_names_and_skips_unset_fields() -> None:
    request = request_for([], {"id": 1}, Body("json", "application/json", Pet), Pet(pet_id=3))
    assert request.content == b'{"petId":3}'
    assert request.headers["content-type"] == "application/json"


def test_form_body_fields() -> None:
    request = request_for([], {"id": 1}, Body("form", "application/x-www-form-urlencoded", dict[str, Any]), {"a": "x y", "b": [1, 2], "c": {"d": 1}})
    assert request.content == b"a=x+y&b=1&b=2&c=%7B%22d%22%3A+1%7D"


def test_credentials_in_header_query_cookie_and_basic() -> None:
    credentials = Credentials(
        headers=[("X-Key", "k"), ("X-Unset", None)],
        query=[("api_key", "q s")],
        cookies=[("sid", "c;1")],
        basic=("user", "pw"),
    )
    request = request_for([Param("id", "id", "path", "simple", False), Param("c", "theme", "cookie", "form", True)], {"id": 1, "c": "dark"}, credentials=credentials)
    assert request.headers["x-key"] == "k" and "x-unset" not in request.headers
    assert request.url.params["api_key"] == "q s"
    assert request.headers["cookie"] == "theme=dark; sid=c%3B1"
    assert request.headers["authorization"] == "Basic dXNlcjpwdw=="
    assert credentials.header_names == ("X-Key",)


def answer(endpoint: Endpoint[Any], status: int, content: bytes = b"", content_type: str = "application/json") -> Any:
    response = httpx.Response(status, content=content, headers={"content-type": content_type})
    return endpoint.parse(Outcome(response, None, False, "key-1", ()))


PET_ENDPOINT: Endpoint[Pet] = Endpoint(
    Operation("getPet", "GET", "/pets/{id}"),
    replies={"200": Reply("json", Pet), "404": Reply("json", dict[str, str], NotFound), "4XX": Reply("empty", None, ApiError)},
)


def test_success_parses_into_the_model() -> None:
    parsed = answer(PET_ENDPOINT, 200, b'{"petId": 1, "name": "rex"}')
    assert parsed.value == Pet(pet_id=1, name="rex")
    assert (parsed.status, parsed.idempotency_key, parsed.from_fallback) == (200, "key-1", False)


def test_undocumented_2xx_parses_like_the_success() -> None:
    assert answer(PET_ENDPOINT, 203, b'{"petId": 2}').value == Pet(pet_id=2)


def test_exact_status_beats_range_and_errors_carry_the_parsed_body() -> None:
    with pytest.raises(NotFound) as caught:
        answer(PET_ENDPOINT, 404, b'{"message": "gone"}')
    assert (caught.value.status, caught.value.body, caught.value.idempotency_key) == (404, {"message": "gone"}, "key-1")
    with pytest.raises(ApiError) as ranged:
        answer(PET_ENDPOINT, 409, b"conflict", "text/plain")
    assert ranged.value.status == 409 and ranged.value.body is None and ranged.value.content == b"conflict"


def test_undocumented_error_keeps_json_or_text() -> None:
    with pytest.raises(ApiError) as caught:
        answer(PET_ENDPOINT, 503, b'{"retry": true}')
    assert type(caught.value) is ApiError and caught.value.body == {"retry": True}
    assert "503" in str(caught.value) and "retry" not in str(caught.value)  # no body in the message


def test_invalid_body_names_the_field_and_keeps_the_raw_body() -> None:
    with pytest.raises(ResponseValidationError) as caught:
        answer(PET_ENDPOINT, 200, b'{"petId": "x", "name": "secret-name"}')
    assert "petId" in str(caught.value) and "secret-name" not in str(caught.value)
    assert caught.value.content == b'{"petId": "x", "name": "secret-name"}' and caught.value.status == 200


def test_documented_error_with_a_mismatched_body_is_still_the_typed_error() -> None:
    with pytest.raises(NotFound) as caught:
        answer(PET_ENDPOINT, 404, b'{"message": 17}')
    assert caught.value.body == {"message": 17} and caught.value.content == b'{"message": 17}'
    with pytest.raises(NotFound) as html:
        answer(PET_ENDPOINT, 404, b"<h1>gone</h1>", "text/html")
    assert html.value.body == "<h1>gone</h1>" and html.value.content == b"<h1>gone</h1>"


def test_a_json_reply_in_another_media_type_is_named() -> None:
    with pytest.raises(ResponseValidationError, match="'text/html'") as caught:
        answer(PET_ENDPOINT, 200, b"<h1>hello</h1>", "text/html; charset=utf-8")
    assert caught.value.content == b"<h1>hello</h1>" and caught.value.status == 200
    assert answer(PET_ENDPOINT, 200, b'{"petId": 3}', "application/problem+json").value == Pet(pet_id=3)


def test_fallback_value_becomes_the_success_type() -> None:
    parsed = PET_ENDPOINT.parse(Outcome(None, {"petId": 5}, True, None, ()))
    assert (parsed.value, parsed.status, parsed.from_fallback, dict(parsed.headers)) == (Pet(pet_id=5), None, True, {})
    assert PET_ENDPOINT.parse(Outcome(None, None, True, None, ())).value is None
    with pytest.raises(ResponseValidationError, match="fallback value"):
        PET_ENDPOINT.parse(Outcome(None, "cached", True, None, ()))


def test_discriminator_tags_raw_data_and_models() -> None:
    tag = discriminator("kind", {"cat": "Cat", "kitty": "Cat", "dog": "Dog"})
    assert tag({"kind": "kitty"}) == "Cat"
    assert tag({"kind": "cow"}) is None and tag({}) is None
    assert tag(Pet(pet_id=1)) is None


class Greeter:
    def greet_detailed(self, name: str, *, punctuation: str = "!") -> ApiResponse[str]:
        """Say hello."""
        return ApiResponse(f"hello {name}{punctuation}", 200, httpx.Headers(), None, False, ())

    greet = returning_value(greet_detailed)

    async def agreet_detailed(self, name: str) -> ApiResponse[str]:
        return ApiResponse(name, 200, httpx.Headers(), None, False, ())

    agreet = returning_value_async(agreet_detailed)


@pytest.mark.anyio
async def test_value_twins_share_signature_and_docs() -> None:
    greeter = Greeter()
    assert greeter.greet("ann", punctuation="?") == "hello ann?"
    assert await greeter.agreet("bo") == "bo"
    assert (Greeter.greet.__name__, Greeter.greet.__doc__) == ("greet", "Say hello.")
    assert list(inspect.signature(Greeter.greet).parameters) == ["self", "name", "punctuation"]


# --- sagas ---------------------------------------------------------------------------------

SAGA_PARAMS = [Param("pet_id", "petId", "path", "simple", False), Param("dry_run", "dryRun", "query", "form", True), Param("trace", "X-Trace", "header", "simple", False)]
SAGA_ENDPOINT: Endpoint[Pet] = Endpoint(
    Operation("renamePet", "POST", "/pets/{petId}", idempotency_key_header="Idempotency-Key"),
    params=SAGA_PARAMS,
    body=Body("json", "application/json", Pet),
    replies={"200": Reply("json", Pet), "404": Reply("json", dict[str, str], NotFound)},
)


def test_saga_arguments_are_canonical_and_build_the_same_request() -> None:
    args = {"pet_id": 7, "dry_run": False, "trace": None}
    arguments = SAGA_ENDPOINT.arguments(args, Pet(pet_id=7, name="rex"))
    assert arguments == {"path": {"petId": 7}, "query": {"dryRun": False}, "body": {"petId": 7, "name": "rex"}}
    with ResilientClient("https://api.example.com") as client:
        typed = SAGA_ENDPOINT.build_request(client, args, Pet(pet_id=7, name="rex"))
        from_log = SAGA_ENDPOINT.request_from_arguments(client, arguments, Credentials())
    assert (from_log.method, from_log.url, from_log.headers["content-type"]) == (typed.method, typed.url, typed.headers["content-type"])
    assert from_log.read() == typed.read() == b'{"petId":7,"name":"rex"}'


def test_a_saga_step_result_parses_like_an_answer() -> None:
    result = StepResult(200, {"petId": 3}, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, 2)
    parsed = SAGA_ENDPOINT.parse_step(result)
    assert (parsed.value, parsed.stop_reason) == (Pet(pet_id=3), None)  # a StepResult does not say
    with pytest.raises(NotFound) as caught:
        SAGA_ENDPOINT.parse_step(StepResult(404, {"message": "gone"}))
    assert caught.value.stop_reason is None  # a StepResult does not say why the saga stopped


def test_a_saga_invocation_sends_the_key_and_never_falls_back() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503, json={"message": "down"})

    fallback = Policy(retry=None, fallback=FallbackPolicy(on=frozenset({503}), value={"petId": 0}))
    with ResilientClient("https://api.example.com", transport=httpx.MockTransport(answer)) as client:
        session = Session(client, fallback, Credentials())
        result = SAGA_ENDPOINT.invoke(session, {"path": {"petId": 1}, "body": {"petId": 1}}, idempotency_key="k-9")
    assert (result.status, result.body, result.attempts) == (503, {"message": "down"}, 1)
    assert [r.headers["idempotency-key"] for r in seen] == ["k-9"]


def test_a_saga_step_refuses_its_own_key_or_fallback() -> None:
    with ResilientClient("https://api.example.com") as client:
        session = Session(client, Policy(), Credentials())
        for option in ({"idempotency_key": "mine"}, {"fallback": FallbackPolicy(on=frozenset({503}), value=None)}):
            with pytest.raises(TypeError, match="saga step"):
                SAGA_ENDPOINT.call(session, {"pet_id": 1}, Pet(pet_id=1), object(), **option)  # type: ignore[arg-type]


# --- why the retries stopped, on the typed answer ----------------------------------------


class Unavailable(ApiError):
    pass


STATUS_OPERATION = Operation("getStatus", "GET", "/status")
STATUS_ENDPOINT: Endpoint[Pet] = Endpoint(
    STATUS_OPERATION, replies={"200": Reply("json", Pet), "503": Reply("json", dict[str, str], Unavailable)}
)
# No 2xx documented: the generator makes `default` the success, so any status parses as a value.
DEFAULT_ONLY_ENDPOINT: Endpoint[dict[str, str]] = Endpoint(STATUS_OPERATION, replies={"default": Reply("json", dict[str, str])})
RETRY_TWICE = Policy(retry=RetryPolicy(attempts=3, backoff=Backoff(initial=0.5, multiplier=2, jitter="none")))
NO_RETRY_BUDGET = BudgetPolicy(ratio=0, floor=0)  # the first retry is already refused


def down(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503, json={"message": "down"})  # a new one each time: a read response cannot be sent again


def status_client(script: Script, clock: FakeClock, budget: BudgetPolicy | None) -> ResilientClient:
    return ResilientClient("http://api.test", transport=script.transport, policy=RETRY_TWICE, clock=clock, breaker=None, budget=budget)


def test_an_error_returned_because_the_budget_is_spent_says_budget(clock: FakeClock) -> None:
    script = Script([down], clock)
    with status_client(script, clock, NO_RETRY_BUDGET) as client, pytest.raises(Unavailable) as caught:
        STATUS_ENDPOINT.call(Session(client, RETRY_TWICE, Credentials()), {})
    assert (caught.value.stop_reason, caught.value.body, len(caught.value.attempts)) == ("budget", {"message": "down"}, 1)
    assert len(script.requests) == 1 and clock.sleeps == []  # returned at once
    assert "budget" not in str(caught.value) and "down" not in str(caught.value)  # the message is unchanged


@pytest.mark.anyio
async def test_the_async_call_says_budget_too(clock: FakeClock) -> None:
    script = Script([down], clock)
    async with AsyncResilientClient("http://api.test", transport=script.transport, policy=RETRY_TWICE, clock=clock, breaker=None, budget=NO_RETRY_BUDGET) as client:
        with pytest.raises(Unavailable) as caught:
            await STATUS_ENDPOINT.acall(Session(client, RETRY_TWICE, Credentials()), {})
    assert caught.value.stop_reason == "budget" and len(script.requests) == 1


def test_an_error_after_every_attempt_says_attempts(clock: FakeClock) -> None:
    script = Script([500], clock)  # undocumented: the generic ApiError
    with status_client(script, clock, None) as client, pytest.raises(ApiError) as caught:
        STATUS_ENDPOINT.call(Session(client, RETRY_TWICE, Credentials()), {})
    assert type(caught.value) is ApiError and caught.value.stop_reason == "attempts"
    assert len(script.requests) == len(caught.value.attempts) == 3 and clock.sleeps == [0.5, 1.0]


@pytest.mark.parametrize(("budget", "stop_reason", "sent"), [(NO_RETRY_BUDGET, "budget", 1), (None, "attempts", 3)])
def test_a_failure_status_parsed_as_a_value_keeps_its_stop_reason(clock: FakeClock, budget: BudgetPolicy | None, stop_reason: str, sent: int) -> None:
    script = Script([down], clock)
    with status_client(script, clock, budget) as client:
        answered = DEFAULT_ONLY_ENDPOINT.call(Session(client, RETRY_TWICE, Credentials()), {})
    assert (answered.status, answered.value, answered.stop_reason) == (503, {"message": "down"}, stop_reason)
    assert len(script.requests) == len(answered.attempts) == sent


def test_a_success_says_answered(clock: FakeClock) -> None:
    script = Script([httpx.Response(200, json={"petId": 4})], clock)
    with status_client(script, clock, NO_RETRY_BUDGET) as client:
        answered = STATUS_ENDPOINT.call(Session(client, RETRY_TWICE, Credentials()), {})
    assert (answered.value, answered.stop_reason, len(answered.attempts)) == (Pet(pet_id=4), "answered", 1)


def test_an_error_carries_whatever_stop_reason_its_outcome_has() -> None:
    with pytest.raises(Unavailable) as caught:
        STATUS_ENDPOINT.parse(Outcome(down(httpx.Request("GET", "http://api.test/status")), None, False, None, (), "not-retryable"))
    assert caught.value.stop_reason == "not-retryable"
