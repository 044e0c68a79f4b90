"""Real-browser fixtures: Debian chromium driven by Playwright against a live Streamlit server.

Policy: when chromium or Playwright is missing (or chromium cannot start) the browser tests
are skipped with the install command, unless ``REQUIRE_BROWSER=1`` (set by CI), in which
case they fail. Every test gets a fresh browser context whose requests, failed requests and
page errors are recorded; at teardown the page must have stayed on localhost, with no failed
request and no uncaught JavaScript error (the app is offline and private by construction).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
INSTALL_HINT = (
    "Browser tests need Debian's chromium and the Python playwright package: "
    "`apt-get install chromium` (and `uv sync` for playwright; no `playwright install` needed)."
)
SERVER_START_TIMEOUT = 60.0
#: Default Playwright timeout (ms): a cold map takes 3-5 s on a 2-core machine.
UI_TIMEOUT_MS = 45_000
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
LOCAL_SCHEMES = {"data", "blob", "about"}


def browser_unavailable(reason: str) -> None:
    """Skip (or fail when ``REQUIRE_BROWSER=1``) because the real browser cannot run."""
    message = f"{reason}\n{INSTALL_HINT}"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {message}", pytrace=False)
    pytest.skip(message)


def chromium_path() -> str | None:
    """The chromium executable to drive, if any."""
    if Path(CHROMIUM).is_file():
        return CHROMIUM
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser():
    """A headless Debian chromium launched by Playwright (one per session)."""
    executable = chromium_path()
    if executable is None:
        browser_unavailable(f"chromium not found ({CHROMIUM} absent and not on PATH).")
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import expect, sync_playwright
    except ImportError as exc:
        browser_unavailable(f"Python playwright is not importable ({exc}).")
    expect.set_options(timeout=UI_TIMEOUT_MS)
    with sync_playwright() as playwright:
        try:
            instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            browser_unavailable(f"Playwright could not launch {executable}: {exc}")
        try:
            yield instance
        finally:
            instance.close()


# --------------------------------------------------------------------------- server


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, limit: int = 4000) -> str:
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    return text[-limit:]


@contextlib.contextmanager
def streamlit_server(log_dir: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run ``streamlit run dashboard.py`` on a free port; yield its base URL once healthy.

    ``env`` entries are added to the inherited environment (e.g. ``CENTRES_FILE``).
    """
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_dir / f"streamlit-{port}.out", log_dir / f"streamlit-{port}.err"
    command = [
        sys.executable, "-m", "streamlit", "run", "dashboard.py",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=out, stderr=err
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"streamlit exited with code {proc.returncode} before being healthy:\n"
                    f"{_tail(err_path)}\n{_tail(out_path)}",
                    pytrace=False,
                )
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                    if resp.read().strip() == b"ok":
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"streamlit not healthy after {SERVER_START_TIMEOUT:.0f} s:\n"
                    f"{_tail(err_path)}\n{_tail(out_path)}",
                    pytrace=False,
                )
            time.sleep(0.2)  # polling interval of the health check, not a readiness guess
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def app_url(browser, tmp_path_factory) -> Iterator[str]:
    """Base URL of the dashboard on the inherited environment, shared by a test module."""
    with streamlit_server(tmp_path_factory.mktemp("streamlit-logs")) as url:
        yield url


@pytest.fixture
def start_app(browser, tmp_path_factory) -> Iterator[Callable[..., str]]:
    """Factory: ``start_app(CENTRES_FILE=...)`` runs another server (stopped after the test)."""
    with contextlib.ExitStack() as stack:

        def start(**env: str) -> str:
            logs = tmp_path_factory.mktemp("streamlit-logs")
            return stack.enter_context(streamlit_server(logs, env))

        yield start


# --------------------------------------------------------------------------- page


def is_local(url: str) -> bool:
    """True for URLs served by the local app (or not fetched from any host at all)."""
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return parts.scheme in {"http", "https", "ws", "wss"} and parts.hostname in LOCAL_HOSTS


@dataclass
class Traffic:
    """What a browser context asked for, what failed, and the uncaught page errors."""

    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def external(self) -> list[str]:
        return [url for url in self.requests if not is_local(url)]

    def problems(self) -> list[str]:
        """Every offline/privacy/robustness violation, one line each (empty = clean)."""
        return (
            [f"request left localhost: {url}" for url in dict.fromkeys(self.external)]
            + [f"request failed: {what}" for what in dict.fromkeys(self.failed)]
            + [f"page error: {what}" for what in self.errors]
        )

    def assert_clean(self) -> None:
        """No request outside localhost, no failed request, no uncaught page error."""
        problems = self.problems()
        assert not problems, "\n".join(problems)


@pytest.fixture
def traffic() -> Traffic:
    """The current test's recorded browser traffic (filled by the ``page`` fixture)."""
    return Traffic()


@pytest.fixture
def page(browser, traffic, start_app):
    """A page in a fresh browser context; its traffic must be clean at the end of the test.

    It depends on ``start_app`` so that the page is closed before any extra server stops.
    """
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, locale="fr-FR", service_workers="block"
    )
    context.set_default_timeout(UI_TIMEOUT_MS)
    context.on("request", lambda request: traffic.requests.append(request.url))
    context.on(
        "requestfailed",
        lambda request: traffic.failed.append(f"{request.url} ({request.failure})"),
    )
    page = context.new_page()
    page.on("websocket", lambda socket: traffic.requests.append(socket.url))
    page.on("pageerror", lambda error: traffic.errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    traffic.assert_clean()
