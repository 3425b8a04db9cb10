"""mkdocs hooks: the site's home page is the README (its links to docs/ made relative to
docs/), and the API landing page lists every public name, grouped by page.

For each page of the site that documents modules (its ``::: module`` lines), in the
nav's order: each module that is itself a public name (``tn.schedules``), then every name
in each module's ``__all__``, with a link to its entry and the first paragraph of its
docstring, read by griffe as mkdocstrings reads it. The list is made at each build, so
it cannot fall behind the package.
"""

import importlib
import os
import re
from pathlib import Path
from typing import Any

import griffe

import typednet

INDEX = "api/index.md"


def _pages(nav: list[Any]) -> list[tuple[str, str]]:
    """(title, path) of every page in the nav, in order."""
    pages: list[tuple[str, str]] = []
    for entry in nav:
        for title, value in entry.items() if isinstance(entry, dict) else ():
            pages += _pages(value) if isinstance(value, list) else [(title, value)]
    return pages


def _summary(obj: griffe.Object | griffe.Alias) -> str:
    docstring = obj.docstring.value if obj.docstring else ""
    first = docstring.strip().split("\n\n", 1)[0]
    return " ".join(line.strip() for line in first.splitlines())


def _listing(nav: list[Any], docs_dir: str) -> str:
    package = griffe.load("typednet", search_paths=["src"])
    sections = []
    for title, path in _pages(nav):
        text = (Path(docs_dir) / path).read_text(encoding="utf-8")
        lines = []
        for module_path in re.findall(r"^::: ([\w.]+)$", text, re.M):
            module = importlib.import_module(module_path)
            documented = package[module_path.removeprefix("typednet.")]
            if getattr(typednet, module_path.rsplit(".", 1)[-1], None) is module:
                short = module_path.rsplit(".", 1)[-1]
                lines.append(f"- [`{short}`][{module_path}]: {_summary(documented)}")
            for name in getattr(module, "__all__", ()):
                summary = _summary(documented[name])
                lines.append(f"- [`{name}`][{module_path}.{name}]: {summary}")
        if lines:
            link = os.path.relpath(path, "api")
            sections.append(f"## [{title}]({link})\n\n" + "\n".join(lines))
    return "\n\n".join(sections)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if page.file.src_uri == "index.md":  # the README, whose links to docs/ start here
        readme = (Path(config["docs_dir"]).parent / "README.md").read_text(encoding="utf-8")
        # typings/README.md is on the site as checkers.md (it includes that file).
        return readme.replace("](docs/", "](").replace("](typings/README.md)", "](checkers.md)")
    if page.file.src_uri != INDEX:
        return markdown
    return markdown + "\n\n" + _listing(config["nav"], config["docs_dir"]) + "\n"
