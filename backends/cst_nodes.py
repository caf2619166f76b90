"""libcst construction shared by the Warp and JAX renderers.

Owns the Python side of rendering and nothing about the DSL: the libcst node
for each Python operator symbol, calls and statements built as nodes, and
parentheses added from Python's own binding strength. What a DSL operation is
spelled as in each target is the op table's (grammar/ops.py); turning an AST
into these nodes is each renderer's.
"""

from __future__ import annotations

import libcst as cst

# The node of each Python operator the renderers write, by its symbol.
BINARY_NODES = {
    "+": cst.Add,
    "-": cst.Subtract,
    "*": cst.Multiply,
    "/": cst.Divide,
    "//": cst.FloorDivide,
    "%": cst.Modulo,
    "@": cst.MatrixMultiply,
    "&": cst.BitAnd,
    "|": cst.BitOr,
    "^": cst.BitXor,
    "<<": cst.LeftShift,
    ">>": cst.RightShift,
}
COMPARE_NODES = {
    "<": cst.LessThan,
    "<=": cst.LessThanEqual,
    ">": cst.GreaterThan,
    ">=": cst.GreaterThanEqual,
    "==": cst.Equal,
    "!=": cst.NotEqual,
}
AUG_NODES = {"+=": cst.AddAssign, "-=": cst.SubtractAssign, "*=": cst.MultiplyAssign, "/=": cst.DivideAssign}
BOOLEAN_NODES = {"and": cst.And, "or": cst.Or}
UNARY_NODES = {"-": cst.Minus, "not": cst.Not, "~": cst.BitInvert}

# Python's binding strength for the expressions `binary`, `compare` and
# `unary` build, loosest first. The DSL's own levels are grammar.printer's.
COMPARE, BIT_OR, BIT_XOR, BIT_AND, SHIFT, SUM, PRODUCT, UNARY, POSTFIX = range(1, 10)

_OPERATOR_PREC = {
    cst.Add: SUM,
    cst.Subtract: SUM,
    cst.Multiply: PRODUCT,
    cst.Divide: PRODUCT,
    cst.MatrixMultiply: PRODUCT,
    cst.FloorDivide: PRODUCT,
    cst.Modulo: PRODUCT,
    cst.BitAnd: BIT_AND,
    cst.BitOr: BIT_OR,
    cst.BitXor: BIT_XOR,
    cst.LeftShift: SHIFT,
    cst.RightShift: SHIFT,
}


def dotted(path: str) -> cst.BaseExpression:
    """`wp.sin` -> Attribute(Name(wp), Name(sin))."""
    head, *rest = path.split(".")
    node: cst.BaseExpression = cst.Name(head)
    for part in rest:
        node = cst.Attribute(node, cst.Name(part))
    return node


def keyword(name: str, value: cst.BaseExpression) -> cst.Arg:
    """`name=value`, written without spaces as PEP 8 asks of keyword arguments."""
    tight = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))
    return cst.Arg(value, keyword=cst.Name(name), equal=tight)


def call(func: str | cst.BaseExpression, *args: cst.BaseExpression, **keywords: cst.BaseExpression) -> cst.Call:
    target = dotted(func) if isinstance(func, str) else func
    return cst.Call(target, [cst.Arg(a) for a in args] + [keyword(k, v) for k, v in keywords.items()])


def parenthesize(node: cst.BaseExpression) -> cst.BaseExpression:
    return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def prec(node: cst.BaseExpression) -> int:
    if getattr(node, "lpar", None):
        return POSTFIX
    if isinstance(node, cst.Comparison):
        return COMPARE
    if isinstance(node, cst.BinaryOperation):
        return _OPERATOR_PREC[type(node.operator)]
    if isinstance(node, cst.UnaryOperation):
        return UNARY
    return POSTFIX


def wrap(node: cst.BaseExpression, min_prec: int) -> cst.BaseExpression:
    """`node`, parenthesized when it binds looser than `min_prec`."""
    if prec(node) >= min_prec:
        return node
    return parenthesize(node)


def binary(left: cst.BaseExpression, operator: cst.BaseBinaryOp, right: cst.BaseExpression) -> cst.BinaryOperation:
    level = _OPERATOR_PREC[type(operator)]
    return cst.BinaryOperation(wrap(left, level), operator, wrap(right, level + 1))


def operation(spelling: str, left: cst.BaseExpression, right: cst.BaseExpression) -> cst.BaseExpression:
    """`left <spelling> right` when `spelling` is a Python operator, else the call `spelling(left, right)`."""
    if spelling in BINARY_NODES:
        return binary(left, BINARY_NODES[spelling](), right)
    return call(spelling, left, right)


def compare(left: cst.BaseExpression, operator: cst.BaseCompOp, right: cst.BaseExpression) -> cst.Comparison:
    return cst.Comparison(wrap(left, COMPARE + 1), [cst.ComparisonTarget(operator, wrap(right, COMPARE + 1))])


def unary(operator: cst.BaseUnaryOp, operand: cst.BaseExpression) -> cst.UnaryOperation:
    # `-(-x)` rather than `--x`
    level = POSTFIX if isinstance(operand, cst.UnaryOperation) else UNARY
    return cst.UnaryOperation(operator, wrap(operand, level))


def subscript(value: cst.BaseExpression, index: cst.BaseExpression) -> cst.Subscript:
    return cst.Subscript(wrap(value, POSTFIX), [cst.SubscriptElement(cst.Index(index))])


def method(value: cst.BaseExpression, name: str, *args: cst.BaseExpression) -> cst.Call:
    return call(cst.Attribute(wrap(value, POSTFIX), cst.Name(name)), *args)


def conjunction(parts: list[cst.BaseExpression]) -> cst.BaseExpression:
    """`a & b & ...`: bitwise, so that it works elementwise on arrays."""
    node = parts[0]
    for part in parts[1:]:
        node = binary(node, cst.BitAnd(), part)
    return node


def names_tuple(names: list[str], parens: bool) -> cst.BaseExpression:
    elements = [cst.Element(cst.Name(n)) for n in names]
    if parens or len(names) < 2:
        return spread(cst.Tuple(elements))
    return spread(cst.Tuple(elements, lpar=[], rpar=[]))


_EMPTY_MODULE = cst.Module(body=[])
SPREAD_WIDTH = 72  # a tuple or dict longer than this gets one element per line


def _newline(indent: str) -> cst.ParenthesizedWhitespace:
    return cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(), empty_lines=[], indent=True, last_line=cst.SimpleWhitespace(indent))


def spread(node: cst.Tuple | cst.Dict) -> cst.Tuple | cst.Dict:
    """`node` one element per line (with a trailing comma) when it is long."""
    if len(_EMPTY_MODULE.code_for_node(node)) <= SPREAD_WIDTH or not node.elements:
        return node
    last = len(node.elements) - 1
    elements = [e.with_changes(comma=cst.Comma(whitespace_after=_newline("" if k == last else "    "))) for k, e in enumerate(node.elements)]
    if isinstance(node, cst.Dict):
        return node.with_changes(elements=elements, lbrace=cst.LeftCurlyBrace(whitespace_after=_newline("    ")))
    return node.with_changes(elements=elements, lpar=[cst.LeftParen(whitespace_after=_newline("    "))], rpar=[cst.RightParen()])


def line(small: cst.BaseSmallStatement) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine([small])


def assign(target: str | cst.BaseAssignTargetExpression, value: cst.BaseExpression) -> cst.SimpleStatementLine:
    node = cst.Name(target) if isinstance(target, str) else target
    return line(cst.Assign([cst.AssignTarget(node)], value))


def number(value: int | float) -> cst.BaseExpression:
    """A Python int or float literal, written as `repr` writes it."""
    text = repr(value)
    return cst.Float(text) if isinstance(value, float) else cst.Integer(text)
