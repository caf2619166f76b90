"""Swarm testing's tables: the optional features a program may go without, the
grammar alternatives each one switches off, and what every category needs kept
on (plus the parameters and statement seeds that guarantee it).

`draw_features` picks one program's features before anything else is drawn, so
that programs vary in which constructs they use at all, not only in how often.
"""

from __future__ import annotations

from .weights import Weights

# What each swarm feature switches off when a program draws it as absent.
FEATURE_ALTERNATIVES: dict[str, tuple[tuple[str, str], ...]] = {
    "helpers": (("statement", "call"), ("float_expr", "helper_call"), ("int_expr", "helper_call"), ("vector_expr", "helper_call")),
    "branches": (("statement", "if"),),
    "ternaries": (("float_expr", "ternary"), ("int_expr", "ternary"), ("vector_expr", "ternary")),
    "loops": (("statement", "for"), ("statement", "while")),
    "while_loops": (("statement", "while"),),
    "loop_control": (("statement", "break"), ("statement", "continue")),
    "atomics": (("statement", "atomic"), ("statement", "atomic_value")),
    "vectors": (
        ("value_type", "vec2"), ("value_type", "vec3"), ("value_type", "vec4"), ("value_type", "mat33"), ("value_type", "quat"),
        ("constant_type", "vec2"), ("constant_type", "vec3"), ("constant_type", "vec4"), ("constant_type", "mat33"),
        ("acc_elem", "vec3"),
    ),
    "matrices": (
        ("value_type", "mat33"), ("vector_expr", "matvec"), ("constant_type", "mat33"),
        ("vector_expr", "matrix_row"), ("float_expr", "matrix_element"),
    ),
    "quaternions": (("value_type", "quat"), ("vector_expr", "quat_rotate"), ("matrix_expr", "quat_to_matrix")),
    "float64": (("value_type", "float64"), ("constant_type", "float64"), ("acc_elem", "float64")),
    "integers": (
        ("value_type", "int32"), ("value_type", "int64"), ("value_type", "uint32"), ("constant_type", "int64"), ("constant_type", "uint32"),
        ("acc_elem", "int32"), ("acc_elem", "int64"), ("acc_elem", "uint32"),
    ),
    "casts": (("float_expr", "cast"), ("int_expr", "cast")),
    "math": (("float_expr", "call"), ("int_expr", "call")),
    "guarded_reads": (("read_index", "guarded"), ("read_index", "proven"), ("bool_expr", "guarded")),
    "structs": (("statement", "struct_local"), ("helper_kind", "struct"), ("param_type", "struct")),
    "tiles": (("float_expr", "tile"),),
}

# What a category needs: parameters, features that must stay on, statement seeds.
CATEGORY_NEEDS: dict[str | None, dict] = {
    "elementwise": {"elementwise": True, "seeds": ("elementwise",)},
    "scalar_array": {"scalar_array": True, "seeds": ("scalar_array",)},
    "unary": {"features": ("math",), "seeds": ("unary",)},
    "branch": {"features": ("branches",), "seeds": ("branch",)},
    "loop": {"features": ("loops",), "seeds": ("loop",)},
    "reduction": {"features": ("atomics",), "acc_arrays": 1, "seeds": ("reduction",)},
    "vector": {"features": ("vectors",), "seeds": ("vector",)},
    "multi_statement": {"statements": 3, "seeds": ("assign", "assign")},
    "nested_branch": {"features": ("branches",), "seeds": ("nested_branch",)},
    "compound": {"features": ("branches", "loops", "atomics", "math"), "acc_arrays": 1, "seeds": ("branch", "loop", "reduction", "unary")},
    "nested_loop": {"features": ("loops",), "seeds": ("nested_loop",)},
    "multi_conditional": {"features": ("branches",), "seeds": ("multi_conditional",)},
}


def disabled_alternatives(features: frozenset[str]) -> frozenset[tuple[str, str]]:
    off = set()
    for feature, alternatives in FEATURE_ALTERNATIVES.items():
        if feature not in features:
            off.update(alternatives)
    return frozenset(off)


# The features that give a program categories of their own: off in a draw
# aimed at one category alone, unless that category needs them
CATEGORY_FEATURES = frozenset({"branches", "ternaries", "loops", "while_loops", "atomics", "vectors", "matrices", "math"})


# Categories whose shape is one compound statement inside another: every
# other one, aimed at alone, is drawn without nesting
NESTED_CATEGORIES = frozenset({"nested_branch", "nested_loop", "compound"})


def draw_features(integer, weights: Weights, category: str | None, swarm: bool, alone: bool = False) -> frozenset[str]:
    """The features one program may use: every one when swarm is off, else
    each with the profile's probability; a category's needs are always on;
    with `alone`, no other feature that brings a category of its own."""
    needed = set(CATEGORY_NEEDS.get(category, {}).get("features", ()))
    features = set()
    for name in weights.features:
        if name in needed:
            features.add(name)
        elif alone and name in CATEGORY_FEATURES:
            continue
        elif not swarm:
            features.add(name)
        else:
            # on with probability p, for the draws at the top of the range: a
            # shrinker moving draws towards 0 turns features off
            if integer(0, 999) >= 1000 - round(weights.feature_probability(name) * 1000):
                features.add(name)
    if "vectors" not in features:
        features.discard("matrices")
    return frozenset(features)
