"""Chinese text that remembers its msgid, so pages can translate what PDFs, exports and the API keep in Chinese.

Pure: no Flask here, so the ledger core can label what it builds (`coop.core.i18n` translates at display time).
"""
from __future__ import annotations


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
