"""The static contract, under mypy and pyright: typings/pass must type-check (and run),
typings/fail must fail exactly where marked.

Each line of a fail file that a checker must reject ends with two markers, mypy's
first, then pyright's::

    bad = x @ w1  # E: [operator] Unsupported operand types for @  # P: [reportOperatorIssue] Operator "@" not supported

``# E: [code] fragment`` is what mypy must report on that line, ``# P: [rule]
fragment`` what pyright must report. Where a checker does not see the mistake, its
marker says so and why: ``# E: missed: <reason>``; the test then fails if that checker
starts reporting the line, so the README's table is updated with it. A line both
checkers miss documents a gap the run-time checks alone cover. The test also fails
on an error that is not marked, and on a marked line that a checker accepts.
"""

import ast
import json
import re
import runpy
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[1]
TYPINGS = ROOT / "typings"
PASS = sorted((TYPINGS / "pass").glob("*.py"))
FAIL = sorted((TYPINGS / "fail").glob("*.py"))
PYRIGHT = Path(sys.executable).parent / "pyright"
MYPY_ERROR = re.compile(
    r"^(?P<path>[^:]+):(?P<line>\d+): error: (?P<message>.*?)(?:  \[(?P<code>[\w-]+)\])?$"
)
_CHECK = r"(?:\[(?P<{0}code>[\w-]+)\]\s*(?P<{0}fragment>.+?)|missed:\s*(?P<{0}missed>.+?))"
MARK = re.compile(rf"#\s*E:\s*{_CHECK.format('mypy_')}\s*#\s*P:\s*{_CHECK.format('pyright_')}\s*$")
ANY_MARK = re.compile(r"#\s*[EP]:")

Errors = dict[tuple[str, int], list[tuple[str, str]]]


@dataclass(frozen=True)
class Expected:
    """What one checker must say on one line: ``code`` and ``fragment``, or nothing."""

    code: str
    fragment: str
    missed: str


def _mypy(files: list[Path]) -> Errors:
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
    errors: Errors = defaultdict(list)
    for line in stdout.splitlines():
        match = MYPY_ERROR.match(line)
        if match:
            key = (Path(match["path"]).name, int(match["line"]))
            errors[key].append((match["code"] or "", match["message"]))
    return errors


def _pyright(files: list[Path]) -> Errors:
    """Run pyright with the project's settings (strict); errors by (file name, line)."""
    run = subprocess.run(
        [str(PYRIGHT), "--outputjson", "--pythonpath", sys.executable, *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(run.stdout)
    assert report["summary"]["filesAnalyzed"] == len(files), run.stdout
    errors: Errors = defaultdict(list)
    for diagnostic in report["generalDiagnostics"]:
        # Lines are 0-based in pyright's JSON.
        key = (Path(diagnostic["file"]).name, diagnostic["range"]["start"]["line"] + 1)
        errors[key].append((diagnostic.get("rule", ""), diagnostic["message"]))
    return errors


def _marks() -> dict[str, dict[tuple[str, int], Expected]]:
    """The markers of every fail file: per checker, what each marked line must report."""
    marks: dict[str, dict[tuple[str, int], Expected]] = {"mypy": {}, "pyright": {}}
    for path in FAIL:
        for n, text in enumerate(path.read_text().splitlines(), 1):
            mark = MARK.search(text)
            assert mark or not ANY_MARK.search(text), f"{path.name}:{n}: malformed marker"
            if mark:
                for checker in marks:
                    code, fragment, missed = (
                        mark[f"{checker}_{part}"] or "" for part in ("code", "fragment", "missed")
                    )
                    marks[checker][(path.name, n)] = Expected(code, fragment, missed)
    return marks


def _problems(checker: str, expected: dict[tuple[str, int], Expected], errors: Errors) -> list[str]:
    problems = []
    for key, want in expected.items():
        found = errors.get(key, [])
        where = f"{key[0]}:{key[1]}: {checker}"
        if want.missed:
            if found:
                problems.append(f"{where} is marked missed ({want.missed}) but said {found}")
        elif not any(c == want.code and want.fragment in m for c, m in found):
            problems.append(f"{where}: expected [{want.code}] {want.fragment!r}, got {found}")
    for key, found in errors.items():
        if key not in expected:
            problems.append(f"{key[0]}:{key[1]}: {checker}: unexpected error {found}")
    return problems


def test_there_are_cases() -> None:
    assert len(PASS) >= 3
    assert len(FAIL) >= 6


def test_pass_cases_type_check_under_mypy() -> None:
    errors = _mypy(PASS)
    assert not errors, "\n".join(f"{f}:{n}: {m}" for (f, n), ms in errors.items() for _, m in ms)


# Excluded from pyright in pyproject.toml (user code calling unannotated dask, unhinted
# onnxruntime and scikit-learn); mypy checks them.
PYRIGHT_EXCLUDED = {"readme_scaling.py", "readme_onnx.py", "readme_sklearn.py"}


def test_pass_cases_type_check_under_pyright() -> None:
    errors = _pyright([p for p in PASS if p.name not in PYRIGHT_EXCLUDED])
    assert not errors, "\n".join(f"{f}:{n}: {m}" for (f, n), ms in errors.items() for _, m in ms)


def _top_level_names(path: Path) -> set[str]:
    """The names a module binds in its own scope: all bound if it ran to the end."""
    names: set[str] = set()
    statements = list(ast.parse(path.read_text()).body)
    while statements:
        node = statements.pop()
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        for field in ("body", "orelse", "finalbody"):  # with, if, for, try blocks
            statements.extend(getattr(node, field, []))
    return names


@pytest.mark.parametrize("path", PASS, ids=lambda p: p.name)
def test_pass_cases_run(path: Path) -> None:
    namespace = runpy.run_path(str(path), run_name="__typings__")
    names = _top_level_names(path)
    assert names, "a pass case binds at least one name"
    missing = names - set(namespace)
    assert not missing, f"{path.name} did not run to the end: {sorted(missing)} unbound"


def test_every_marked_line_states_both_checkers() -> None:
    marks = _marks()
    assert len(marks["mypy"]) >= 30
    assert marks["mypy"].keys() == marks["pyright"].keys()
    missed = {c: sum(bool(e.missed) for e in m.values()) for c, m in marks.items()}
    # The known gaps: mypy misses an inline int array; both miss a 1-D array of unknown rank.
    assert missed == {"mypy": 4, "pyright": 2}


@pytest.mark.parametrize("checker", ["mypy", "pyright"])
def test_fail_cases_fail_exactly_where_marked(checker: str) -> None:
    errors = _mypy(FAIL) if checker == "mypy" else _pyright(FAIL)
    problems = _problems(checker, _marks()[checker], errors)
    assert not problems, "\n".join(problems)
