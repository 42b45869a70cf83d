"""End-to-end: the page in headless Chromium (the system browser, driven by Playwright).

The server runs in a thread with the planted agent (see ``_planted.py``), whose retargeting
is known to work on every maze. Without a browser these tests skip, saying why; in CI
(``CI=true``) a missing Playwright next to an installed chromium is a failure instead.
Screenshots go to the test's temporary directory.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from _planted import MAZE, PLANTED_RETARGET, ZOO_AGENT, ZOO_MAZE, ZOO_TARGET, TinyPolicy, far_target

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

if CHROMIUM is None:
    pytestmark = pytest.mark.skip(
        reason="no chromium on PATH: install Debian's chromium (scripts/test does so when run as root)"
    )
elif sync_playwright is None:
    if os.environ.get("CI") == "true":
        raise ImportError("chromium is installed but playwright is not: pip install -e '.[dev]'")
    pytestmark = pytest.mark.skip(reason="playwright is not installed: pip install -e '.[dev]'")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """The app on 127.0.0.1 in a thread: ``(url, store)``."""
    import torch
    import uvicorn

    from steering.app import AgentStore, create_app

    torch.set_num_threads(1)
    store = AgentStore(zoo=True, policies={"planted": TinyPolicy(25)}, default="planted")
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    deadline = time.time() + 20
    while not srv.started:
        if time.time() > deadline or not t.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/", store
    srv.should_exit = True
    t.join(10)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        yield b
        b.close()


def _digest(page) -> str:
    return page.get_attribute("#arrows", "data-digest")


def _load_maze(page, url, maze=MAZE, agent=None):
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=15000)
    if agent is not None:
        version = page.get_attribute("#arrows", "data-version")
        page.select_option("#agent", agent)
        page.wait_for_function(f"document.querySelector('#arrows').dataset.version !== '{version}'")
    page.fill("#seed", str(maze["seed"]))
    page.fill("#cheese-spec", maze.get("cheese", "uniform"))
    page.select_option("#size", str(maze["size"]))
    page.set_checked("#no-cheese", maze.get("no_cheese", False))
    version = page.get_attribute("#arrows", "data-version")
    page.click("#new-maze")
    page.wait_for_function(f"document.querySelector('#arrows').dataset.version !== '{version}'")


def test_click_retargets_and_the_rollout_reaches_the_target(server, browser, tmp_path):
    url, store = server
    target = far_target(store)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _load_maze(page, url)
    assert page.get_attribute(f"rect[data-r='{target[0]}'][data-c='{target[1]}']", "class") == "cell open"
    before = _digest(page)
    page.screenshot(path=str(tmp_path / "1-maze.png"))

    page.fill("#rt-channels", ",".join(map(str, PLANTED_RETARGET["channels"])))
    page.fill("#rt-magnitude", str(PLANTED_RETARGET["magnitude"]))
    page.check("input[name=mode][value=retarget]")
    page.click(f"#maze rect[data-r='{target[0]}'][data-c='{target[1]}']")
    page.wait_for_selector("#target", timeout=15000)
    # the vector field redrew, differently, and the share of activations modified shows
    assert _digest(page) != before
    assert "0.040% of the patched layer" in page.inner_text("#modified")
    assert page.locator(".patch").count() == 1
    page.screenshot(path=str(tmp_path / "2-retargeted.png"))

    page.fill("#speed", "5")
    page.click("#run-rollout")
    page.wait_for_function("document.querySelector('#outcome').dataset.outcome !== ''", timeout=20000)
    assert page.get_attribute("#outcome", "data-outcome") == "target"
    # the animated mouse ends on the target cell
    cx, cy = float(page.get_attribute("#mouse", "cx")), float(page.get_attribute("#mouse", "cy"))
    assert (cy - 0.5, cx - 0.5) == target
    page.screenshot(path=str(tmp_path / "3-rollout.png"))
    page.fill("#n-rollouts", "10")
    page.fill("#max-steps", "60")
    page.click("#run-rollouts")
    page.wait_for_function("document.querySelector('#rate').textContent.includes('Wilson')", timeout=20000)
    assert "reached target: 10/10" in page.inner_text("#rate")

    # the difference view, the activation viewer and the URL state
    page.check("input[name=show][value=diff]")
    assert page.locator("#arrows.diff line").count() > 0
    page.hover(f"#act-map rect[data-r='{target[0]}'][data-c='{target[1]}']")
    assert f"cell ({target[0]}, {target[1]})" in page.inner_text("#act-hover")
    assert page.locator("#act-grid canvas").count() == 4
    assert "#s=" in page.url
    assert errors == []


def test_url_state_reopens_in_another_tab_without_sharing_the_session(server, browser, tmp_path):
    url, store = server
    target = far_target(store)
    ctx = browser.new_context()
    a = ctx.new_page()
    _load_maze(a, url)
    a.fill("#rt-channels", "1")
    a.fill("#rt-magnitude", "2")
    a.click(f"#maze rect[data-r='{target[0]}'][data-c='{target[1]}']")
    a.wait_for_selector("#target")
    shared = a.url
    digest_a = _digest(a)
    # a second tab opened from the shared link shows the same view, in its own session
    b = ctx.new_page()
    b.goto(shared)
    b.wait_for_selector("body[data-ready='1']")
    b.wait_for_selector("#target")
    assert _digest(b) == digest_a
    sid_a = a.evaluate("sessionStorage.getItem('sid')")
    sid_b = b.evaluate("sessionStorage.getItem('sid')")
    assert sid_a != sid_b
    # removing the patch in tab b leaves tab a's state alone
    b.click(".patch button.remove")
    b.wait_for_function("document.querySelectorAll('.patch').length === 0")
    assert _digest(b) != digest_a
    a.click("#run-rollout")
    a.wait_for_function("document.querySelector('#outcome').dataset.outcome !== ''", timeout=20000)
    assert a.get_attribute("#outcome", "data-outcome") == "target"
    b.screenshot(path=str(tmp_path / "tab-b.png"))
    ctx.close()


def test_default_zoo_agent_retargeted_by_a_click(server, browser, tmp_path):
    """The new user's path: the default agent, a maze, one click, the mouse goes there."""
    import agents

    if ZOO_AGENT not in agents.zoo_names():
        pytest.skip(f"zoo agent {ZOO_AGENT} missing")
    url, _ = server
    page = browser.new_page(viewport={"width": 1400, "height": 860})
    _load_maze(page, url, ZOO_MAZE, agent=ZOO_AGENT)
    before = _digest(page)
    page.click(f"#maze rect[data-r='{ZOO_TARGET[0]}'][data-c='{ZOO_TARGET[1]}']")  # default channels
    page.wait_for_selector("#target", timeout=30000)
    assert _digest(page) != before
    assert "0.510% of the patched layer" in page.inner_text("#modified")
    page.fill("#speed", "10")
    page.click("#run-rollout")
    page.wait_for_function("document.querySelector('#outcome').dataset.outcome !== ''", timeout=20000)
    assert page.get_attribute("#outcome", "data-outcome") == "target"
    page.screenshot(path=str(tmp_path / "zoo-agent.png"))
    # the README's link opens that maze
    link = re.search(r"http://127\.0\.0\.1:8765/(#s=[\w=+/]+)", (ROOT / "README.md").read_text()).group(1)
    other = browser.new_page()
    other.goto(url + link)
    other.wait_for_selector("body[data-ready='1']", timeout=15000)
    assert other.input_value("#seed") == str(ZOO_MAZE["seed"]) and other.input_value("#size") == str(ZOO_MAZE["size"])
    assert other.input_value("#agent") == ZOO_AGENT


def test_toggle_a_wall_and_drag_the_mouse(server, browser, tmp_path):
    url, _ = server
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    _load_maze(page, url)
    mouse = [int(float(page.get_attribute("#mouse", a)) - 0.5) for a in ("cy", "cx")]
    open_cells = page.eval_on_selector_all(
        "#maze rect.open", "els => els.map(e => [Number(e.dataset.r), Number(e.dataset.c)])"
    )
    far = max(open_cells, key=lambda rc: abs(rc[0] - mouse[0]) + abs(rc[1] - mouse[1]))
    wall = next(rc for rc in open_cells if rc != mouse and rc != far)
    # toggle a wall on an open cell
    page.check("input[name=mode][value=walls]")
    version = page.get_attribute("#arrows", "data-version")
    page.click(f"#maze rect[data-r='{wall[0]}'][data-c='{wall[1]}']")
    page.wait_for_function(f"document.querySelector('#arrows').dataset.version !== '{version}'")
    assert page.get_attribute(f"#maze rect[data-r='{wall[0]}'][data-c='{wall[1]}']", "class") == "cell wall"
    # drag the mouse to the far cell
    src = page.locator(f"#maze rect[data-r='{mouse[0]}'][data-c='{mouse[1]}']").bounding_box()
    dst = page.locator(f"#maze rect[data-r='{far[0]}'][data-c='{far[1]}']").bounding_box()
    page.mouse.move(src["x"] + src["width"] / 2, src["y"] + src["height"] / 2)
    page.mouse.down()
    page.mouse.move(dst["x"] + dst["width"] / 2, dst["y"] + dst["height"] / 2, steps=5)
    page.mouse.up()
    page.wait_for_function(f"document.querySelector('#mouse').getAttribute('cx') === '{far[1] + 0.5}'")
    assert float(page.get_attribute("#mouse", "cy")) == far[0] + 0.5
    page.screenshot(path=str(tmp_path / "edited.png"))
