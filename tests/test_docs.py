"""The API reference covers every public name, each with a docstring of its own.

`make docs` builds the site in strict mode (a broken reference fails it); this test
checks, without building, that its pages reach every name in ``typednet.__all__``.
"""

import ast
import importlib
import inspect
import itertools
import re
import types
from pathlib import Path

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
