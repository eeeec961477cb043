"""The one way HTML becomes a PDF: WeasyPrint behind a per-process bound on concurrent renderings, with a URL
fetcher that loads nothing from the network or the disk but the app's own static files and data: URIs.

Rendering is CPU-bound; twenty readers asking at once would otherwise slow every request of the worker (JSON too)
to seconds. A request waits up to PDF_QUEUE_SECONDS for one of PDF_CONCURRENCY slots, then PdfBusy becomes a 503
with Retry-After (coop.web.hardening). The same HTML is rendered once: PDFs are cached by the HTML's digest (up to
PDF_CACHE_BYTES per process), so a report of unchanged books is served again without WeasyPrint.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path
from urllib.parse import unquote, urlparse

from flask import current_app, has_app_context

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


class FetchRefused(ValueError):
    pass


def _semaphore(n: int) -> threading.BoundedSemaphore:
    with _slots_lock:
        if n not in _slots:
            _slots[n] = threading.BoundedSemaphore(n)
        return _slots[n]


def static_root() -> Path:
    return Path(current_app.static_folder).resolve()


def make_url_fetcher(root: Path | None):
    """data: URIs, and files under the app's static folder; anything else (http, other files) is refused."""
    from weasyprint.urls import URLFetcher

    class LockedFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            parsed = urlparse(url)
            if parsed.scheme == "data":
                return super().fetch(url, headers)
            if parsed.scheme == "file" and root is not None:
                path = Path(unquote(parsed.path)).resolve()
                if path.is_file() and path.is_relative_to(root):
                    return super().fetch(path.as_uri(), headers)
            raise FetchRefused(f"PDF 不加载外部资源：{url[:100]}")

    return LockedFetcher(allowed_protocols=("data", "file"), allow_redirects=False)


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported late: it loads Pango and fonts, which plain page views never need

    if has_app_context():
        n = int(current_app.config.get("PDF_CONCURRENCY") or 2)
        wait = float(current_app.config.get("PDF_QUEUE_SECONDS", 10))
        budget = int(current_app.config.get("PDF_CACHE_BYTES") or 0)
        root = static_root()
    else:
        n, wait, budget, root = 2, 10.0, 0, None
    key = hashlib.sha256(html.encode("utf-8", "surrogatepass")).hexdigest()
    if budget and (pdf := cache.get(key)) is not None:
        return pdf
    slot = _semaphore(n)
    if not slot.acquire(timeout=wait):
        raise PdfBusy(retry_after=max(1, int(wait)))
    try:
        pdf = HTML(string=html, url_fetcher=make_url_fetcher(root)).write_pdf()
    finally:
        slot.release()
    cache.put(key, pdf, budget)
    return pdf
