"""AST -> DSL text. `parse(print_program(p)) == p` for every checked program.

Each expression adds its own parentheses from a precedence table (the same
levels as kernel.lark); statements are indented four spaces a level.
"""

from __future__ import annotations

from . import ast as A
from .types import COMPONENT_NAMES, F32, I32

INDENT = "    "

# Binding strength, loosest first, mirroring the expression rules of kernel.lark.
TERNARY, OR, AND, NOT, COMPARE, BIT_OR, BIT_XOR, BIT_AND, SHIFT, SUM, PRODUCT, UNARY, POSTFIX = range(1, 14)
_ARITH_PREC = {
    "+": SUM, "-": SUM, "*": PRODUCT, "/": PRODUCT, "//": PRODUCT, "%": PRODUCT, "@": PRODUCT,
    "|": BIT_OR, "^": BIT_XOR, "&": BIT_AND, "<<": SHIFT, ">>": SHIFT,
}


def print_program(program: A.Program) -> str:
    parts = ["\n".join(f"{c.name} = constant({print_expr(c.value)})" for c in program.constants)] if program.constants else []
    parts += [print_struct(s) for s in program.structs]
    parts += [print_definition(d) for d in program.funcs + program.kernels]
    return "\n\n".join(parts) + "\n"


def print_struct(node: A.StructDef) -> str:
    return "\n".join([f"@struct\nclass {node.name}:"] + [f"{INDENT}{f.name}: {f.ty}" for f in node.fields])


def print_definition(node: A.Func | A.Kernel) -> str:
    params = ", ".join(f"{p.name}: {p.ty}" for p in node.params)
    if isinstance(node, A.Func):
        head = f"{'@native' if node.native else '@func'}\ndef {node.name}({params}) -> {node.ret}:"
    else:
        launch = "" if node.launch is None else f"(launch={node.launch})"
        head = f"@kernel{launch}\ndef {node.name}({params}):"
    return head + "\n" + "\n".join(_block(node.body, 1))


def _block(stmts, level: int) -> list[str]:
    if not stmts:
        return [INDENT * level + "pass"]
    lines: list[str] = []
    for stmt in stmts:
        lines.extend(_stmt(stmt, level))
    return lines


def _stmt(stmt, level: int) -> list[str]:
    pad = INDENT * level
    if isinstance(stmt, A.Assign):
        return [f"{pad}{print_expr(stmt.target)} = {print_expr(stmt.value)}"]
    if isinstance(stmt, A.AugAssign):
        return [f"{pad}{print_expr(stmt.target)} {stmt.op} {print_expr(stmt.value)}"]
    if isinstance(stmt, A.Unpack):
        return [f"{pad}{', '.join(t.id for t in stmt.targets)} = {print_expr(stmt.value)}"]
    if isinstance(stmt, A.Atomic):
        return [f"{pad}atomic_{stmt.op}({stmt.array}, {print_expr(stmt.index)}, {print_expr(stmt.value)})"]
    if isinstance(stmt, A.CallStmt):
        return [pad + print_expr(stmt.call)]
    if isinstance(stmt, A.Break):
        return [pad + "break"]
    if isinstance(stmt, A.Continue):
        return [pad + "continue"]
    if isinstance(stmt, A.Return):
        return [f"{pad}return {print_expr(stmt.value)}"]
    if isinstance(stmt, A.If):
        lines = [f"{pad}if {print_expr(stmt.cond)}:"] + _block(stmt.body, level + 1)
        for clause in stmt.elifs:
            lines += [f"{pad}elif {print_expr(clause.cond)}:"] + _block(clause.body, level + 1)
        if stmt.orelse is not None:
            lines += [f"{pad}else:"] + _block(stmt.orelse, level + 1)
        return lines
    if isinstance(stmt, A.For):
        return [f"{pad}for {stmt.var} in range({print_expr(stmt.bound)}):"] + _block(stmt.body, level + 1)
    if isinstance(stmt, A.While):
        cond = f"{stmt.counter} < {stmt.limit}"
        if stmt.cond is not None:
            cond += " and " + print_expr(stmt.cond, NOT)
        inner = INDENT * (level + 1)
        return [f"{pad}{stmt.counter} = 0", f"{pad}while {cond}:", f"{inner}{stmt.counter} += 1"] + (
            _block(stmt.body, level + 1) if stmt.body else []
        )
    raise TypeError(f"cannot print {type(stmt).__name__}")


def _literal(node: A.Const) -> str:
    text = repr(node.value)
    if node.ty in (None, F32, I32) and not node.typed:
        return text
    return f"{node.ty}({text})"


def precedence(node) -> int:
    """How tightly an expression binds (TERNARY loosest .. POSTFIX tightest)."""
    if isinstance(node, A.Ternary):
        return TERNARY if node.form == "ternary" else POSTFIX
    if isinstance(node, A.BoolOp):
        return OR if node.op == "or" else AND
    if isinstance(node, A.Not):
        return NOT
    if isinstance(node, A.Compare):
        return COMPARE
    if isinstance(node, A.BinOp):
        return _ARITH_PREC[node.op]
    if isinstance(node, (A.Neg, A.Invert)):
        return UNARY
    return POSTFIX


def print_expr(node, min_prec: int = 0) -> str:
    text = _expr(node)
    return f"({text})" if precedence(node) < min_prec else text


def _slice_text(bounds: tuple[int | None, int | None, int | None]) -> str:
    """`[a:b]` or `[a:b:c]` as Python writes a slice (an omitted bound empty)."""
    parts = bounds if bounds[2] is not None else bounds[:2]
    return "[" + ":".join("" if b is None else str(b) for b in parts) + "]"


def _expr(node) -> str:
    if isinstance(node, A.AtomicValue):
        return f"atomic_{node.op}({node.array}, {print_expr(node.index)}, {print_expr(node.value)})"
    if isinstance(node, A.Const):
        return _literal(node)
    if isinstance(node, A.Name):
        return node.id
    if isinstance(node, A.Tid):
        return "tid()"
    if isinstance(node, A.Len):
        return f"len({node.array})" if node.dim == 0 else f"{node.array}.shape[{node.dim}]"
    if isinstance(node, A.ArrayRead):
        column = "" if node.column is None else f", {print_expr(node.column)}"
        return f"{node.array}[{print_expr(node.index)}{column}]"
    if isinstance(node, A.Component) and node.pair:
        return f"{print_expr(node.value.value, POSTFIX)}[{node.value.index}, {node.index}]"
    if isinstance(node, A.Component):
        base = print_expr(node.value, POSTFIX)
        return f"{base}.{COMPONENT_NAMES[node.index]}" if node.attr else f"{base}[{node.index}]"
    if isinstance(node, A.ComponentAt):
        return f"{print_expr(node.value, POSTFIX)}[{print_expr(node.index)}]"
    if isinstance(node, A.Field):
        return f"{print_expr(node.value, POSTFIX)}.{node.name}"
    if isinstance(node, A.StructNew):
        return f"{node.of}()"
    if isinstance(node, A.TupleExpr):
        return ", ".join(print_expr(item) for item in node.items)
    if isinstance(node, A.BinOp):
        prec = _ARITH_PREC[node.op]
        return f"{print_expr(node.left, prec)} {node.op} {print_expr(node.right, prec + 1)}"
    if isinstance(node, A.Compare):
        return f"{print_expr(node.left, BIT_OR)} {node.op} {print_expr(node.right, BIT_OR)}"
    if isinstance(node, A.BoolOp):
        prec = precedence(node)
        return f"{print_expr(node.left, prec)} {node.op} {print_expr(node.right, prec + 1)}"
    if isinstance(node, A.Not):
        return f"not {print_expr(node.operand, NOT)}"
    if isinstance(node, A.Neg):
        return f"-{print_expr(node.operand, UNARY)}"
    if isinstance(node, A.Invert):
        return f"~{print_expr(node.operand, UNARY)}"
    if isinstance(node, A.Ternary):
        if node.form == "where":
            return f"where({print_expr(node.cond)}, {print_expr(node.then)}, {print_expr(node.orelse)})"
        if node.form == "select":
            return f"select({print_expr(node.cond)}, {print_expr(node.orelse)}, {print_expr(node.then)})"
        return f"{print_expr(node.then, OR)} if {print_expr(node.cond, OR)} else {print_expr(node.orelse, TERNARY)}"
    if isinstance(node, A.Call):
        starred = A.starred_vector(node)
        if starred is not None:
            vector, bounds = starred
            return f"{node.func}(*{print_expr(vector, POSTFIX)}{'' if bounds is None else _slice_text(bounds)})"
        return f"{node.func}({', '.join(print_expr(a) for a in node.args)})"
    if isinstance(node, A.Cast):
        spelled = {v: k for k, v in A.BUILTIN_CASTS.items()}[node.to.name] if node.builtin else node.to
        return f"{spelled}({print_expr(node.operand)})"
    if isinstance(node, A.Construct):
        return f"{node.of}({', '.join(print_expr(a) for a in node.args)})"
    if isinstance(node, A.Static):
        return f"static({print_expr(node.operand)})"
    if isinstance(node, A.TileLoad):
        return f"tile_load({node.array}, {print_expr(node.start)}, {node.size})"
    if isinstance(node, A.TileMap):
        return f"tile_map({node.fn}, {', '.join(print_expr(t) for t in node.tiles)})"
    if isinstance(node, A.TileFull):
        return f"tile_full({print_expr(node.value)}, {node.size})"
    if isinstance(node, A.TileMatmul):
        return f"tile_matmul({print_expr(node.left)}, {print_expr(node.right)})"
    if isinstance(node, A.TileReduce):
        return f"{node.op}({print_expr(node.tile)})"
    if isinstance(node, A.GradCall):
        return f"grad({node.fn}, {print_expr(node.arg)})"
    if isinstance(node, A.TileGet):
        return f"tile_get({print_expr(node.tile)}, {print_expr(node.row)}, {print_expr(node.col)})"
    raise TypeError(f"cannot print {type(node).__name__}")
