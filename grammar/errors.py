"""Errors of the grammar stage: every one names a place in the source and a rule."""

from __future__ import annotations


class DSLError(Exception):
    """A program text or AST that is not in the language.

    `rule` names the rule broken (e.g. "syntax", "type-mismatch", "race"), so
    that tests and users can tell errors apart without parsing messages.
    """

    def __init__(self, message: str, *, rule: str, line: int | None = None, column: int | None = None, file: str = "<string>"):
        super().__init__(message)
        self.message = message
        self.rule = rule
        self.line = line
        self.column = column
        self.file = file

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        return f"{where}: {self.rule}: {self.message}"


class ParseError(DSLError):
    """The text does not match the grammar."""


class CheckError(DSLError):
    """The program parses but breaks a typing, role or boundedness rule."""
