"""libcst building blocks shared by the Warp and JAX renderers."""

from __future__ import annotations

import libcst as cst

COMPARE_NODES = {
    "<": cst.LessThan,
    "<=": cst.LessThanEqual,
    ">": cst.GreaterThan,
    ">=": cst.GreaterThanEqual,
    "==": cst.Equal,
    "!=": cst.NotEqual,
}


def dotted(path: str) -> cst.BaseExpression:
    """`wp.sin` -> Attribute(Name(wp), Name(sin))."""
    head, *rest = path.split(".")
    node: cst.BaseExpression = cst.Name(head)
    for part in rest:
        node = cst.Attribute(node, cst.Name(part))
    return node
