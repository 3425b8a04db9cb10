"""The API reference covers every public name, each with a docstring of its own.

`make docs` builds the site in strict mode (a broken reference fails it); this test
checks, without building, that its pages reach every name in ``typednet.__all__``.
"""

import ast
import importlib
import inspect
import itertools
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import typednet as tn

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").rglob("*.md"))
DOCUMENTED = [m for page in PAGES for m in re.findall(r"^::: ([\w.]+)$", page.read_text(), re.M)]


def _attribute_docstrings(module: types.ModuleType) -> set[str]:
    """Module-level names assigned and followed by a string: their own docstring."""
    body = ast.parse(inspect.getsource(module)).body
    named = set()
    for statement, after in itertools.pairwise(body):
        if (
            isinstance(statement, ast.Assign | ast.AnnAssign)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            named |= {t.id for t in targets if isinstance(t, ast.Name)}
    return named


def test_every_public_name_is_on_a_page() -> None:
    modules = [importlib.import_module(m) for m in DOCUMENTED]
    covered = {name for m in modules for name in getattr(m, "__all__", ())}
    covered |= {m.__name__.rsplit(".", 1)[-1] for m in modules}  # tn.io, tn.schedules, ...
    assert [name for name in tn.__all__ if name not in covered] == []


def test_every_public_name_has_a_docstring_of_its_own() -> None:
    missing = []
    for module in (importlib.import_module(m) for m in DOCUMENTED):
        own = _attribute_docstrings(module)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            defined = inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismodule(obj)
            if defined and getattr(obj, "__name__", "").endswith(name):
                ok = bool((obj.__doc__ or "").strip())
            else:  # an instance (an activation, a loss) or an alias: an attribute docstring
                ok = name in own
            if not ok:
                missing.append(f"{module.__name__}.{name}")
    assert missing == []


def test_the_site_is_built_in_strict_mode_from_the_pages_listed() -> None:
    config = (ROOT / "mkdocs.yml").read_text()
    assert re.search(r"^strict: true$", config, re.M)
    listed = set(re.findall(r"([\w/-]+\.md)$", config, re.M))
    assert listed == {str(p.relative_to(ROOT / "docs")) for p in PAGES}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built as `make docs` builds it (strict), into a temporary folder."""
    out = tmp_path_factory.mktemp("site")
    mkdocs = Path(sys.executable).parent / "mkdocs"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    build = [str(mkdocs), "build", "--strict", "--quiet", "--site-dir", str(out)]
    subprocess.run(build, cwd=ROOT, env=env, check=True, capture_output=True)
    return out


def test_no_docstring_example_renders_as_a_quote(site: Path) -> None:
    # A bare ``>>>`` paragraph renders as three nested quotes; under an ``Examples:``
    # section it is a highlighted code block, its prompts spans of class "gp".
    pages = sorted((site / "api").rglob("*.html"))
    assert [p.parent.name for p in pages if "<blockquote>" in p.read_text()] == []
    for page in (site / "api" / "forward" / "index.html", site / "api" / "metrics" / "index.html"):
        assert '<span class="gp">&gt;&gt;&gt; </span>' in page.read_text()


def test_the_api_landing_page_links_every_public_name(site: Path) -> None:
    html = (site / "api" / "index.html").read_text()
    linked = set(
        re.findall(r'class="autorefs autorefs-internal"[^>]*><code>(\w+)</code></a>', html)
    )
    assert [name for name in tn.__all__ if name not in linked] == []
