"""Categories by composition: properties of a program's AST, not templates.

`classify(program)` gives the set of categories a program has and one primary
label: the first category of PRIMARY_ORDER that it has (the most specific
first), or "elementwise" for a program with none of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import ast as A
from .ops import BUILTINS

CATEGORIES = (
    "elementwise",
    "scalar_array",
    "unary",
    "branch",
    "loop",
    "reduction",
    "vector",
    "multi_statement",
    "nested_branch",
    "compound",
    "nested_loop",
    "multi_conditional",
)

# Most specific first: a program's primary label is the first one it has.
PRIMARY_ORDER = (
    "nested_loop",
    "nested_branch",
    "multi_conditional",
    "compound",
    "reduction",
    "vector",
    "loop",
    "branch",
    "scalar_array",
    "unary",
    "multi_statement",
    "elementwise",
)

# The features whose co-occurrence makes a program "compound".
COMPOUND_PARTS = ("branch", "loop", "reduction", "vector", "unary")
COMPOUND_MIN = 3
MULTI_STATEMENT_MIN = 3


@dataclass(frozen=True, slots=True)
class Classification:
    categories: frozenset[str]
    primary: str


def classify(program: A.Program) -> Classification:
    found: set[str] = set()
    for definition in program.funcs + program.kernels:
        scalars = {p.name for p in definition.params if not hasattr(p.ty, "role")}
        _scan_block(definition.body, found, scalars, branch_depth=0, loop_depth=0)
    for kernel in program.kernels:
        top = [s for s in kernel.body if not (isinstance(s, A.Assign) and isinstance(s.value, A.Tid))]
        declares = any(isinstance(s, A.Assign) and isinstance(s.target, A.Name) for s in top)
        if len(top) >= MULTI_STATEMENT_MIN and declares:
            found.add("multi_statement")
    if sum(part in found for part in COMPOUND_PARTS) >= COMPOUND_MIN:
        found.add("compound")
    primary = next((c for c in PRIMARY_ORDER if c in found), "elementwise")
    return Classification(frozenset(found), primary)


def _scan_block(stmts, found: set[str], scalars: set[str], branch_depth: int, loop_depth: int) -> None:
    for stmt in stmts:
        if isinstance(stmt, A.If):
            found.add("branch")
            if branch_depth:
                found.add("nested_branch")
            if stmt.elifs:
                found.add("multi_conditional")
            _scan_expr(stmt.cond, found, scalars)
            for clause in stmt.elifs:
                _scan_expr(clause.cond, found, scalars)
            for body in stmt.branches:
                _scan_block(body, found, scalars, branch_depth + 1, loop_depth)
            continue
        if isinstance(stmt, (A.For, A.While)):
            found.add("loop")
            if loop_depth:
                found.add("nested_loop")
            if isinstance(stmt, A.For):
                _scan_expr(stmt.bound, found, scalars)
            elif stmt.cond is not None:
                _scan_expr(stmt.cond, found, scalars)
            _scan_block(stmt.body, found, scalars, branch_depth, loop_depth + 1)
            continue
        if isinstance(stmt, A.Atomic):
            found.add("reduction")
        for child in A.children(stmt):
            _scan_expr(child, found, scalars)


def _scan_expr(expr, found: set[str], scalars: set[str]) -> None:
    for node in A.walk(expr):
        ty = getattr(node, "ty", None)
        if ty is not None and (ty.is_vector or ty.is_matrix):
            found.add("vector")
        if isinstance(node, A.Ternary):
            found.add("branch")
        elif isinstance(node, A.Call) and node.func in BUILTINS and BUILTINS[node.func].rule == "float_call":
            found.add("unary")
        elif isinstance(node, A.BinOp) and node.op in ("+", "-", "*", "/"):
            left, right = _reads(node.left), _reads(node.right)
            if left and right:
                found.add("elementwise")
            if (left and _uses(node.right, scalars)) or (right and _uses(node.left, scalars)):
                found.add("scalar_array")


def _reads(expr) -> bool:
    return any(isinstance(n, A.ArrayRead) for n in A.walk(expr))


def _uses(expr, names: set[str]) -> bool:
    return any(isinstance(n, A.Name) and n.id in names for n in A.walk(expr))
