"""Locale selection and the formatting of money, dates and 大写 for templates.

Message ids are Chinese (the product's first language); `translations/en` holds the English catalog.
"""
from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency
from flask import Flask, request, session
from flask_babel import get_locale, gettext, lazy_gettext  # noqa: F401  (re-exported)
from flask_login import current_user

from .daxie import amount_in_words
from .money import quantize_yuan


class Text(str):
    """A Chinese string built from a msgid and values that remembers both, so a page can show it translated while
    everything else (PDF, xlsx, JSON, comparisons) sees plain Chinese text. Made by N_ with values."""

    msgid: str
    values: dict

    def __new__(cls, msgid: str, values: dict):
        text = super().__new__(cls, msgid % values)
        text.msgid, text.values = msgid, values
        return text

    def __getnewargs__(self):  # copy, deepcopy (dataclasses.asdict) and pickle
        return self.msgid, self.values


def N_(msgid: str, **values) -> str:
    """Marks a msgid for extraction (scripts/i18n: `-k N_`); translate at display time (`|t`, `translate`).

    Labels kept in Python constants stay Chinese at runtime — the API, the database, exports, PDFs and frozen
    disclosures carry them as they are. Without values this returns the msgid itself; with values, the Chinese
    text formatted from them as a `Text`, which `translate` can still render in the user's language."""
    return Text(msgid, values) if values else msgid


def chinese(msgid: str, **variables) -> str:
    """gettext's signature without translating: the default text function of code that also renders PDFs, which
    stay Chinese; a page passes `gettext` instead."""
    return msgid % variables if variables else msgid


def translate(value):
    """The `t` filter: gettext of a non-empty string (gettext('') would return the catalog header); anything
    else, or a string not in the catalog, comes back unchanged. Not marked safe, so autoescaping still applies."""
    if isinstance(value, Text):
        return str(gettext(value.msgid, **{k: translate(v) for k, v in value.values.items()}))
    if not isinstance(value, str) or not value:
        return value
    return str(gettext(value))


def select_locale() -> str:
    supported = ("zh_CN", "en")
    chosen = session.get("locale")
    if chosen in supported:
        return chosen
    if getattr(current_user, "is_authenticated", False) and current_user.locale in supported:
        return current_user.locale
    return "zh_CN"


def format_yuan(value, locale: str | None = None) -> str:
    """Decimal → '¥1,234.56' (negative as '-¥1,234.56')."""
    if value is None or value == "":
        return ""
    loc = locale or (str(get_locale()) if request else "zh_CN")
    return format_currency(quantize_yuan(Decimal(value)), "CNY", locale=loc if loc != "en" else "zh_CN")


def format_amount(value) -> str:
    """Ledger columns: '1,234.56', blank for zero."""
    if value is None or value == 0:
        return ""
    return f"{quantize_yuan(Decimal(value)):,.2f}"


def init_i18n(app: Flask, babel) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["yuan"] = format_yuan
    app.jinja_env.filters["amount"] = format_amount
    app.jinja_env.filters["daxie"] = amount_in_words
    app.jinja_env.filters["t"] = translate
    app.jinja_env.globals["N_"] = N_  # templates mark labels they pass to a macro that translates them
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals["get_locale"] = get_locale
