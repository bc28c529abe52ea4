"""Checks a browser walk makes on any page: server time, a phone's width, a poll's last answer
against a reload, and durations as the app writes them."""

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from tests.browser.conftest import ARTIFACTS

PHONE = {"width": 390, "height": 844}  # an iPhone 12-14 in portrait, in CSS pixels
# Logging in hashes the password (PBKDF2, slow on purpose): not a page's own time.
SLOW_ON_PURPOSE = ("POST /accounts/login/",)
UNIT_SECONDS = {"d": 86_400, "h": 3_600, "min": 60, "s": 1}


def seconds_of(text: str) -> float:
    """The seconds of a duration as genomeweb.lib.durations writes it ("1 min 30 s")."""
    parts = re.findall(r"(\d+(?:\.\d+)?) (d|h|min|s)\b", text)
    assert parts, f"no duration in {text!r}"
    return sum(float(number) * UNIT_SECONDS[unit] for number, unit in parts)


@dataclass
class ServerTimes:
    """Each page (document) and htmx request of a walk with its server time: the time from
    sending the request to the response's first byte (Playwright's ``request.timing``; on
    127.0.0.1 the network adds well under a millisecond)."""

    documents: list[tuple[float, str]] = field(default_factory=list)
    htmx: list[tuple[float, str]] = field(default_factory=list)
    excluded: list[tuple[float, str]] = field(default_factory=list)

    def record(self, page) -> "ServerTimes":
        page.on("requestfinished", self._add)
        return self

    def _add(self, request) -> None:
        timing = request.timing
        is_htmx = request.headers.get("hx-request") == "true"
        if request.resource_type != "document" and not is_htmx:
            return  # scripts, styles, igv.js's byte ranges: files, not pages
        if timing["requestStart"] < 0 or timing["responseStart"] < 0:
            return  # a download the browser handed over, or served from its cache
        what = f"{request.method} {urlparse(request.url).path}"
        entry = (timing["responseStart"] - timing["requestStart"], what)
        if what.startswith(SLOW_ON_PURPOSE):
            self.excluded.append(entry)
        else:
            (self.htmx if is_htmx else self.documents).append(entry)

    def report(self) -> str:
        lines = [f"server time (ms), {len(self.documents)} pages, {len(self.htmx)} htmx requests"]
        for name, entries in (("pages", self.documents), ("htmx", self.htmx)):
            times = sorted(ms for ms, _ in entries)
            lines.append(
                f"{name}: median {times[len(times) // 2]:.0f}, p95 {p95(times):.0f}, "
                f"max {times[-1]:.0f}; slowest: "
                + ", ".join(f"{what} {ms:.0f}" for ms, what in sorted(entries)[-5:][::-1])
            )
        left_out = ", ".join(f"{what} {ms:.0f}" for ms, what in self.excluded)
        lines.append(f"left out (password hashing): {left_out}")
        return "\n".join(lines)


def p95(sorted_times: list[float]) -> float:
    """The nearest-rank 95th percentile: of 25 requests, the second slowest."""
    return sorted_times[math.ceil(0.95 * len(sorted_times)) - 1]


def horizontal_overflow(page) -> str:
    """Empty when the page does not scroll sideways, else its width and its widest parts."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    if width <= page.viewport_size["width"]:
        return ""
    wide = page.evaluate(
        "w => [...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > w).slice(0, 5)"
        ".map(e => `${e.tagName.toLowerCase()}.${e.className} ${e.getBoundingClientRect().right}`)",
        page.viewport_size["width"],
    )
    return f"{page.url} is {width} px wide: {wide}"


def phone_screenshot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)


def last_poll_matches_a_reload(page, selector: str, ready: str, shot: Path, timeout: int) -> str:
    """Wait on the current page until the htmx poller ``selector`` stops (its last answer
    comes without ``hx-get``) and ``ready`` shows; check that no poll follows, take a
    screenshot, then check that a reload shows the same text and links. Returns that text."""
    polls: list[str] = []
    path = urlparse(page.url).path

    def count(request) -> None:
        if request.headers.get("hx-request") and urlparse(request.url).path == path:
            polls.append(request.url)

    page.on("request", count)
    page.wait_for_selector(f"{selector}:not([hx-get])", timeout=timeout)
    page.wait_for_selector(ready)
    answered = len(polls)
    page.wait_for_timeout(5_000)  # over two poll intervals (hx-trigger="every 2s")
    page.remove_listener("request", count)
    assert answered > 0, "the page never polled: it finished before the test watched it"
    assert len(polls) == answered, f"{len(polls) - answered} polls after the last answer"
    live = _contents(page, selector)
    page.screenshot(path=str(shot), full_page=True)
    page.reload()
    page.wait_for_selector(ready)
    fresh = _contents(page, selector)
    assert fresh == live, f"the last poll's page differs from a reload:\n{live}\n{fresh}"
    return live[0]


def _contents(page, selector: str) -> tuple[str, list[str]]:
    text = " ".join(page.inner_text(selector).split())
    links = page.eval_on_selector_all(f"{selector} a[href]", "as => as.map(a => a.href)")
    return text, sorted(links)
