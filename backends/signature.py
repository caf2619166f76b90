"""Normalised error messages: what makes two failures the same bug.

Names, numbers, paths, hashes and quoted fragments are replaced by
placeholders, so that the same compiler error on two different programs gives
one signature: `backend:stage:normalised first line`.
"""

from __future__ import annotations

import re

_RULES = [
    # a Python object's repr names its class and address: the class is the
    # bug's, the address the run's (older Warp prints its Reference objects so)
    (re.compile(r"<(?:[\w.]+\.)?(\w+) object at 0x[0-9a-fA-F]+>"), r"<\1 object>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<addr>"),
    (re.compile(r"(/[\w.\-]+)+(:\d+)?"), "<path>"),  # file paths, with line numbers
    (re.compile(r"\b[0-9a-f]{7,}\b"), "<hash>"),
    (re.compile(r"'[^']*'|\"[^\"]*\""), "<q>"),  # quoted names and fragments
    (re.compile(r"\b\w+_p\d+(_\w+)?\b"), "<name>"),  # batch-renamed definitions
    (re.compile(r"\b(var|adj)_\w+\b"), "<var>"),
    (re.compile(r"\b[A-Za-z_]+\d+\b"), "<id>"),  # generated names: v3, x0, k12
    (re.compile(r"[-+]?\b\d+(\.\d+)?([eE][-+]?\d+)?\b"), "<n>"),
    (re.compile(r"\s+"), " "),
]


def key_line(message: str) -> str:
    """The line of an error message that says what went wrong."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    text = lines[0] if lines else ""
    # Warp's codegen errors put the reason after the echoed source line
    for line in lines:
        if line.startswith(";") or "Error" in line.split(":")[0]:
            text = line.lstrip(";")
    return text


def normalise(message: str) -> str:
    """The key line of `message`, with the variable parts replaced."""
    text = key_line(message)
    for pattern, placeholder in _RULES:
        text = pattern.sub(placeholder, text)
    return text.strip()[:200]


def signature(backend: str, stage: str, message: str) -> str:
    return f"{backend}:{stage}:{normalise(message)}"
