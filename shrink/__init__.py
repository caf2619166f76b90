"""Shrinking failing programs to minimal reproducers (stage 3).

`shrink(program, is_interesting)` is the typed AST reducer: it runs the
reduction passes of `shrink.passes` (delete statements, unwrap branches and
loops, smaller expressions, drop what is unused, simpler literals) to a
fixpoint, keeping only candidates that type-check and that the oracle still
finds interesting. The oracle is an argument; the reducer knows nothing of
compilers. Imports only from `grammar` (and `backends`).
"""

from .passes import DEFAULT_PASSES
from .reducer import ShrinkResult, complexity, shrink

__all__ = ["DEFAULT_PASSES", "ShrinkResult", "complexity", "shrink"]
