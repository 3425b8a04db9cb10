"""The docs site, checked in a real browser: `make docs-check`.

The site is built as `make docs` builds it (strict), served on 127.0.0.1 by a thread of
this process, and opened page by page in headless Chromium (Debian's, driven by
Playwright; no browser is downloaded). Every page loads with no console error, every
internal link resolves (its page and its #anchor), code blocks render highlighted, the
search finds `value_and_grad`, and screenshots of the home page and of `Network`'s API
entry are kept in `site-check/` as the build's artifacts.
"""

import functools
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "site-check"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As the machine's notes advise: no sandbox as root, and no background connections,
# which a closed network refuses (each refusal would be a console error).
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No line per request on stderr."""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    mkdocs = Path(sys.executable).parent / "mkdocs"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    build = [str(mkdocs), "build", "--strict", "--quiet", "--site-dir", str(out)]
    subprocess.run(build, cwd=ROOT, env=env, check=True)
    return out


@pytest.fixture(scope="module")
def base(site: Path) -> Iterator[str]:
    """The site's address, served by a thread on 127.0.0.1 until the module ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=site))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert not thread.is_alive()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "make docs-check needs Chromium: apt-get install chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _pages(site: Path) -> list[str]:
    """Every page of the site, as a path relative to its root ("" is the home page)."""
    pages = [p.parent.relative_to(site).as_posix() for p in site.rglob("index.html")]
    return sorted("" if p == "." else p + "/" for p in pages)


def _open(browser: Browser, url: str) -> tuple[Page, list[str]]:
    """``url`` opened in a new page, with the console errors and page errors it gave."""
    page = browser.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    response = page.goto(url, wait_until="networkidle")
    assert response is not None and response.ok, url
    return page, errors


def test_the_site_has_its_pages(site: Path) -> None:
    pages = _pages(site)
    assert "" in pages and "api/" in pages and "api/layers/" in pages
    assert len(pages) >= 25


def test_every_page_loads_with_no_console_error(site: Path, base: str, browser: Browser) -> None:
    failures: list[str] = []
    for path in _pages(site):
        page, errors = _open(browser, base + path)
        assert page.title()
        failures += [f"/{path}: {error}" for error in errors]
        page.close()
    assert failures == []


def test_every_internal_link_resolves(site: Path, base: str, browser: Browser) -> None:
    ids: dict[str, set[str]] = {}  # page path -> the ids it has, read from its HTML once
    broken: list[str] = []
    for path in _pages(site):
        page, _ = _open(browser, base + path)
        hrefs: list[str] = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        page.close()
        for href in hrefs:
            parsed = urllib.parse.urlsplit(href)
            if not href.startswith(base):
                continue  # outside the site: not ours to check
            target = parsed.path.lstrip("/")
            if not (site / target / "index.html").exists() and not (site / target).is_file():
                broken.append(f"/{path} -> {href}: no such page")
                continue
            if parsed.fragment and (site / target / "index.html").exists():
                if target not in ids:
                    html = (site / target / "index.html").read_text(encoding="utf-8")
                    ids[target] = set(re.findall(r'\bid="([^"]+)"', html))
                fragment = urllib.parse.unquote(parsed.fragment)
                if fragment not in ids[target]:
                    broken.append(f"/{path} -> {href}: no #{fragment} there")
    assert broken == []


def test_code_blocks_render_highlighted(base: str, browser: Browser) -> None:
    page, _ = _open(browser, base + "api/forward/")
    prompts = page.locator(".highlight .gp")
    assert prompts.count() >= 3
    assert prompts.first.inner_text().strip() == ">>>"
    assert page.locator("blockquote").count() == 0
    page.close()


def test_the_search_finds_value_and_grad(base: str, browser: Browser) -> None:
    page, errors = _open(browser, base)
    page.keyboard.press("/")  # the theme's shortcut: focus the search box
    page.keyboard.type("value_and_grad")
    results = page.locator(".md-search-result__item")
    results.first.wait_for(timeout=15_000)
    assert "value_and_grad" in page.locator(".md-search-result").inner_text()
    assert errors == []
    page.close()


def test_screenshots_of_the_home_page_and_the_network_api(base: str, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shots = {
        "home.png": base,
        "api-network.png": base + "api/layers/#typednet.network.Network",
    }
    for name, url in shots.items():
        page, errors = _open(browser, url)
        page.screenshot(path=str(ARTIFACTS / name))
        page.close()
        assert errors == []
        assert (ARTIFACTS / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
