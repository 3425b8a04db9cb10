"""The static contract, under mypy, pyright, pyrefly and ty: typings/pass must type-check
(and run), typings/fail must fail exactly as typings/README.md's table says.

The table has a row per marked line of typings/fail and a column per checker: the error
code that checker reports on that line, or — where it reports nothing. A checker that
stops catching a case, starts catching one the table says it misses, reports an error on
a line the table does not list, or complains about a pass program fails here, so a new
release that changes a verdict is seen. Each marked line also pins the message fragment
mypy and pyright must give::

    bad = x @ w1  # E: [operator] Unsupported operand types for @  # P: [reportOperatorIssue] Operator "@" not supported

or says why one misses it (``# E: missed: <reason>``).
"""

import ast
import json
import re
import runpy
import subprocess
import sys
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[1]
TYPINGS = ROOT / "typings"
PASS = sorted((TYPINGS / "pass").glob("*.py"))
FAIL = sorted((TYPINGS / "fail").glob("*.py"))
BIN = Path(sys.executable).parent
CHECKERS = ("mypy", "pyright", "pyrefly", "ty")
MYPY_ERROR = re.compile(
    r"^(?P<path>[^:]+):(?P<line>\d+): error: (?P<message>.*?)(?:  \[(?P<code>[\w-]+)\])?$"
)
_CHECK = r"(?:\[(?P<{0}code>[\w-]+)\]\s*(?P<{0}fragment>.+?)|missed:\s*(?P<{0}missed>.+?))"
MARK = re.compile(rf"#\s*E:\s*{_CHECK.format('mypy_')}\s*#\s*P:\s*{_CHECK.format('pyright_')}\s*$")
ANY_MARK = re.compile(r"#\s*[EP]:")

Line = tuple[str, int]  # (file name, 1-based line)
Errors = dict[Line, list[tuple[str, str]]]  # (code, message) pairs


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


def _json_of(command: list[str]) -> object:
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    try:
        return json.loads(run.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"{command[0]} gave no report: {run.stderr[-2000:]}") from None


def _pyright(files: list[Path]) -> Errors:
    """pyright with the project's settings (strict), in this interpreter's environment."""
    report = _json_of(
        [str(BIN / "pyright"), "--outputjson", "--pythonpath", sys.executable, *map(str, files)]
    )
    assert isinstance(report, dict)
    assert report["summary"]["filesAnalyzed"] == len(files), report["summary"]
    errors: Errors = defaultdict(list)
    for diagnostic in report["generalDiagnostics"]:
        # Lines are 0-based in pyright's JSON.
        key = (Path(diagnostic["file"]).name, diagnostic["range"]["start"]["line"] + 1)
        errors[key].append((diagnostic.get("rule", ""), diagnostic["message"]))
    return errors


def _pyrefly(files: list[Path]) -> Errors:
    """pyrefly with pyproject.toml's [tool.pyrefly], in this interpreter's environment."""
    report = _json_of(
        [
            str(BIN / "pyrefly"),
            "check",
            "--python-interpreter-path",
            sys.executable,
            "--output-format",
            "json",
            *map(str, files),
        ]
    )
    assert isinstance(report, dict)
    errors: Errors = defaultdict(list)
    for error in report["errors"]:
        errors[(Path(error["path"]).name, error["line"])].append(
            (error["name"], error["description"])
        )
    return errors


def _ty(files: list[Path]) -> Errors:
    """ty with pyproject.toml's [tool.ty], in this interpreter's environment."""
    command = [str(BIN / "ty"), "check", "--python", sys.prefix, "--output-format", "gitlab"]
    report = _json_of([*command, *map(str, files)])
    assert isinstance(report, list)
    errors: Errors = defaultdict(list)
    for diagnostic in report:
        where = diagnostic["location"]
        key = (Path(where["path"]).name, where["positions"]["begin"]["line"])
        errors[key].append((diagnostic["check_name"], diagnostic["description"]))
    return errors


RUN = {"mypy": _mypy, "pyright": _pyright, "pyrefly": _pyrefly, "ty": _ty}


def _table(heading: str) -> list[list[str]]:
    """The rows of the Markdown table under ``heading`` in typings/README.md."""
    text = (TYPINGS / "README.md").read_text(encoding="utf-8")
    section = text.split(f"## {heading}\n", 1)[1]
    lines = section[section.index("\n|") + 1 :].splitlines()
    lines = lines[: next((i for i, line in enumerate(lines) if not line.startswith("|")), None)]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines[2:]]


def _code_of(text: str) -> str:
    """A fail line's code, without its markers."""
    return re.split(r"\s+# E:", text)[0].strip()


def _verdicts() -> dict[Line, dict[str, str | None]]:
    """The table's verdicts by fail line: per checker, the code it reports, or None."""
    verdicts: dict[Line, dict[str, str | None]] = {}
    for file, code, *cells in _table("Which checker catches which mistake"):
        lines = (TYPINGS / "fail" / file).read_text(encoding="utf-8").splitlines()
        found = [n for n, text in enumerate(lines, 1) if f"`{_code_of(text)}`" == code]
        assert len(found) == 1, f"{file}: {code} is on {len(found)} lines, not one"
        assert len(cells) == len(CHECKERS), f"{file}: {code}: {cells}"
        verdicts[(file, found[0])] = {
            checker: None if cell == "—" else cell.strip("`")
            for checker, cell in zip(CHECKERS, cells, strict=True)
        }
    return verdicts


def _pass_exceptions() -> dict[tuple[str, str], str]:
    """What a checker may report on a pass program: {(file, checker): code or 'excluded'}."""
    return {(file, checker): what.strip("`") for file, checker, what, _ in _table("Pass programs")}


@dataclass(frozen=True)
class Expected:
    """What mypy or pyright must say on one line: ``code`` and ``fragment``, or nothing."""

    code: str
    fragment: str
    missed: str


def _marks() -> dict[str, dict[Line, Expected]]:
    """The markers of every fail file: for mypy and pyright, what each marked line reports."""
    marks: dict[str, dict[Line, Expected]] = {"mypy": {}, "pyright": {}}
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


def test_there_are_cases() -> None:
    assert len(PASS) >= 3
    assert len(FAIL) >= 6
    assert len(_verdicts()) >= 40


def test_the_table_has_a_row_for_every_marked_line() -> None:
    verdicts, marks = _verdicts(), _marks()
    assert sorted(verdicts) == sorted(marks["mypy"])
    for checker in ("mypy", "pyright"):  # the markers and the table agree
        for key, want in marks[checker].items():
            assert verdicts[key][checker] == (want.code or None), (key, checker)


@pytest.mark.parametrize("checker", CHECKERS)
def test_fail_cases_fail_exactly_as_the_table_says(checker: str) -> None:
    verdicts = _verdicts()
    errors = RUN[checker](FAIL)
    problems = []
    for key, verdict in verdicts.items():
        codes = [code for code, _ in errors.get(key, [])]
        where = f"{key[0]}:{key[1]}: {checker}"
        if verdict[checker] is None and codes:
            problems.append(f"{where}: the table says it misses this line, but it said {codes}")
        elif verdict[checker] is not None and verdict[checker] not in codes:
            problems.append(f"{where}: the table says [{verdict[checker]}], it said {codes}")
    problems += [
        f"{f}:{n}: {checker}: an error on a line the table does not list: {found}"
        for (f, n), found in errors.items()
        if (f, n) not in verdicts
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("checker", ["mypy", "pyright"])
def test_fail_cases_give_the_marked_messages(checker: str) -> None:
    errors = RUN[checker](FAIL)
    problems = []
    for key, want in _marks()[checker].items():
        found = errors.get(key, [])
        if not want.missed and not any(c == want.code and want.fragment in m for c, m in found):
            problems.append(f"{key[0]}:{key[1]}: {checker}: expected {want}, got {found}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("checker", CHECKERS)
def test_pass_cases_are_clean(checker: str) -> None:
    allowed = {file: what for (file, c), what in _pass_exceptions().items() if c == checker}
    excluded = {file for file, what in allowed.items() if what == "excluded"}
    if checker == "pyright":  # the table's exclusions are pyproject's, and vice versa
        config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pyright"]
        assert {Path(p).name for p in config["exclude"] if p.startswith("typings/")} == excluded
    errors = RUN[checker]([p for p in PASS if p.name not in excluded])
    reported = {(file, code) for (file, _), found in errors.items() for code, _ in found}
    assert reported == {(f, what) for f, what in allowed.items() if what != "excluded"}, errors


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
