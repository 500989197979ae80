"""OpenAPI Overlay 1.0: update, remove, ordering, warnings, located errors, positions."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from seawall.diagnostics import SpecError
from seawall.load import SourceDocument, load_document
from seawall.overlay import apply_overlays
from seawall.policies import extract_policies
from seawall.resolve import resolve

FIXTURES = Path(__file__).parent / "fixtures" / "policies"
SHOP = FIXTURES / "shop.yaml"
REPO = Path(__file__).parents[2]
CORPUS = REPO / ".." / "shared" / "corpus" / "specs"


def overlay_file(tmp_path: Path, actions: str, name: str = "team.overlay.yaml") -> Path:
    path = tmp_path / name
    header = "overlay: 1.0.0\ninfo: {title: Team policy, version: '1'}\nactions:\n"
    path.write_text(header + textwrap.dedent(actions).strip() + "\n")
    return path


def apply(*overlays: Path, spec: Path = SHOP) -> tuple[SourceDocument, list[str]]:
    document, warnings = apply_overlays(load_document(spec), overlays)
    return document, [str(w) for w in warnings]


def line_of(path: Path, snippet: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if snippet in line)


def overlay_errors(tmp_path: Path, text: str) -> list[tuple[str, str, int | None]]:
    path = tmp_path / "bad.overlay.yaml"
    path.write_text(textwrap.dedent(text).lstrip())
    with pytest.raises(SpecError) as caught:
        apply(path)
    return [(d.message, d.location.pointer, d.location.line) for d in caught.value.diagnostics]


def test_update_merges_objects_deeply_and_leaves_the_source_alone(tmp_path: Path) -> None:
    overlay = overlay_file(
        tmp_path,
        """
        - target: $.paths['/orders'].get
          update:
            x-timeout: 2
            responses:
              '200': {description: 'Orders, newest first.'}
        """,
    )
    source = load_document(SHOP)
    document, warnings = apply_overlays(source, [overlay])
    get = document.data["paths"]["/orders"]["get"]
    assert warnings == []
    assert get["x-timeout"] == 2
    assert get["responses"]["200"]["description"] == "Orders, newest first."
    # Merged, not replaced: the response keeps its content.
    assert "application/json" in get["responses"]["200"]["content"]
    assert "x-timeout" not in source.data["paths"]["/orders"]["get"]
    assert source.data["paths"]["/orders"]["get"]["responses"]["200"]["description"] == "A page of orders."


def test_update_appends_to_arrays(tmp_path: Path) -> None:
    overlay = overlay_file(
        tmp_path,
        """
        - target: $.components.schemas.Order.required
          update: total
        - target: $.components.schemas.Order
          update:
            required: [lines]
        """,
    )
    document, _ = apply(overlay)
    assert document.data["components"]["schemas"]["Order"]["required"] == ["id", "status", "total", "lines"]


def test_remove_deletes_members_and_array_items(tmp_path: Path) -> None:
    overlay = overlay_file(
        tmp_path,
        """
        - target: $.paths['/order-count']
          remove: true
        - target: $.components.schemas.Order.required[*]
          remove: true
        - target: $.components.schemas.Order.properties.status.enum[0]
          remove: true
        """,
    )
    document, warnings = apply(overlay)
    assert warnings == []
    assert "/order-count" not in document.data["paths"]
    order = document.data["components"]["schemas"]["Order"]
    assert order["required"] == []
    assert order["properties"]["status"]["enum"] == ["cancelled"]


def test_a_target_that_matches_nothing_is_a_warning_naming_the_action(tmp_path: Path) -> None:
    overlay = overlay_file(
        tmp_path,
        """
        - target: $.paths['/orders'].get
          update: {x-timeout: 2}
        - target: $.paths['/invoices'].get
          description: invoices are slow
          update: {x-timeout: 30}
        - target: $.paths['/refunds']
          remove: true
        """,
    )
    document, warnings = apply_overlays(load_document(SHOP), [overlay])
    assert [(w.severity, w.message, w.location.line) for w in warnings] == [
        (
            "warning",
            f"overlay action 1 (invoices are slow) matched nothing in {SHOP}",
            line_of(overlay, "/invoices"),
        ),
        (
            "warning",
            f"overlay action 2 ($.paths['/refunds']) matched nothing in {SHOP}",
            line_of(overlay, "/refunds"),
        ),
    ]
    assert all(w.location.file == str(overlay) for w in warnings)
    assert document.data["paths"]["/orders"]["get"]["x-timeout"] == 2


def test_overlays_apply_in_the_order_given(tmp_path: Path) -> None:
    first = overlay_file(
        tmp_path,
        """
        - target: $.paths['/orders'].get
          update: {x-timeout: 1, x-retry: {attempts: 2}}
        """,
        "first.yaml",
    )
    second = overlay_file(
        tmp_path,
        """
        - target: $.paths['/orders'].get
          update: {x-timeout: 5}
        - target: $.paths['/orders'].get['x-retry']
          remove: true
        """,
        "second.yaml",
    )
    forward, _ = apply(first, second)
    get = forward.data["paths"]["/orders"]["get"]
    assert get["x-timeout"] == 5 and "x-retry" not in get
    backward, warnings = apply(second, first)
    get = backward.data["paths"]["/orders"]["get"]
    assert get["x-timeout"] == 1 and get["x-retry"] == {"attempts": 2}
    # Applied first, the second overlay's remove found nothing yet.
    assert len(warnings) == 1 and "overlay action 1" in warnings[0]


def test_locate_points_into_the_overlay_for_nodes_it_added(tmp_path: Path) -> None:
    first = overlay_file(
        tmp_path,
        """
        - target: $.paths['/orders'].get
          update:
            x-retry:
              attempts: 2
        - target: $.components.schemas.Order.required
          update: total
        """,
        "first.yaml",
    )
    second = overlay_file(
        tmp_path,
        """
        - target: $.paths['/orders'].get['x-retry']
          update:
            on: [timeout]
        """,
        "second.yaml",
    )
    document, _ = apply(first, second)
    attempts = document.locate("/paths/~1orders/get/x-retry/attempts")
    assert (attempts.file, attempts.line) == (str(first), line_of(first, "attempts: 2"))
    assert attempts.pointer == "/paths/~1orders/get/x-retry/attempts"
    on = document.locate("/paths/~1orders/get/x-retry/on/0")
    assert (on.file, on.line) == (str(second), line_of(second, "on: [timeout]"))
    appended = document.locate("/components/schemas/Order/required/2")
    assert (appended.file, appended.line) == (str(first), line_of(first, "update: total"))
    # Untouched nodes keep their place in the spec.
    untouched = document.locate("/paths/~1orders/get/responses")
    assert (untouched.file, untouched.line) == (str(SHOP), line_of(SHOP, "responses:"))
    required = document.locate("/components/schemas/Order/required/1")
    assert (required.file, required.line) == (str(SHOP), line_of(SHOP, "required: [id, status]"))


def test_a_bad_annotation_added_by_an_overlay_is_reported_in_the_overlay(tmp_path: Path) -> None:
    overlay = overlay_file(
        tmp_path,
        """
        - target: $.paths.*.get
          update:
            x-retry:
              attempts: 0
        """,
    )
    document, _ = apply(overlay)
    with pytest.raises(SpecError) as caught:
        extract_policies(resolve(document))
    places = {(d.message, d.location.file, d.location.line) for d in caught.value.diagnostics}
    assert places == {
        ("x-retry.attempts must be between 1 and 10, got 0", str(overlay), line_of(overlay, "attempts: 0"))
    }
    assert len(caught.value.diagnostics) == 4  # one per GET, all located in the overlay


def test_overlay_document_problems_are_all_reported_with_their_place(tmp_path: Path) -> None:
    errors = overlay_errors(
        tmp_path,
        """
        overlay: 2.0.0
        info: {title: Broken}
        actions:
          - target: $.paths[
            update: {}
          - target: $.info
            updte: {title: x}
          - target: $.info
            update: {title: x}
            remove: true
          - remove: true
        """,
    )
    assert errors == [
        ("unsupported Overlay version '2.0.0': seawall reads Overlay 1.0.x", "/overlay", 1),
        ("info.version must be a string", "/info", 2),
        (errors[2][0], "/actions/0/target", 4),
        ("unknown field 'updte' in action 1; did you mean 'update'?", "/actions/1/updte", 7),
        ("action 1 does nothing: give it 'update' or 'remove: true'", "/actions/1", 6),
        ("action 2 has both 'update' and 'remove: true'; use one per action", "/actions/2", 8),
        ("action 3 needs 'target': a JSONPath string", "/actions/3", 11),
    ]
    assert errors[2][0].startswith("action 0: invalid JSONPath '$.paths[':")


def test_a_document_that_is_not_an_overlay(tmp_path: Path) -> None:
    errors = overlay_errors(tmp_path, "openapi: 3.0.3\nactions: []\n")
    assert errors == [
        ("unknown field 'openapi' in the Overlay document", "/openapi", 1),
        ("not an Overlay document: the 'overlay' field (e.g. overlay: 1.0.0) is missing", "", 1),
        ("the Overlay needs 'info' with 'title' and 'version'", "", 1),
        ("the Overlay needs 'actions': a non-empty list", "/actions", 2),
    ]


def test_an_unreadable_overlay_is_reported_with_its_line(tmp_path: Path) -> None:
    errors = overlay_errors(tmp_path, "overlay: 1.0.0\ninfo: [unclosed\n")
    assert len(errors) == 1 and errors[0][0].startswith("invalid YAML") and errors[0][2] is not None


def test_updating_a_single_value_is_an_error(tmp_path: Path) -> None:
    overlay = overlay_file(
        tmp_path,
        """
        - target: $.info.title
          update: {text: x}
        """,
    )
    with pytest.raises(SpecError) as caught:
        apply(overlay)
    [problem] = caught.value.diagnostics
    assert problem.message == (
        "the target $['info']['title'] is a single value; only objects and arrays can be updated"
    )
    assert (problem.location.file, problem.location.line) == (str(overlay), line_of(overlay, "update:"))


def test_the_spotify_overlay_annotates_the_real_spotify_spec() -> None:
    spotify = CORPUS / "real-spotify-web-api.yml"
    if not spotify.is_file():
        pytest.skip(f"the shared corpus is not at {CORPUS}")
    overlay = REPO / "specs" / "overlays" / "spotify.overlay.yaml"
    document, warnings = apply(overlay, spec=spotify)
    assert warnings == []
    policy_set, policy_warnings = extract_policies(resolve(document))
    assert policy_warnings == []
    assert policy_set.breaker_pointer == "/x-circuit-breaker"
    album = policy_set.get("get-an-album")
    assert album.retry is not None and album.retry.attempts == 4 and 429 in album.retry.on
    assert album.retry.backoff.initial == 0.25  # from the document level
    assert album.timeout.attempt == 5
    assert policy_set.get("get-audio-analysis").timeout.total == 45
    save = policy_set.get("save-tracks-user")
    assert save.idempotency.idempotent and save.idempotency.reason.startswith("x-idempotent: true")
    # A POST keeps only the retries that cannot repeat a side effect; queueing retries never.
    create = policy_set.get("create-playlist")
    assert create.retry is not None and create.retry.on == ("connection-error",)
    assert policy_set.get("add-to-queue").retry is None
    genres = policy_set.get("get-recommendation-genres").fallback
    assert genres is not None and genres.value == {"genres": []}
    # Positions: annotations point into the overlay, the rest into the spec.
    assert document.locate("/x-retry-budget").file == str(overlay)
    assert document.locate("/paths/~1albums~1{id}/get/operationId").file == str(spotify)
