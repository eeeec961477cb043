"""Account code structure (RULES §2 "Code scheme"): the one place that knows how codes nest.

A code is the 3 national digits of the first-level account followed by one segment per lower level. The segment
lengths are set per county: 2-2-2 by default (102 → 10201 → 1020101), 3-3 in many legacy books
(112 → 112001 → 112001001). Nothing else slices codes; everything asks a CodeScheme.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

#: digits of a first-level (national) account
TOP_LENGTH = 3


@dataclass(frozen=True)
class CodeScheme:
    #: digits per level below the first, e.g. (2, 2, 2)
    segments: tuple[int, ...]

    @property
    def key(self) -> str:
        return "-".join(str(n) for n in self.segments)

    @property
    def max_length(self) -> int:
        return TOP_LENGTH + sum(self.segments)

    @property
    def max_level(self) -> int:
        return 1 + len(self.segments)

    def _ends(self) -> tuple[int, ...]:
        """Code lengths of level 1, 2, …"""
        ends, n = [TOP_LENGTH], TOP_LENGTH
        for s in self.segments:
            n += s
            ends.append(n)
        return tuple(ends)

    def length_at(self, level: int) -> int:
        """Digits of a code at `level` (1: 3)."""
        return self._ends()[level - 1]

    def level(self, code: str) -> int:
        """1 for a first-level account, 2 for its 明细科目, …; 0 for a code that does not fit the scheme."""
        ends = self._ends()
        return ends.index(len(code)) + 1 if len(code) in ends and code.isdigit() else 0

    def is_valid(self, code: str) -> bool:
        return self.level(code) > 0

    def parent(self, code: str) -> str | None:
        lv = self.level(code)
        return code[: self._ends()[lv - 2]] if lv > 1 else None

    def ancestors(self, code: str) -> list[str]:
        """The codes above `code`, first level first (not `code` itself)."""
        lv = self.level(code)
        return [code[:n] for n in self._ends()[: max(lv - 1, 0)]]

    def prefixes(self, code: str) -> list[str]:
        """`code`'s ancestors and itself, first level first."""
        return [*self.ancestors(code), code] if self.is_valid(code) else [code]

    def is_valid_child(self, parent: str, child: str) -> bool:
        """`child` extends `parent` by exactly one segment, and the segment is not all zeros."""
        lv = self.level(parent)
        if lv == 0 or lv >= self.max_level or not child.startswith(parent) or not child.isdigit():
            return False
        seg = child[len(parent):]
        return len(seg) == self.segments[lv - 1] and int(seg) > 0

    def child(self, parent: str, n: int) -> str:
        """The n-th child code of `parent` (1 → 01 under 2-2-2, 001 under 3-3)."""
        width = self.segments[self.level(parent) - 1]
        return parent + str(n).zfill(width)

    def child_hint(self, parent: str) -> str:
        """What a new child code of `parent` looks like, for messages (10201, 112001)."""
        return self.child(parent, 1) if 0 < self.level(parent) < self.max_level else parent

    def path(self, code: str) -> tuple[str, tuple[int, ...]]:
        """(first-level code, segment numbers): 3220101 under 2-2-2 → ("322", (1, 1))."""
        ends = self._ends()
        lv = self.level(code)
        return code[:TOP_LENGTH], tuple(int(code[a:b]) for a, b in zip(ends[: lv - 1], ends[1:lv]))

    def from_path(self, top: str, numbers: tuple[int, ...]) -> str:
        code = top
        for n in numbers:
            code = self.child(code, n)
        return code

    def convert(self, code: str, into: "CodeScheme") -> str:
        """The same account in another scheme: 3220101 (2-2-2) → 322001001 (3-3)."""
        return into.from_path(*self.path(code))


def top(code: str) -> str:
    """The first-level account of any code, whatever the scheme."""
    return code[:TOP_LENGTH]


def is_top(code: str) -> bool:
    return len(code) == TOP_LENGTH


def under(code: str, ancestor: str) -> bool:
    """`code` is `ancestor` or lies below it (codes nest by prefix in every scheme)."""
    return code.startswith(ancestor)


@lru_cache(maxsize=None)
def scheme(key: str | None) -> CodeScheme:
    """The scheme named "2-2-2", "3-3", …; None gives the default."""
    key = key or DEFAULT_KEY
    try:
        segments = tuple(int(p) for p in key.split("-"))
    except ValueError:
        raise ValueError(f"科目编码方案 {key} 无效") from None
    if not segments or any(not 1 <= s <= 4 for s in segments) or TOP_LENGTH + sum(segments) > 20:
        raise ValueError(f"科目编码方案 {key} 无效")
    return CodeScheme(segments)


DEFAULT_KEY = "2-2-2"
DEFAULT = scheme(DEFAULT_KEY)
#: schemes a county may choose (the settings page offers these)
CHOICES = ("2-2-2", "2-2-2-2", "3-3", "3-3-3")
#: the scheme codes written in this source are in (chart.REQUIRED_DETAILS, role defaults)
CANONICAL = DEFAULT

#: what an account code looks like before the organization's scheme is known (schemas): 3 to 20 digits
CODE_PATTERN = r"^\d{3,20}$"
DETAIL_CODE_PATTERN = r"^\d{4,20}$"
