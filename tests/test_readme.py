"""The examples of the README and of the guides in docs/ are real: each is a typings/pass
case (type-checked and run there), and prints what the page says it prints."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
# The README and the guides (docs/index.md includes the README; docs/api holds no examples).
PAGES = [
    ROOT / "README.md",
    *sorted(p for p in (ROOT / "docs").glob("*.md") if p.name != "index.md"),
]
PASS_FILES = sorted((ROOT / "typings" / "pass").glob("readme_*.py"))
# A python block, optionally followed by "prints" and the block of its output.
BLOCK = re.compile(r"```python\n(.*?)```\n(?:\nprints\n\n```\n(.*?)```)?", re.S)
# A block that includes a pass file from its third line (after its docstring).
SNIPPET = re.compile(r'\A--8<-- "(typings/pass/readme_\w+\.py):3:"\n\Z')


def _without_docstring(text: str) -> str:
    return re.sub(r'\A""".*?"""\n\n', "", text, flags=re.S)


def _examples() -> list[tuple[str, str, str]]:
    """(page, code, output) of every python block of every page; snippets resolved."""
    found = []
    for page in PAGES:
        for code, output in BLOCK.findall(page.read_text(encoding="utf-8")):
            snippet = SNIPPET.match(code)
            if snippet:
                code = _without_docstring((ROOT / snippet[1]).read_text(encoding="utf-8"))
            found.append((page.name, code, output))
    return found


EXAMPLES = _examples()


def test_every_example_is_a_pass_case_and_every_readme_case_is_shown() -> None:
    cases = {_without_docstring(p.read_text()): p.name for p in PASS_FILES}
    shown = set()
    for page, code, _ in EXAMPLES:
        assert code in cases, f"{page}: example not in typings/pass:\n{code}"
        shown.add(cases[code])
    assert sorted(shown) == [p.name for p in PASS_FILES]
    assert len(BLOCK.findall(README)) >= 3  # the README keeps its quick examples


@pytest.mark.parametrize(
    ("page", "code", "output"), [e for e in EXAMPLES if e[2]], ids=lambda v: v[:30]
)
def test_examples_print_what_their_page_says(page: str, code: str, output: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout == output, page


def test_the_demo_excerpt_is_what_the_demo_prints(capsys: pytest.CaptureFixture[str]) -> None:
    from typednet.apps import tutorial

    excerpt = re.search(r"## The course, reproduced.*?```\n(.*?)```", README, re.S)
    assert excerpt is not None
    tutorial.print_forward()
    tutorial.print_backprop()
    printed = capsys.readouterr().out.splitlines()
    shown = [line for line in excerpt[1].splitlines() if line not in ("...", "")]
    assert len(shown) > 10
    for line in shown:
        assert line in printed, line
