"""Durations on the command line: `90s`, `10m`, `1h`, `1h30m`, `2h5m10s`."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)([hms])")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(text: str) -> float:
    """Seconds in `text`; ValueError naming the problem otherwise."""
    cleaned = text.strip().lower()
    if not cleaned:
        raise ValueError("an empty duration")
    position, total, seen = 0, 0.0, []
    for match in _PART.finditer(cleaned):
        if match.start() != position:
            break
        unit = match[2]
        if unit in seen or (seen and "hms".index(unit) < "hms".index(seen[-1])):
            raise ValueError(f"{text!r}: units must come once each, in the order h, m, s")
        seen.append(unit)
        total += float(match[1]) * _UNITS[unit]
        position = match.end()
    if position != len(cleaned) or not seen:
        raise ValueError(f"{text!r} is not a duration like 90s, 10m, 1h or 1h30m")
    if total <= 0:
        raise ValueError(f"{text!r} is not a positive duration")
    return total
