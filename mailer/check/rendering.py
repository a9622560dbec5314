"""Look at the rendering: email.html in headless Chromium at phone and desktop widths.

The other checks read the HTML; only a browser sees that a table or a long word pushes the
email past a 320 px screen. Each width is loaded with the images from build/images/ (every
other request is refused, as a mail client would load nothing else), and any horizontal
overflow is an error naming the section file and the element that sticks out. With a
screenshots folder it also writes what the editor should look at: desktop, phone, dark mode
and images blocked. Without Chromium (or Playwright) the report says the rendering was not
checked.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..compose.pdf import BROWSER_FLAGS, find_chromium
from .context import CheckContext
from .report import Finding, Report

WIDTHS = (320, 375, 600)
DARK_WIDTH = 375
DESKTOP_WIDTH = 800  # a desktop mail window: the 600 px email on its grey background
HEIGHT = 900
TIMEOUT_MS = 20_000  # one page action
RUN_TIMEOUT_S = 180  # the whole look: five pages and four screenshots
LAUNCH_ARGS = list(BROWSER_FLAGS)

# In the page: how wide the document is and, when too wide, what pushes it. Layout tables grow
# with their widest cell, so every row of the email ends up too wide together; to find the cause
# the layout tables are fixed to the screen (table-layout: fixed) and the elements that then
# stick out of their parent's content box, outermost first, are the culprits.
_OVERFLOW_JS = """
() => {
  const root = document.documentElement;
  const viewport = root.clientWidth;
  const result = {width: root.scrollWidth, viewport: viewport, culprits: []};
  if (root.scrollWidth <= viewport) return result;
  const pin = document.createElement("style");
  pin.textContent = 'table[role="presentation"] { table-layout: fixed !important; }';
  document.head.appendChild(pin);
  const telling = "table.md-table, img, pre, blockquote, li, p, h1, h2, h3, h4, a, " +
    ".card, .event-cell, .columns, .contacts, .partners, .toplinks, .funding, table";
  const found = [];
  for (const el of document.body.querySelectorAll("*")) {
    const parent = el.parentElement;
    const r = el.getBoundingClientRect();
    if (!parent || r.width === 0 || r.height === 0 || r.right <= viewport + 0.5) continue;
    if (found.some(f => f.contains(el))) continue;  // inside a culprit already named
    const box = parent.getBoundingClientRect();
    const cs = getComputedStyle(parent);
    const inner = box.right - parseFloat(cs.paddingRight) - parseFloat(cs.borderRightWidth);
    if (r.right > inner + 1) found.push(el);
  }
  if (!found.length) {  // no single cause: the widest leaf
    let widest = null;
    for (const el of document.body.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && (!widest || r.right > widest.getBoundingClientRect().right)) widest = el;
    }
    if (widest) found.push(widest);
  }
  pin.remove();
  for (const el of found.slice(0, 5)) {
    const named = el.matches(telling) ? el : (el.closest(telling) || el);
    const row = el.closest("[data-section]");
    const cls = (named.getAttribute("class") || "").trim();
    let label = "<" + named.tagName.toLowerCase() + (cls ? ' class="' + cls + '"' : "") + ">";
    if (named.tagName === "IMG") label += " " + (named.getAttribute("src") || "").split("/").pop();
    const text = (named.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 40);
    if (text && named.tagName !== "IMG") label += ' "' + text + '"';
    result.culprits.push({section: row ? row.getAttribute("data-section") : "", element: label});
  }
  return result;
}
"""


def playwright_install_hint(prefix: str | None = None, executable: str | None = None) -> str:
    """The command that adds Playwright to the Python this tool runs in.

    A pipx install lives in its own venv (`.../pipx/venvs/newsletter`), where a plain
    `pip install` reaches some other Python: pipx adds packages with `pipx inject`.
    """
    prefix = sys.prefix if prefix is None else prefix
    parts = Path(prefix).parts
    if "pipx" in parts and "venvs" in parts:
        return f"pipx inject {parts[-1]} playwright"
    return f"{executable or sys.executable} -m pip install playwright"


def _not_checked(report: Report, why: str, screenshots: Path | None = None) -> None:
    advice = (
        f"install Chromium (apt-get install chromium) and Playwright ({playwright_install_hint()}) "
        "and run newsletter check again"
    )
    report.add(
        Finding(
            "note",
            "rendering",
            "render-not-checked",
            f"the rendering was not checked: {why}; overflow on phones cannot be seen",
            advice,
        )
    )
    if screenshots is not None:  # asked for: saying nothing and writing nothing misleads
        report.add(
            Finding(
                "error",
                "rendering",
                "screenshots-not-written",
                f"no screenshots were written to {screenshots}: {why}",
                advice,
            )
        )


def check_rendering(
    context: CheckContext,
    report: Report,
    *,
    chromium: str | None = None,
    screenshots: Path | None = None,
) -> None:
    """Render email.html at 320, 375 and 600 px (and dark mode); report horizontal overflow.

    `chromium` is the browser to use (found on this computer when None); `screenshots` is a
    folder for desktop.png, phone.png, dark.png and images-blocked.png.
    """
    executable = chromium or find_chromium()
    if not executable or not Path(executable).exists():
        _not_checked(report, f"Chromium not found ({chromium or 'chromium on PATH'})", screenshots)
        return
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        _not_checked(report, "Playwright for Python is not installed", screenshots)
        return
    failure: list[str] = []

    def run() -> None:
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
                try:
                    _look(browser, context, report, screenshots)
                finally:
                    browser.close()
        except PlaywrightError as exc:
            failure.append(str(exc))

    # Its own thread: Playwright's sync API refuses a thread that already runs an event loop
    # (a caller's own Playwright session, a web server's); the wait is bounded.
    worker = threading.Thread(target=run, name="check-rendering", daemon=True)
    worker.start()
    worker.join(RUN_TIMEOUT_S)
    if worker.is_alive():
        failure.append(f"no answer within {RUN_TIMEOUT_S} s")
    if failure:
        _not_checked(
            report, f"Chromium did not start or load the email ({failure[0]})", screenshots
        )


@contextmanager
def _page(browser, context: CheckContext, width: int, **options) -> Iterator:
    """A page showing the email at `width`, images served from build/images/ or blocked."""
    images = options.pop("images", True)
    page_context = browser.new_context(viewport={"width": width, "height": HEIGHT}, **options)
    try:
        page = page_context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        prefix = f"{context.meta.get('base_url', '').rstrip('/')}/archive/"
        prefix += f"{context.meta.get('slug', '')}/images/"
        folder = context.build_dir / "images"

        def serve(route) -> None:
            url = route.request.url
            file = folder / url[len(prefix) :].split("?")[0]
            if images and url.startswith(prefix) and file.is_file():
                kind = {".jpg": "jpeg", ".jpeg": "jpeg"}.get(file.suffix.lower(), file.suffix[1:])
                route.fulfill(body=file.read_bytes(), content_type=f"image/{kind}")
            else:
                route.abort()

        page.route("**/*", serve)
        page.set_content(context.html, wait_until="load")
        yield page
    finally:
        page_context.close()


def _look(browser, context: CheckContext, report: Report, screenshots: Path | None) -> None:
    widths: dict[str, int] = {}
    # (section file, element) -> [(look, width)] so one culprit is one finding, whatever the widths
    culprits: dict[tuple[str, str], list[tuple[str, int]]] = {}
    looks = [(f"{w} px", w, {}) for w in WIDTHS]
    looks.append((f"{DARK_WIDTH} px in dark mode", DARK_WIDTH, {"color_scheme": "dark"}))
    for name, width, options in looks:
        with _page(browser, context, width, **options) as page:
            if screenshots and width == WIDTHS[1]:  # before the overflow probe touches the page
                _shoot(page, screenshots / ("dark.png" if options else "phone.png"))
            found = page.evaluate(_OVERFLOW_JS)
        widths[name] = found["width"]
        if found["width"] > found["viewport"]:
            for culprit in found["culprits"] or [{"section": "", "element": "<body>"}]:
                key = (culprit["section"], culprit["element"])
                culprits.setdefault(key, []).append((name, found["width"]))
    if screenshots:
        with _page(browser, context, DESKTOP_WIDTH) as page:
            _shoot(page, screenshots / "desktop.png")
        with _page(browser, context, DESKTOP_WIDTH, images=False) as page:
            _shoot(page, screenshots / "images-blocked.png")
    report.facts["rendered_widths"] = widths
    for (section, element), seen in culprits.items():
        _report_overflow(context, report, section, element, seen)


def _shoot(page, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


def _report_overflow(
    context: CheckContext, report: Report, section: str, element: str, seen: list
) -> None:
    where = ", ".join(f"{width} px wide at {look}" for look, width in seen)
    location = str(context.issue_dir / section) if section else str(context.html_path)
    report.add(
        Finding(
            "error",
            "rendering",
            "render-overflow",
            f"the email is wider than the screen ({where}): {element} does not fit",
            "for a table, set 'tables: stack' in the section's front matter (rows become "
            "'Header: value' blocks on phones) or shorten its longest words; write a long link "
            "as [words](address)"
            if section
            else "the templates make the email too wide: check templates/email/ (a fixed width?)",
            location,
        )
    )
