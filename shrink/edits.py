"""Addressing and rebuilding places in a frozen AST.

A place is a path from the `Program`: a tuple of steps `(field, index)`, where
`index` picks an item of a tuple-valued field and is None for a plain field.
`replace_at` rebuilds only the nodes on the path (`dataclasses.replace`), so an
edit shares every untouched subtree with the original program.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

from kernel_synth.grammar import ast as A
from kernel_synth.grammar.types import DType

Step = tuple[str, int | None]
Path = tuple[Step, ...]

# Fields that are not children: positions, types and names.
_SKIP = frozenset({"pos", "ty"})
NODE_TYPES = A.EXPR_TYPES + A.STMT_TYPES + (A.Elif, A.Param, A.Func, A.Kernel, A.Program)
# Statement blocks of each compound node, in printing order.
_BLOCK_FIELDS = {A.Func: ("body",), A.Kernel: ("body",), A.If: ("body",), A.Elif: ("body",), A.For: ("body",), A.While: ("body",)}


def fields(node: object) -> tuple[str, ...]:
    return tuple(name for name in node.__dataclass_fields__ if name not in _SKIP)  # type: ignore[attr-defined]


def get_at(node: object, path: Path) -> object:
    for field, index in path:
        node = getattr(node, field)
        if index is not None:
            node = node[index]  # type: ignore[index]
    return node


def replace_at(node: object, path: Path, new: object) -> object:
    """`node` with the place at `path` replaced by `new` (a node, or a tuple for a block)."""
    if not path:
        return new
    (field, index), rest = path[0], path[1:]
    value = getattr(node, field)
    if index is None:
        return replace(node, **{field: replace_at(value, rest, new)})  # type: ignore[type-var]
    items = list(value)
    items[index] = replace_at(items[index], rest, new)
    return replace(node, **{field: tuple(items)})  # type: ignore[type-var]


# ------------------------------------------------------------------ traversal


def definitions(program: A.Program) -> Iterator[tuple[Path, A.Func | A.Kernel]]:
    for index, func in enumerate(program.funcs):
        yield (("funcs", index),), func
    for index, kernel in enumerate(program.kernels):
        yield (("kernels", index),), kernel


def blocks(program: A.Program) -> Iterator[tuple[Path, tuple]]:
    """Every statement block (path of the tuple-valued field, its statements), outer first."""
    for path, definition in definitions(program):
        yield from _blocks_of(definition, path)


def _blocks_of(node: object, path: Path) -> Iterator[tuple[Path, tuple]]:
    names: tuple[str, ...] = _BLOCK_FIELDS.get(type(node), ())
    for name in names:
        stmts = getattr(node, name)
        block_path = path + ((name, None),)
        yield block_path, stmts
        for index, stmt in enumerate(stmts):
            yield from _blocks_of(stmt, path + ((name, index),))
    if isinstance(node, A.If):
        for index, clause in enumerate(node.elifs):
            yield from _blocks_of(clause, path + (("elifs", index),))
        if node.orelse is not None:
            block_path = path + (("orelse", None),)
            yield block_path, node.orelse
            for index, stmt in enumerate(node.orelse):
                yield from _blocks_of(stmt, path + (("orelse", index),))


def expressions(program: A.Program) -> Iterator[tuple[Path, object]]:
    """Every expression outside assignment targets (path, node), pre-order.

    Targets are left alone: an array store's index must stay the thread index
    and a component target names a local, so no replacement there can check.
    """
    for path, definition in definitions(program):
        yield from _expressions_of(definition, path)


def _expressions_of(node: object, path: Path) -> Iterator[tuple[Path, object]]:
    for name in fields(node):
        if name == "target" and isinstance(node, (A.Assign, A.AugAssign)):
            continue
        value = getattr(node, name)
        if isinstance(value, tuple):
            for index, item in enumerate(value):
                if isinstance(item, NODE_TYPES):
                    yield from _visit(item, path + ((name, index),))
        elif isinstance(value, NODE_TYPES):
            yield from _visit(value, path + ((name, None),))


def _visit(node: object, path: Path) -> Iterator[tuple[Path, object]]:
    if isinstance(node, A.EXPR_TYPES):
        yield path, node
    yield from _expressions_of(node, path)


def size(node: object) -> int:
    """AST nodes under `node`, itself included (the measure of grammar.stats.ast_size)."""
    return sum(1 for _ in A.walk(node))


# ------------------------------------------------------------------- rewrites


def map_stmts(node, fn: Callable[[object], tuple | None]):
    """Rebuild `node`, letting `fn` replace each statement (at any depth) by a tuple
    of statements; `fn` returns None to keep the statement (its blocks are still
    visited). Shares unchanged subtrees."""
    if isinstance(node, A.Program):
        funcs = tuple(map_stmts(f, fn) for f in node.funcs)
        kernels = tuple(map_stmts(k, fn) for k in node.kernels)
        if _same(funcs, node.funcs) and _same(kernels, node.kernels):
            return node
        return replace(node, funcs=funcs, kernels=kernels)
    changes = {}
    for name in _BLOCK_FIELDS.get(type(node), ()) + (("orelse",) if isinstance(node, A.If) else ()):
        stmts = getattr(node, name)
        if stmts is None:
            continue
        new = _map_block(stmts, fn)
        if not _same(new, stmts):
            changes[name] = new
    if isinstance(node, A.If):
        elifs = tuple(map_stmts(clause, fn) for clause in node.elifs)
        if not _same(elifs, node.elifs):
            changes["elifs"] = elifs
    return replace(node, **changes) if changes else node


def _map_block(stmts: tuple, fn) -> tuple:
    out: list = []
    for stmt in stmts:
        result = fn(stmt)
        if result is None:
            out.append(map_stmts(stmt, fn))
        else:
            out.extend(result)
    return tuple(out)


def _same(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


def substitute(node, name: str, value: A.Const):
    """`node` with every read of the variable `name` replaced by the literal `value`.

    A cast of the substituted literal becomes a typed literal (`float32(0)` is
    `0.0`), since the AST has no casts of literals. Assignment targets are kept:
    a loop variable or while counter is never assigned.
    """
    if isinstance(node, A.Name):
        return value if node.id == name else node
    if not isinstance(node, NODE_TYPES):
        return node
    changes = {}
    for field in fields(node):
        if field == "target" and isinstance(node, (A.Assign, A.AugAssign)):
            continue
        old = getattr(node, field)
        if isinstance(old, tuple):
            new = tuple(substitute(item, name, value) for item in old)
            if not _same(new, old):
                changes[field] = new
        elif isinstance(old, NODE_TYPES):
            new = substitute(old, name, value)
            if new is not old:
                changes[field] = new
    if not changes:
        return node
    if isinstance(node, A.Cast) and isinstance(changes.get("operand"), A.Const):
        return convert(changes["operand"], node.to)
    return replace(node, **changes)


def convert(const: A.Const, to: DType) -> A.Const:
    """The literal `to(const)`: casts truncate; literals are never negative."""
    value = float(const.value) if to.is_float else int(const.value)
    return A.Const(value, to)


def names_used(node: object) -> set[str]:
    """Every name `node` mentions: variables, arrays (read, stored, `len`, atomic
    targets) and helpers called."""
    out: set[str] = set()
    for sub in A.walk(node):
        if isinstance(sub, A.Name):
            out.add(sub.id)
        elif isinstance(sub, (A.ArrayRead, A.Len, A.Atomic, A.AtomicValue, A.TileLoad)):
            out.add(sub.array)
        elif isinstance(sub, A.Call):
            out.add(sub.func)
    return out


def local_target(stmt: object) -> str | None:
    """The local an assignment writes as a whole (`x = e`, `x += e`), by component
    (`v.x = e`, `v[k] = e`) or by field (`s.f = e`, `s.f.x = e`); None for
    anything else (an array element's component included)."""
    if isinstance(stmt, (A.Assign, A.AugAssign)):
        target = stmt.target
        while isinstance(target, (A.Component, A.ComponentAt)):  # m[r][c] = e writes m
            target = target.value
        while isinstance(target, A.Field):  # `s.f.g = e` writes local struct s
            target = target.value
        if isinstance(target, A.Name):
            return target.id
    return None


def names_read(node: object) -> set[str]:
    """Like `names_used`, but the local written by an assignment does not count as
    read there (so `x = e` and `x += e` alone leave x unread)."""
    out: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if local_target(current) is not None:
            stack.append(current.value)  # type: ignore[attr-defined]
            if isinstance(current.target, A.ComponentAt):  # type: ignore[attr-defined]
                stack.append(current.target.index)  # type: ignore[attr-defined]
            continue
        if isinstance(current, A.Name):
            out.add(current.id)
        elif isinstance(current, (A.ArrayRead, A.Len, A.Atomic, A.AtomicValue, A.TileLoad)):
            out.add(current.array)
        elif isinstance(current, A.Call):
            out.add(current.func)
        stack.extend(A.children(current))
    return out
