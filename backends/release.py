"""Releases of the compilers under test: the version machinery that each
package's table of capabilities shares (`warp_release` for warp-lang,
`jax_release` for jax).

A table maps a feature to the first release that has it (`Feature`); a
`Release` of a package answers `has(feature)` from its package's table, and
`require` turns a missing feature into one line naming the release needed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering
from importlib import metadata
from typing import ClassVar


@dataclass(frozen=True)
class Feature:
    since: str
    what: str


def release_parts(version: str) -> tuple[int, ...]:
    """(major, minor, patch[, post]) of a release number; ValueError otherwise."""
    found = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?(?:\.(\d+))?", version)
    if not found:
        raise ValueError(f"not a release number: {version!r}")
    parts = (int(found[1]), int(found[2]), int(found[3] or 0))
    # jax 0.9.0.1: a fourth number orders a re-release after its base
    return parts + (int(found[4]),) if found[4] else parts


class ReleaseTooOld(Exception):
    """The installed release cannot do what was asked."""


@total_ordering
@dataclass(frozen=True)
class Release:
    """One release of PACKAGE, whose capabilities are FEATURES (each
    subclass names its package and table)."""

    version: str
    PACKAGE: ClassVar[str] = ""
    FEATURES: ClassVar[dict[str, Feature]] = {}

    def __post_init__(self) -> None:
        release_parts(self.version)  # ValueError for what is not a release number

    @property
    def key(self) -> tuple[int, ...]:
        return release_parts(self.version)

    def __lt__(self, other: "Release") -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.key < other.key

    def has(self, feature: str) -> bool:
        return self.key >= release_parts(self.FEATURES[feature].since)

    def require(self, feature: str, purpose: str) -> None:
        """ReleaseTooOld naming the release `feature` needs, when this one lacks it."""
        if not self.has(feature):
            info = self.FEATURES[feature]
            raise ReleaseTooOld(f"{purpose} needs {self.PACKAGE} >= {info.since} ({info.what}); {self.PACKAGE} {self.version} is installed")

    def __str__(self) -> str:
        return self.version

    @classmethod
    def installed(cls):
        """The release of PACKAGE installed here, or None."""
        try:
            return cls(metadata.version(cls.PACKAGE))
        except metadata.PackageNotFoundError:
            return None
