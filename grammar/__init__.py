"""The kernel language (stage 1): grammar, typed AST, parser, checker, printer,
AST queries, the op table, Hypothesis strategies, weights profiles and the
category classifier.

Imports nothing from the other stages.
"""

from .ast import Program
from .checker import check
from .errors import CheckError, DSLError, ParseError
from .parser import parse, parse_untyped
from .printer import print_program

__all__ = [
    "CheckError",
    "DSLError",
    "ParseError",
    "Program",
    "check",
    "parse",
    "parse_untyped",
    "print_program",
]
