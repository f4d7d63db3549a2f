"""Headless Firefox driven over WebDriver BiDi, for the browser tests.

Playwright's own Firefox cannot be installed here and Debian has no geckodriver, but Firefox
(firefox-esr) speaks WebDriver BiDi itself: started with ``--remote-debugging-port`` it takes
JSON commands over a websocket. This is the little we need of it: tabs in separate user
contexts (own cookies, like a new browser profile), navigation, real mouse clicks and key
presses, JavaScript evaluation and waiting for a condition.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

#: no first-run pages, no updates, no telemetry, no calls home: the tests run without internet
USER_JS = """
user_pref("app.update.disabledForTesting", true);
user_pref("browser.aboutwelcome.enabled", false);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("browser.startup.page", 0);
user_pref("datareporting.healthreport.uploadEnabled", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("extensions.update.enabled", false);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("intl.accept_languages", "en-US, en");
"""


def find_firefox() -> str | None:
    """Debian's firefox-esr, or a plain firefox."""
    return shutil.which("firefox-esr") or shutil.which("firefox")


class BidiError(RuntimeError):
    """Firefox refused a command (the error names the command and Firefox's reason)."""


class Firefox:
    """One headless Firefox process and its BiDi session."""

    def __init__(self, executable: str, start_timeout: float = 30) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="callcard-firefox-"))
        (self.profile / "user.js").write_text(USER_JS)
        self.log_path = self.profile / "firefox.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [executable, "--headless", "--no-remote", "--profile", str(self.profile)]
            + ["--remote-debugging-port=0", "about:blank"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._ids = itertools.count(1)
        #: errors the pages reported (uncaught exceptions, console.error), oldest first
        self.page_errors: list[str] = []
        try:
            self.ws: ClientConnection = connect(
                self._wait_for_address(start_timeout) + "/session", max_size=None
            )
            self.command("session.new", {"capabilities": {}})
            self.command("session.subscribe", {"events": ["log.entryAdded"]})
        except BaseException:
            self.stop()
            raise

    def _wait_for_address(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(
                rb"WebDriver BiDi listening on (ws://\S+)", self.log_path.read_bytes()
            )
            if found:
                return found.group(1).decode()
            if self.process.poll() is not None:
                raise RuntimeError(f"Firefox exited at start: {self.log()}")
            time.sleep(0.05)
        raise RuntimeError(f"Firefox did not open WebDriver BiDi in {timeout} s: {self.log()}")

    def log(self) -> str:
        """The last lines Firefox printed (for error messages)."""
        return self.log_path.read_text(errors="replace")[-2000:]

    def command(self, method: str, params: dict | None = None, timeout: float = 30) -> dict:
        """Send one command and return its result, keeping the page errors that arrive."""
        ident = next(self._ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BidiError(f"{method}: no answer from Firefox in {timeout} s")
            message = json.loads(self.ws.recv(timeout=remaining))
            if message.get("method") == "log.entryAdded":
                self._page_log(message["params"])
            if message.get("id") != ident:
                continue
            if message.get("type") == "error":
                raise BidiError(f"{method}: {message['error']}: {message.get('message', '')}")
            return message["result"]

    def _page_log(self, entry: dict) -> None:
        if entry.get("level") != "error":
            return
        frames = (entry.get("stackTrace") or {}).get("callFrames") or [{}]
        where = f"{frames[0].get('url', '')}:{frames[0].get('lineNumber', '')}"
        self.page_errors.append(f"{entry.get('text')} ({entry.get('type')} at {where})")

    def new_page(self, viewport: dict | None = None) -> Page:
        """A tab in a fresh user context: no cookies shared with other pages."""
        user_context = self.command("browser.createUserContext")["userContext"]
        context = self.command(
            "browsingContext.create", {"type": "tab", "userContext": user_context}
        )["context"]
        page = Page(self, context, user_context)
        if viewport:
            page.set_viewport(viewport["width"], viewport["height"])
        return page

    def stop(self) -> None:
        try:
            if getattr(self, "ws", None) is not None:
                with contextlib.suppress(Exception):  # else the process is killed below
                    self.command("browser.close", timeout=10)
                self.ws.close()
        finally:
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
            self._log.close()
            shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    """One tab: navigate, evaluate, click, type, wait."""

    def __init__(self, browser: Firefox, context: str, user_context: str) -> None:
        self.browser = browser
        self.context = context
        self.user_context = user_context

    def goto(self, url: str) -> None:
        self.browser.command(
            "browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"}
        )

    def set_viewport(self, width: int, height: int) -> None:
        self.browser.command(
            "browsingContext.setViewport",
            {"context": self.context, "viewport": {"width": width, "height": height}},
        )

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (awaited if a promise), as JSON data."""
        result = self.browser.command(
            "script.evaluate",
            {
                "expression": f"(async () => JSON.stringify(await ({expression}) ?? null))()",
                "target": {"context": self.context},
                "awaitPromise": True,
            },
        )
        if result["type"] == "exception":
            details = result["exceptionDetails"]
            raise BidiError(f"{expression!r} threw: {details.get('text', details)}")
        return json.loads(result["result"]["value"])

    def wait_for(self, expression: str, timeout: float = 5, interval: float = 0.05) -> None:
        """Poll until the expression is truthy in JavaScript; fail with the page's URL and text.
        Errors while a new page loads count as "not yet"."""
        deadline = time.monotonic() + timeout
        last_error = None
        while True:
            try:
                if self.evaluate(f"Boolean({expression})"):
                    return
            except BidiError as exc:
                last_error = exc
            if time.monotonic() > deadline:
                break
            time.sleep(interval)
        try:
            where = self.evaluate("[location.href, document.body.innerText.slice(0, 300)]")
        except BidiError as exc:
            where = f"(page not readable: {exc})"
        raise AssertionError(
            f"still false after {timeout} s: {expression}\n  page: {where}"
            + (f"\n  last error: {last_error}" if last_error else "")
        )

    def text(self, selector: str) -> str:
        return self.evaluate(f"document.querySelector({json.dumps(selector)}).innerText")

    def _element(self, selector: str) -> dict:
        """A reference to the element, scrolled into view (BiDi actions do not scroll)."""
        result = self.browser.command(
            "script.callFunction",
            {
                "functionDeclaration": "(s) => { const e = document.querySelector(s);"
                " if (e) e.scrollIntoView({block: 'center'}); return e; }",
                "arguments": [{"type": "string", "value": selector}],
                "target": {"context": self.context},
                "awaitPromise": False,
            },
        )
        node = result.get("result", {})
        if node.get("type") != "node":
            raise AssertionError(f"no element {selector!r} on {self.evaluate('location.href')}")
        return {"sharedId": node["sharedId"]}

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element."""
        element = self._element(selector)
        self.browser.command(
            "input.performActions",
            {
                "context": self.context,
                "actions": [
                    {
                        "type": "pointer",
                        "id": "mouse",
                        "parameters": {"pointerType": "mouse"},
                        "actions": [
                            {
                                "type": "pointerMove",
                                "x": 0,
                                "y": 0,
                                "origin": {"type": "element", "element": element},
                            },
                            {"type": "pointerDown", "button": 0},
                            {"type": "pointerUp", "button": 0},
                        ],
                    }
                ],
            },
        )

    def type(self, selector: str, text: str) -> None:
        """Click into the field and type the text key by key."""
        self.click(selector)
        keys = [{"type": kind, "value": char} for char in text for kind in ("keyDown", "keyUp")]
        self.browser.command(
            "input.performActions",
            {
                "context": self.context,
                "actions": [{"type": "key", "id": "keyboard", "actions": keys}],
            },
        )

    def screenshot(self, path: Path) -> None:
        data = self.browser.command("browsingContext.captureScreenshot", {"context": self.context})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data["data"]))

    def close(self) -> None:
        """Close the tab and forget its cookies."""
        self.browser.command("browser.removeUserContext", {"userContext": self.user_context})
