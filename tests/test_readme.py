"""The README's examples are real: each is a typings/pass case, and prints what it says."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
# A python block, optionally followed by "prints" and the block of its output.
EXAMPLES = re.findall(r"```python\n(.*?)```\n(?:\nprints\n\n```\n(.*?)```)?", README, re.S)
PASS_FILES = sorted((ROOT / "typings" / "pass").glob("readme_*.py"))


def _without_docstring(text: str) -> str:
    return re.sub(r'\A""".*?"""\n\n', "", text, flags=re.S)


def test_every_readme_example_is_a_pass_case() -> None:
    cases = {_without_docstring(p.read_text()) for p in PASS_FILES}
    assert len(EXAMPLES) == len(PASS_FILES) >= 3
    for code, _ in EXAMPLES:
        assert code in cases, f"README example not in typings/pass:\n{code}"


@pytest.mark.parametrize(
    ("code", "output"), [e for e in EXAMPLES if e[1]], ids=lambda v: v.splitlines()[0][:30]
)
def test_readme_examples_print_what_the_readme_says(code: str, output: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout == output


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
