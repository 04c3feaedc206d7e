"""Dates as people write them in plan tables: 2023-06-30, 2023/6/30, 2023年6月30日, 2023-06 …

A month (2023-06, 2023年6月, 2023年1-6月) or a quarter (2023Q2, 2023年二季度) means the last day
of that period, because an actuals row is dated by the end of the period its value covers.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
import unicodedata

__all__ = ["DATE_HINT", "parse_date"]

DATE_HINT = (
    "write a date as 2023-06-30, 2023/6/30 or 2023年6月30日, or a month as 2023-06 or 2023年6月 "
    "(meaning its last day)"
)

_SEP = r"\s*[-/.]\s*"
_DAY = re.compile(
    rf"^(\d{{4}}){_SEP}(\d{{1,2}}){_SEP}(\d{{1,2}})(?:[ T]\d{{1,2}}:\d{{2}}(?::\d{{2}}(?:\.\d+)?)?)?$"
)
_DAY_ZH = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_MONTH = re.compile(rf"^(\d{{4}}){_SEP}(\d{{1,2}})$")
_MONTH_ZH = re.compile(
    r"^(\d{4})\s*年\s*(?:(\d{1,2})\s*[-–—~至到]\s*)?(\d{1,2})\s*月(?:份|末|底)?(?:累计)?$"
)
_QUARTER = re.compile(r"^(\d{4})\s*[-/ ]?\s*[Qq]([1-4])$")
_QUARTER_ZH = re.compile(r"^(\d{4})\s*年\s*(?:第)?([1-4一二三四])\s*季度(?:末)?$")
_YEAR = re.compile(r"^(\d{4})\s*年?(?:末|底|全年)?$")
_ZH_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4}


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


@functools.lru_cache(maxsize=65536)
def parse_date(text: str) -> dt.date:
    """Parse one date cell; raise ValueError with a readable message when it is not a date."""
    norm = unicodedata.normalize("NFKC", text).strip()
    try:
        if m := (_DAY.match(norm) or _DAY_ZH.match(norm) or _COMPACT.match(norm)):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := _MONTH.match(norm):
            return _month_end(int(m[1]), int(m[2]))
        if m := _MONTH_ZH.match(norm):
            if m[2] is not None and int(m[2]) > int(m[3]):
                raise ValueError(f"the months in {text!r} run backwards")
            return _month_end(int(m[1]), int(m[3]))
        if m := (_QUARTER.match(norm) or _QUARTER_ZH.match(norm)):
            q = _ZH_DIGITS.get(m[2]) or int(m[2])
            return _month_end(int(m[1]), 3 * q)
        if m := _YEAR.match(norm):
            return dt.date(int(m[1]), 12, 31)
    except ValueError as exc:
        if "backwards" in str(exc):
            raise
        raise ValueError(f"{text!r} is not a valid date ({exc})") from exc
    raise ValueError(f"{text!r} is not a date")
