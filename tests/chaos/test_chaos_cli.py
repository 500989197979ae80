"""``seawall chaos`` command line: the fault grammar, errors, and a real run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from chaos_upstream import Upstream

from seawall.chaos import ErrorFault, FaultSet, Outage, RoutePattern, Rule
from seawall.chaos.cli import _fault_set, _is_loopback, _without_userinfo, build_parser, main


def faults_of(*argv: str) -> FaultSet:
    return _fault_set(build_parser().parse_args(["--upstream", "http://127.0.0.1:1", *argv]))


def test_full_grammar() -> None:
    faults = faults_of(
        "--error", "503:0.2", "--error", "500:0.1", "--retry-after", "1",
        "--latency", "0.05", "--latency-jitter", "0.02", "--reset", "0.05", "--hang", "0.01",
        "--lost", "0.05", "--outage", "10:20", "--outage", "30:31:refuse", "--outage", "40:41:502",
        "--seed", "42", "--hang-limit", "5",
    )
    assert faults == FaultSet(
        (
            Rule(
                errors=(ErrorFault(503, 0.2), ErrorFault(500, 0.1)),
                retry_after=1,
                latency=0.05,
                latency_jitter=0.02,
                reset=0.05,
                hang=0.01,
                lost=0.05,
                outages=(Outage(10, 20, 503), Outage(30, 31, "refuse"), Outage(40, 41, 502)),
            ),
        ),
        seed=42,
        hang_limit=5,
    )


def test_match_limits_the_rule() -> None:
    faults = faults_of("--reset", "1", "--match", "POST /orders*", "--match", "/pets")
    assert faults.rules[0].match == (RoutePattern.parse("POST /orders*"), RoutePattern.parse("/pets"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--error", "503"], "'503' is not STATUS:RATE (expected STATUS:RATE"),
        (["--error", "200:0.1"], "status must be an HTTP error status"),
        (["--error", "503:1.5"], "must be between 0 and 1"),
        (["--reset", "abc"], "'abc' is not a rate"),
        (["--latency", "-1"], "must be a finite number >= 0"),
        (["--outage", "20:10"], "outage end (10.0) must be after its start (20.0)"),
        (["--outage", "1:2:explode"], "outage kind must be a status or one of"),
        (["--match", "orders"], "must be '[METHOD[,METHOD…]] /path-glob'"),
        (["--reset", "0.6", "--lost", "0.6"], "the fault rates add up to 1.2, more than 1"),
        (["--match", "/a", "--outage", "1:2:refuse"], "cannot be limited to matching routes"),
        (["--listen", "70000"], "must be 0-65535"),
        (["--admin-prefix", "/"], "admin prefix must start and not end with '/'"),
        (["--seed", "x"], "'x' is not an integer"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_values_exit_2_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--upstream", "http://127.0.0.1:1", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seawall chaos: error: ")
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize("url", ["127.0.0.1:8000", "ftp://h/", "http:///x", "http://h/?q=1"])
def test_bad_upstream(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--upstream", url]) == 2
    assert "is not an upstream URL" in capsys.readouterr().err


def test_missing_upstream(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "--upstream" in capsys.readouterr().err


def test_fault_file_errors_name_file_line_and_pointer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{\n  \"rules\": [\n    {\"reset\": x}\n  ]\n}\n")
    assert main(["--upstream", "http://127.0.0.1:1", "--faults", str(broken)]) == 2
    assert f"{broken}:3:15: error: not valid JSON: Expecting value" in capsys.readouterr().err
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({"rules": [{"errors": [{"status": 503, "rate": 3}]}]}))
    assert main(["--upstream", "http://127.0.0.1:1", "--faults", str(invalid)]) == 2
    assert f"{invalid} (#/rules/0/errors/0): error: rate must be" in capsys.readouterr().err
    assert main(["--upstream", "http://127.0.0.1:1", "--faults", str(tmp_path / "no")]) == 2
    assert "cannot read" in capsys.readouterr().err
    fine = tmp_path / "fine.json"
    fine.write_text("{}")
    assert main(["--upstream", "http://h", "--faults", str(fine), "--reset", "0.1"]) == 2
    assert "--faults cannot be combined" in capsys.readouterr().err


def test_fault_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "faults.json"
    path.write_text(json.dumps({"seed": 1, "rules": [{"match": ["GET /a"], "hang": 0.5}]}))
    faults = faults_of("--faults", str(path))
    assert faults == FaultSet((Rule(match=(RoutePattern.parse("GET /a"),), hang=0.5),), seed=1)


def test_runs_as_a_process_and_is_driven_through_the_admin_api(
    upstream: tuple[Upstream, str],
) -> None:
    code = "import sys; from seawall.chaos.cli import main; sys.exit(main(sys.argv[1:]))"
    argv = ["--upstream", upstream[1], "--listen", "0", "--error", "503:1", "--retry-after", "3"]
    process = subprocess.Popen(
        [sys.executable, "-c", code, *argv], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.split("listening on ")[1].split(",")[0]
        with httpx.Client(base_url=url, timeout=5, trust_env=False) as http:
            response = http.get("/x")
            assert (response.status_code, response.headers["retry-after"]) == (503, "3")
            assert http.put("/_chaos/faults", json={"rules": []}).status_code == 200
            assert http.get("/x").status_code == 200
            stats = http.get("/_chaos/stats").json()
        assert (stats["received"], stats["forwarded"]) == (2, 1)
        assert stats["faults"] == {"error": 1, "forward": 1}
    finally:
        process.terminate()
        assert process.wait(10) == 0  # SIGTERM is a clean stop


def test_printed_upstream_hides_credentials() -> None:
    assert _without_userinfo("https://user:secret@h.example:8443/api") == "https://h.example:8443/api"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False), ("example.org", False)],
)
def test_loopback_detection_for_the_admin_api_warning(host: str, loopback: bool) -> None:
    assert _is_loopback(host) is loopback
