"""The demo page at GET / in a real browser: Debian's chromium driven by Playwright, against a real
`python -m service` on 127.0.0.1. Outside CI a missing chromium or playwright skips these tests;
with CI=true it fails them (`.ci/browser-deps` installs both).

DEMO_SCREENSHOT=docs/demo.png makes the first test write the README's screenshot there."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
EXAMPLES = ROOT / "service" / "static" / "examples"

pytestmark = pytest.mark.slow


def unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI needs it for the browser tests (bash .ci/browser-deps installs it)")
    pytest.skip(reason)


def post(base: str, body) -> tuple[int, dict]:
    request = urllib.request.Request(base + "/v1/analyze", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"no chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log_path = tmp_path_factory.mktemp("demo") / "server.log"
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WORKERS": "1", "THREADS": "4"}
    with open(log_path, "w+") as log:
        process = subprocess.Popen([sys.executable, "-m", "service"], cwd=ROOT, env=env, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url + "/readyz", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("the service did not get ready:\n" + log_path.read_text())
            time.sleep(0.25)
        yield url
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


class Watched:
    """A page with everything it requested, logged and alerted recorded."""

    def __init__(self, page, base):
        self.page, self.base = page, base
        self.requests, self.problems, self.dialogs = [], [], []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: m.type == "error" and self.problems.append(m.text))
        page.on("pageerror", lambda e: self.problems.append(str(e)))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def open(self):
        self.page.goto(self.base + "/")
        expect(self.page.locator("#model-info")).to_contain_text(model(self.base)["version"])
        first = (EXAMPLES / "egypt_nato_ties.txt").read_text(encoding="utf-8")
        expect(self.page.locator("#text")).to_have_value(first)  # a first visit comes with an example
        return self.page

    def assert_only_the_service_was_asked(self):
        others = [url for url in self.requests if not url.startswith(self.base + "/")]
        assert not others, f"requests to elsewhere: {others}"


def model(base: str) -> dict:
    with urllib.request.urlopen(base + "/v1/model", timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture()
def watched(browser, base):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    yield Watched(context.new_page(), base)
    context.close()


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def analyse(page, key: str | None = None):
    """Click Analyse (or press `key`) and wait until the page has shown the answer; return the
    request body the page sent and the response it got."""
    with page.expect_response(lambda r: r.url.endswith("/v1/analyze")) as info:
        if key:
            page.keyboard.press(key)
        else:
            page.click("#analyse")
    expect(page.locator("body")).not_to_have_attribute("aria-busy", "true")  # rendered
    return info.value.request.post_data_json, info.value


def pick_example(page, name: str) -> str:
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    page.select_option("#example", name)
    expect(page.locator("#text")).to_have_value(text)
    return text


def shown(page) -> dict:
    """What the page shows, read back from the DOM."""
    return page.evaluate("""() => {
        const all = (selector, f) => Array.from(document.querySelectorAll(selector), f);
        const span = (n) => [Number(n.dataset.start), Number(n.dataset.end), n.textContent];
        return {
            chosen: all('#topics .topic.chosen', (n) => n.dataset.label),
            topics: all('#topics .topic', (n) => n.dataset.label),
            scores: all('#topics .topic-score', (n) => n.textContent),
            thresholds: all('#topics .threshold', (n) => parseFloat(n.style.left)),
            marks: all('#article mark', span),
            removed: all('#article del', span),
            article: document.getElementById('article').textContent,
            summary: all('#summary li', (n) => n.textContent),
            terms: Object.fromEntries(all('#explanation .terms', (n) => [n.querySelector('h4').textContent,
                                          Array.from(n.querySelectorAll('.term'), (t) => t.textContent)])),
            resultModel: document.getElementById('result-model').textContent,
            error: document.getElementById('error').hidden ? null
                   : document.getElementById('error-message').textContent,
        };
    }""")


def test_the_egypt_example_shows_the_api_answer_with_its_summary_highlighted_at_the_offsets(watched, base, tmp_path):
    page = watched.open()
    text = pick_example(page, "egypt_nato_ties.txt")
    body, response = analyse(page)
    page.locator("#result").wait_for()
    answer = response.json()
    assert response.status == 200 and body["text"] == text
    status, direct = post(base, body)  # the API asked directly, outside the page
    assert status == 200 and direct == answer

    seen = shown(page)
    description = model(base)
    assert seen["chosen"] == answer["labels"] and answer["labels"]
    assert seen["topics"] == description["labels"]
    assert seen["scores"] == [f"{answer['scores'][label]:.2f}" for label in description["labels"]]
    assert seen["thresholds"] == [pytest.approx(description["thresholds"][label] * 100, abs=0.05)
                                  for label in description["labels"]]
    assert seen["marks"] == [[s["start"], s["end"], s["text"]] for s in answer["summary"]["sentences"]]
    assert seen["removed"] == [[s["start"], s["end"], s["text"]] for s in answer["cleanup"]["removed"]]
    assert seen["article"] == text
    assert seen["summary"] == [s["text"] for s in answer["summary"]["sentences"]]
    assert seen["terms"] == {label: [t["term"] for t in terms] for label, terms in answer["explanation"].items()}
    assert answer["model"]["version"] in seen["resultModel"] and seen["error"] is None

    screenshot = Path(os.environ.get("DEMO_SCREENSHOT") or tmp_path / "demo.png")
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    watched.assert_only_the_service_was_asked()
    assert not watched.problems


def test_pasted_markup_is_shown_as_text_and_nothing_in_it_runs(watched):
    page = watched.open()
    text = ("<script>window.pwned = 'script'; alert('script')</script>\n"
            "NATO allies met in Brussels on Tuesday to agree on troops for the alliance's eastern flank. "
            "<img src=/x onerror=\"window.pwned = 'img'; alert('img')\"> Officials said the talks went well.\n"
            "<b onmouseover=alert(1)>bold</b> <iframe src=\"/readyz\"></iframe>\n")
    page.fill("#title", "<img src=/y onerror=alert('title')>")
    page.fill("#text", text)
    body, response = analyse(page)
    assert response.status == 200 and body["text"] == text
    page.locator("#result").wait_for()
    page.hover("#article")
    seen = shown(page)
    assert seen["article"] == text
    assert page.evaluate("() => window.pwned === undefined")
    assert page.locator("main img, main script, main iframe, main b").count() == 0
    assert watched.dialogs == []
    assert not [url for url in watched.requests if url.endswith(("/x", "/y"))]
    assert not watched.problems  # not even a script the CSP had to block
    watched.assert_only_the_service_was_asked()


def test_highlights_hold_for_characters_beyond_the_basic_plane(watched):
    """The API counts code points, JavaScript UTF-16 units: an emoji is one and two of them."""
    page = watched.open()
    text = ("\U0001F4F7 Photo: AFP\n"
            "NATO \U0001F1F3\U0001F1F4 allies met in Brussels on Tuesday. Envoys \U0001F91D agreed on more troops.\n")
    page.fill("#text", text)
    _, response = analyse(page)
    answer = response.json()
    seen = shown(page)
    assert seen["marks"] == [[s["start"], s["end"], s["text"]] for s in answer["summary"]["sentences"]]
    assert seen["removed"] == [[s["start"], s["end"], s["text"]] for s in answer["cleanup"]["removed"]]
    assert seen["removed"] and seen["article"] == text


def test_api_errors_are_shown_as_the_services_readable_message(watched, base, tmp_path):
    page = watched.open()
    error = page.locator("#error-message")
    expectations = [({"text": "   \n  "}, "422"), ({"text": "NATO allies met.", "sentences": "25"}, "400"),
                    ({"text": "NATO allies met. " * 60_000}, "413")]
    for fields, status in expectations:
        page.fill("#text", fields["text"])
        page.fill("#sentences", fields.get("sentences", "3"))
        body, response = analyse(page)
        message = post(watched.base, body)[1]["error"]["message"]
        assert str(response.status) == status
        expect(error).to_have_text(message)
        expect(page.locator("#error-code")).to_contain_text(f"HTTP {status}")
        assert page.locator("#result").is_hidden()

    # the service without a model answers 503: the page shows the very answer it would get
    from service.app import create_app
    from service.store import ModelStore

    client = create_app(ModelStore(tmp_path)).test_client()
    unready, no_model = client.post("/v1/analyze", json={"text": "x"}), client.get("/v1/model")
    assert unready.status_code == no_model.status_code == 503
    for path, body in (("**/v1/analyze", unready.get_data()), ("**/v1/model", no_model.get_data())):
        page.route(path, lambda route, _, body=body: route.fulfill(
            status=503, content_type="application/json", body=body))
    page.reload()
    expect(page.locator("#model-info")).to_contain_text(no_model.get_json()["error"]["message"])
    analyse(page)
    expect(error).to_have_text(unready.get_json()["error"]["message"])
    page.unroute("**/v1/model")

    # a proxy's HTML error page, and no answer at all
    page.unroute("**/v1/analyze")
    page.route("**/v1/analyze", lambda route: route.fulfill(status=502, content_type="text/html",
                                                           body="<html><h1>Bad Gateway</h1></html>"))
    page.click("#analyse")
    expect(error).to_contain_text("answered 502")
    page.unroute("**/v1/analyze")
    page.route("**/v1/analyze", lambda route: route.abort())
    page.click("#analyse")
    expect(error).to_contain_text("could not be reached")
    assert "{" not in error.text_content()
    watched.assert_only_the_service_was_asked()


def test_at_phone_width_nothing_overflows_sideways(browser, base):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    try:
        watched = Watched(context.new_page(), base)
        page = watched.open()
        pick_example(page, "qusayr_deployment.txt")
        analyse(page)
        page.locator("#result").wait_for()
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
        for selector in ("#example", "#text", "#analyse", "#topics .bar >> nth=0", "#summary", "#article"):
            box = page.locator(selector).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, selector
        watched.assert_only_the_service_was_asked()
        assert not watched.problems
    finally:
        context.close()


def test_everything_works_by_keyboard_alone(watched):
    page = watched.open()
    order = []
    for _ in range(12):
        page.keyboard.press("Tab")
        order.append(page.evaluate("() => document.activeElement.id || document.activeElement.tagName"))
        if order[-1] == "analyse":
            break
    assert order[:6] == ["example", "title", "text", "algorithm", "sentences", "analyse"]
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")

    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("() => document.activeElement.id") == "example"
    page.keyboard.press("ArrowDown")  # from the first example (there on a first visit) to the second
    expect(page.locator("#text")).to_have_value((EXAMPLES / "qusayr_deployment.txt").read_text(encoding="utf-8"))
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    _, response = analyse(page, "Control+Enter")  # in the text area
    assert response.status == 200
    expect(page.locator("#topics .topic.chosen")).to_have_count(len(response.json()["labels"]))

    page.fill("#text", "Officials in Cairo and Ankara met NATO envoys on Thursday.")
    page.focus("#analyse")
    body, _ = analyse(page, "Enter")
    assert body["text"].startswith("Officials in Cairo")
    page.keyboard.press("Tab")  # on to the article, which scrolls by keyboard
    assert page.evaluate("() => document.activeElement.id") == "article"
    watched.assert_only_the_service_was_asked()
    assert not watched.problems
