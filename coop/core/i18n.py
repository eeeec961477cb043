"""Locale selection and the formatting of money, dates and 大写 for templates.

Message ids are Chinese (the product's first language); `translations/en` holds the English catalog.
"""
from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency
from flask import Flask, request, session
from flask_babel import get_locale, gettext, lazy_gettext  # noqa: F401  (re-exported)
from flask_login import current_user

from coop.core.numerals import amount_in_words
from coop.core.text import N_, Text
from coop.core.money import quantize_yuan


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
