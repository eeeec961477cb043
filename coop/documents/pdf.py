"""The one way HTML becomes a PDF: WeasyPrint behind a per-process bound on concurrent renderings, with a URL
fetcher that loads nothing from the network or the disk but the app's own static files and data: URIs.

Rendering is CPU-bound; twenty readers asking at once would otherwise slow every request of the worker (JSON too)
to seconds. A request waits up to PDF_QUEUE_SECONDS for one of PDF_CONCURRENCY slots, then PdfBusy becomes a 503
with Retry-After (coop.web.hardening). The same HTML is rendered once: PDFs are cached by the HTML's digest (up to
PDF_CACHE_BYTES per process), so a report of unchanged books is served again without WeasyPrint.

Where it renders (#24): by default in a rendering process of the worker's own (coop.documents.render_process,
PDF_RENDER_PROCESS), one per slot, started on the first PDF; each PDF there is a forked child that exits when done,
so the worker keeps neither WeasyPrint's memory nor its garbage, and its other threads keep serving. If that
process cannot run, the PDF renders here as before, with the cyclic collector paused for the rendering. The
documents' CJK font is the subset of coop.documents.fonts when it has been built (the full font otherwise).
"""
from __future__ import annotations

import atexit
import gc
import hashlib
import json
import logging
import os
import struct
import subprocess
import sys
import threading
from collections import OrderedDict
from pathlib import Path

from flask import current_app, has_app_context

from coop.documents import charts, fonts
from coop.documents.render_process import FetchRefused, make_url_fetcher  # noqa: F401 (FetchRefused: re-exported)

log = logging.getLogger(__name__)

_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


class _Cache:
    """PDFs by the SHA-256 of their HTML, least recently used out past a byte budget. The HTML holds everything a
    PDF shows (the books' figures, the date printed, the audit head), so a changed book is a different key and
    nothing needs invalidating; a reader only ever gets the PDF of HTML they were allowed to render."""

    def __init__(self):
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: str) -> bytes | None:
        with self._lock:
            pdf = self._items.get(key)
            if pdf is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return pdf

    def put(self, key: str, pdf: bytes, budget: int) -> None:
        if budget <= 0 or len(pdf) > budget // 4:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = pdf
            self._size += len(pdf)
            while self._size > budget:
                _, old = self._items.popitem(last=False)
                self._size -= len(old)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0


cache = _Cache()


class PdfBusy(Exception):
    def __init__(self, retry_after: int = 5):
        super().__init__("PDF rendering busy")
        self.retry_after = retry_after


def _semaphore(n: int) -> threading.BoundedSemaphore:
    with _slots_lock:
        if n not in _slots:
            _slots[n] = threading.BoundedSemaphore(n)
        return _slots[n]


def static_root() -> Path:
    return Path(current_app.static_folder).resolve()


class _Renderer:
    """One rendering process (render_process.py) and the pipe to it; used by one request at a time."""

    def __init__(self):
        script = Path(__file__).resolve().with_name("render_process.py")
        self.proc = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     close_fds=True)

    def render(self, html: str, root: Path | None, css: str) -> bytes:
        body = html.encode("utf-8", "surrogatepass")
        head = json.dumps({"n": len(body), "root": str(root) if root else None, "css": css}).encode()
        self.proc.stdin.write(struct.pack(">I", len(head)) + head + body)
        self.proc.stdin.flush()
        status = self.proc.stdout.read(1)
        size = self.proc.stdout.read(8)
        if len(status) != 1 or len(size) != 8:
            raise EOFError("rendering process gone")
        payload = self.proc.stdout.read(struct.unpack(">Q", size)[0])
        if status != b"P":
            raise RuntimeError("PDF rendering failed: " + payload.decode("utf-8", "replace"))
        return payload

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=2)
        except Exception:  # noqa: BLE001 — gone already, or stuck: make sure it ends
            self.proc.kill()


class _Pool:
    """Idle rendering processes of this worker process (a forked worker starts its own)."""

    def __init__(self):
        self.idle: list[_Renderer] = []
        self.lock = threading.Lock()
        self.pid = os.getpid()
        self.broken = False
        self.failures = 0

    def take(self) -> _Renderer:
        with self.lock:
            if self.pid != os.getpid():  # inherited across a fork: those pipes belong to the parent
                self.idle, self.pid, self.broken, self.failures = [], os.getpid(), False, 0
            if self.idle:
                return self.idle.pop()
        return _Renderer()

    def give(self, r: _Renderer) -> None:
        with self.lock:
            self.idle.append(r)

    def close(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
        for r in idle:
            r.close()


pool = _Pool()
atexit.register(pool.close)

_gc_lock = threading.Lock()
_gc_paused = 0


def _render_here(html: str, root: Path | None, css: str) -> bytes:
    """In this process: the cyclic collector re-scans WeasyPrint's growing box tree over and over (~40% of a long
    report's CPU), so it is paused while any rendering runs (renders overlap: counted) and runs once afterwards."""
    from coop.documents.render_process import render

    global _gc_paused
    with _gc_lock:
        _gc_paused += 1
        gc.disable()
    try:
        return render(html, root, css)
    finally:
        with _gc_lock:
            _gc_paused -= 1
            if _gc_paused == 0:
                gc.enable()


#: how an SVG chart names its font (coop.documents.charts); WeasyPrint's SVG text takes only the first family
_CHART_FONT = f'font-family="{charts.FONT}"'


def _render(html: str, root: Path | None, use_process: bool) -> bytes:
    css = fonts.font_face_css()
    if not css:
        fonts.build_in_background()
    elif _CHART_FONT in html:
        # charts in the subset font (the same glyphs): else WeasyPrint loads and subsets both full Noto Sans CJK
        # faces (~20 MB each) for a few labels — ~70 ms of a 收支明细 sheet
        html = html.replace(_CHART_FONT, f'font-family="\'{fonts.FAMILY}\', {charts.FONT}"')
    if use_process and not pool.broken:
        try:
            r = pool.take()
        except OSError as exc:
            log.warning("PDF rendering process not started (%s): rendering in the worker", exc)
            pool.broken = True
        else:
            try:
                pdf = r.render(html, root, css)
            except RuntimeError:  # WeasyPrint failed on this HTML; the process is fine
                pool.give(r)
                raise
            except (OSError, EOFError, ValueError) as exc:  # the process died: a new one next time
                log.warning("PDF rendering process failed (%s): rendering in the worker", exc)
                r.close()
                pool.failures += 1
                pool.broken = pool.failures >= 3  # it cannot run here: stop paying for its start
            else:
                pool.failures = 0
                pool.give(r)
                return pdf
    return _render_here(html, root, css)


def html_to_pdf(html: str) -> bytes:
    if has_app_context():
        n = int(current_app.config.get("PDF_CONCURRENCY") or 2)
        wait = float(current_app.config.get("PDF_QUEUE_SECONDS", 10))
        budget = int(current_app.config.get("PDF_CACHE_BYTES") or 0)
        root = static_root()
        use_process = bool(current_app.config.get("PDF_RENDER_PROCESS", True))
    else:
        n, wait, budget, root, use_process = 2, 10.0, 0, None, True
    key = hashlib.sha256(html.encode("utf-8", "surrogatepass")).hexdigest()
    if budget and (pdf := cache.get(key)) is not None:
        return pdf
    slot = _semaphore(n)
    if not slot.acquire(timeout=wait):
        raise PdfBusy(retry_after=max(1, int(wait)))
    try:
        pdf = _render(html, root, use_process)
    finally:
        slot.release()
    cache.put(key, pdf, budget)
    return pdf
