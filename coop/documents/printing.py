"""What every printed paper shares: the CJK font family its CSS names and the QR code it carries. (The
rendering itself, bounded and with the locked-down URL fetcher, is coop.documents.pdf.)"""
from __future__ import annotations

from flask import current_app


def font_family() -> str:
    """The CSS font-family of a printed page: the configured one, else Noto Sans CJK."""
    return current_app.config.get("PDF_FONT_FAMILY") or '"Noto Sans CJK SC", sans-serif'


def qr_svg(data: str) -> str:
    """`data` as a QR code in inline SVG: WeasyPrint draws it as vectors, so it stays sharp at any resolution."""
    import segno  # imported late, like WeasyPrint: plain page views never need it

    return segno.make(data, error="m").svg_inline(border=2, omitsize=True, dark="#000")
