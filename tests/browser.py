"""Headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``),
with the standard library only: load a page, collect console errors, exceptions and network
requests, evaluate JavaScript, take a screenshot, and read a PNG's pixels.

Used by the graph and HTML tests; ``find_chromium()`` is None where no browser is installed
(the tests then skip). Debian's package installs ``/usr/bin/chromium``.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    exe = os.environ.get("LAYERCALC_CHROMIUM")
    if exe:
        return exe if os.path.exists(exe) else None
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class BrowserError(RuntimeError):
    pass


class Browser:
    """One headless browser; ``page()`` opens a tab. Use as a context manager."""

    def __init__(self, exe: str | None = None, timeout: float = 60.0):
        exe = exe or find_chromium()
        if exe is None:
            raise BrowserError("no Chromium found")
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="layercalc-chromium-")
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        # the browser reads commands on fd 3 and writes replies on fd 4
        high_r, high_w = 200, 201
        os.dup2(to_browser_r, high_r)
        os.dup2(from_browser_w, high_w)
        os.close(to_browser_r)
        os.close(from_browser_w)

        def child():
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--metrics-recording-only", "--mute-audio", "--hide-scrollbars",
             "--remote-debugging-pipe", f"--user-data-dir={self.profile}", "about:blank"],
            pass_fds=(3, 4), preexec_fn=child, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(high_r)
        os.close(high_w)
        self.write_fd, self.read_fd = to_browser_w, from_browser_r
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(10)
        finally:
            for fd in (self.write_fd, self.read_fd):
                try:
                    os.close(fd)
                except OSError:
                    pass
            shutil.rmtree(self.profile, ignore_errors=True)

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.read_fd], [], [], max(0.0, left))
            if not ready:
                raise BrowserError("the browser did not answer in time")
            chunk = os.read(self.read_fd, 1 << 20)
            if not chunk:
                raise BrowserError("the browser closed the pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        message = json.loads(raw)
        if "method" in message:
            self.events.append(message)
        return message

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self.next_id += 1
        want = self.next_id
        message = {"id": want, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == want:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply["result"]

    def wait_for(self, method: str, session: str, timeout: float | None = None) -> dict:
        deadline = time.monotonic() + (timeout or self.timeout)
        seen = 0
        while True:
            for e in self.events[seen:]:
                if e["method"] == method and e.get("sessionId") == session:
                    return e
            seen = len(self.events)
            self._read(deadline)

    def page(self, width: int = 1200, height: int = 900) -> "Page":
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.send(f"{domain}.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
        return Page(self, session)


class Page:
    def __init__(self, browser: Browser, session: str):
        self.browser = browser
        self.session = session

    def send(self, method: str, params: dict | None = None) -> dict:
        return self.browser.send(method, params, self.session)

    def goto(self, url: str) -> None:
        mark = len(self.browser.events)
        self.send("Page.navigate", {"url": url})
        deadline = time.monotonic() + self.browser.timeout
        while not any(e["method"] == "Page.loadEventFired" and e.get("sessionId") == self.session
                      for e in self.browser.events[mark:]):
            self.browser._read(deadline)

    def evaluate(self, expression: str, await_promise: bool = True):
        r = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": await_promise,
                                           "returnByValue": True})
        if "exceptionDetails" in r:
            raise BrowserError(r["exceptionDetails"].get("exception", {}).get("description")
                               or r["exceptionDetails"].get("text"))
        return r["result"].get("value")

    def settle(self, seconds: float = 0.3) -> None:
        """Let pending events arrive (console messages after load)."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.browser._read(deadline)
        except BrowserError:
            pass

    def _mine(self):
        return [e for e in self.browser.events if e.get("sessionId") == self.session]

    def console_errors(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions and browser log errors of this page."""
        out = []
        for e in self._mine():
            p = e["params"]
            if e["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "warning", "assert"):
                out.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p["args"]))
            elif e["method"] == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                out.append(d.get("exception", {}).get("description") or d.get("text", "exception"))
            elif e["method"] == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                out.append(f"{p['entry']['source']}: {p['entry']['text']}")
        return out

    def requests(self) -> list[str]:
        """The URL of every request this page made."""
        return [e["params"]["request"]["url"] for e in self._mine() if e["method"] == "Network.requestWillBeSent"]

    def screenshot(self, full_page: bool = True) -> bytes:
        params = {"format": "png"}
        if full_page:
            m = self.send("Page.getLayoutMetrics")
            size = m.get("cssContentSize") or m["contentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 2400),
                              "scale": 1}
            params["captureBeyondViewport"] = True
        return base64.b64decode(self.send("Page.captureScreenshot", params)["data"])


def image_stats(browser: "Browser", png: bytes) -> tuple[int, float]:
    """(distinct colours, share of pixels that differ from the most common colour) of a PNG,
    counted by the browser itself on a canvas, in a blank tab."""
    tab = browser.page(width=200, height=200)
    data = base64.b64encode(png).decode()
    return tuple(tab.evaluate("""new Promise(function (done, fail) {
      var img = new Image();
      img.onload = function () {
        var c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
        var g = c.getContext('2d'); g.drawImage(img, 0, 0);
        var d = g.getImageData(0, 0, c.width, c.height).data, counts = new Map(), top = 0;
        for (var i = 0; i < d.length; i += 4) {
          var k = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
          var n = (counts.get(k) || 0) + 1; counts.set(k, n); if (n > top) top = n;
        }
        done([counts.size, 1 - top / (d.length / 4)]);
      };
      img.onerror = function () { fail(new Error('not an image')); };
      img.src = 'data:image/png;base64,""" + data + """';
    })"""))


# --- Mermaid, installed from npm by the pinned tests/js/package-lock.json -------------------

JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")


def mermaid_script() -> str | None:
    """The path of ``mermaid.min.js``: $LAYERCALC_MERMAID_JS, or installed with ``npm ci`` into a
    cache directory ($LAYERCALC_TEST_CACHE, default ~/.cache/layercalc-test) keyed by the lock
    file. None when it is not there and npm cannot install it (no npm, no registry)."""
    given = os.environ.get("LAYERCALC_MERMAID_JS")
    if given:
        return given if os.path.exists(given) else None
    import hashlib

    with open(os.path.join(JS_DIR, "package-lock.json"), "rb") as fh:
        key = hashlib.sha256(fh.read()).hexdigest()[:12]
    root = os.environ.get("LAYERCALC_TEST_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "layercalc-test")
    where = os.path.join(root, f"js-{key}")
    script = os.path.join(where, "node_modules", "mermaid", "dist", "mermaid.min.js")
    if os.path.exists(script):
        return script
    npm = shutil.which("npm")
    if npm is None:
        return None
    os.makedirs(where, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(os.path.join(JS_DIR, name), where)
    try:
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error",
                        "--fetch-timeout=30000", "--fetch-retries=1"], cwd=where,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=240, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return script if os.path.exists(script) else None
