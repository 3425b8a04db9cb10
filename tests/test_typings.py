"""The static contract: typings/pass must type-check (and run), typings/fail must fail
exactly where marked.

Each line of a fail file that mypy must reject ends with ``# E: [code] fragment``; the
test fails on an error that is not marked, and on a marked line that mypy accepts.
"""

import re
import runpy
from collections import defaultdict
from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[1]
TYPINGS = ROOT / "typings"
PASS = sorted((TYPINGS / "pass").glob("*.py"))
FAIL = sorted((TYPINGS / "fail").glob("*.py"))
ERROR = re.compile(
    r"^(?P<path>[^:]+):(?P<line>\d+): error: (?P<message>.*?)(?:  \[(?P<code>[\w-]+)\])?$"
)
MARK = re.compile(r"#\s*E:\s*\[(?P<code>[\w-]+)\]\s*(?P<fragment>.+?)\s*$")


def _mypy(files: list[Path]) -> dict[tuple[str, int], list[tuple[str, str]]]:
    """Run mypy with the project's settings; errors by (file name, line)."""
    stdout, stderr, _ = api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--no-error-summary",
            "--hide-error-context",
            "--no-pretty",
            *map(str, files),
        ]
    )
    assert stderr == "", stderr
    errors: dict[tuple[str, int], list[tuple[str, str]]] = defaultdict(list)
    for line in stdout.splitlines():
        match = ERROR.match(line)
        if match:
            key = (Path(match["path"]).name, int(match["line"]))
            errors[key].append((match["code"] or "", match["message"]))
    return errors


def test_there_are_cases() -> None:
    assert len(PASS) >= 3
    assert len(FAIL) >= 6


def test_pass_cases_type_check() -> None:
    errors = _mypy(PASS)
    assert not errors, "\n".join(f"{f}:{n}: {m}" for (f, n), ms in errors.items() for _, m in ms)


@pytest.mark.parametrize("path", PASS, ids=lambda p: p.name)
def test_pass_cases_run(path: Path) -> None:
    namespace = runpy.run_path(str(path), run_name="__typings__")
    assert namespace  # ran to the end


def test_fail_cases_fail_exactly_where_marked() -> None:
    errors = _mypy(FAIL)
    expected: dict[tuple[str, int], tuple[str, str]] = {}
    for path in FAIL:
        for n, text in enumerate(path.read_text().splitlines(), 1):
            mark = MARK.search(text)
            if mark:
                expected[(path.name, n)] = (mark["code"], mark["fragment"])
    assert len(expected) >= 7
    problems = []
    for key, (code, fragment) in expected.items():
        found = errors.get(key, [])
        if not any(c == code and fragment in m for c, m in found):
            problems.append(f"{key[0]}:{key[1]}: expected [{code}] {fragment!r}, mypy said {found}")
    for key, found in errors.items():
        if key not in expected:
            problems.append(f"{key[0]}:{key[1]}: unexpected error {found}")
    assert not problems, "\n".join(problems)
