"""The type checker: untyped (or typed) AST -> typed AST, or a CheckError.

It enforces what makes a program a member of the language: strict typing (no
implicit conversions), array roles (the race-freedom rules), bounded loops,
block scoping, read-only loop variables and parameters, helper call order (no
recursion). A helper with side effects may be called wherever a value of its
type may stand; grammar/SEMANTICS.md fixes the evaluation order. Undefined behaviour
inside the value ranges is the generator's to exclude (guards); the checker
only enforces what a type system can see.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, replace

from . import ast as A
from .errors import CheckError
from .intervals import exact_interval
from .queries import has_effect, static_value
from .ops import BITWISE_ATOMICS, BUILTINS, MATMUL_ROWS, MAX_LAUNCH, MAX_TRIP, RESERVED, STATIC_OPS, TILE_MATMUL_SIZES, binop_result, compare_result, host_name_reason
from .lowering import instantiate, is_generic
from .types import ANY, BOOL, F32, FUNCTION, GENERIC_TYPES, I32, MAT33, TYPES, VEC3, ArrayType, DType, Role, TileType, TupleType, struct_type

CONSTANT_TYPES = ("int32", "float32", "float64", "int64", "uint32", "vec2", "vec3", "vec4", "mat33")

LOCAL, PARAM, LOOP_VAR, COUNTER, THREAD, CONSTANT = "local", "parameter", "loop variable", "while counter", "thread index", "constant"


@dataclass(frozen=True, slots=True)
class Symbol:
    ty: DType
    kind: str
    # a loop variable's exclusive upper bound (its loop's trip bound), when known
    below: int | None = None
    # a loop variable whose loop has a literal bound: known when compiling, in
    # each iteration of the unrolled loop (what static() may read)
    unrolled: bool = False
    value: int | float | None = None  # a constant's


def atomic_class(op: str) -> str:
    """Atomics of one class commute with each other: add and sub, or min, or max."""
    return "add" if op in ("add", "sub") else op


def check(program: A.Program, file: str = "<string>") -> A.Program:
    """Type-check `program`; return it with every expression's `ty` filled in."""
    return _Checker(file).program(program)


# Names a native helper's parameter cannot have: C++'s keywords and the
# names of the types its code spells
CPP_RESERVED = frozenset(
    "alignas alignof and asm auto bool break case catch char class const constexpr continue decltype default delete do "
    "double else enum explicit extern false float for friend goto if inline int long mutable namespace new noexcept not "
    "nullptr operator or private protected public register return short signed sizeof static struct switch template this "
    "throw true try typedef typeid typename union unsigned using virtual void volatile while xor wp".split()
)


class _Checker:
    def __init__(self, file: str):
        self.file = file
        self.funcs: dict[str, A.Func] = {}  # a name's first (or only) definition
        self.overloads: dict[str, list[A.Func]] = {}  # every definition of each helper name
        self.instances: set[tuple[str, DType]] = set()  # (generic helper, type) pairs checked
        self.structs: dict[str, DType] = {}
        self.constants: dict[str, Symbol] = {}
        # the call a statement may hold whole: a helper returning a struct
        # (the value of an assignment) or several values (an unpacking)
        self.whole_call: object = None
        self.whole_atomic: object = None  # the atomic that is an assignment's whole value
        # the tile a tile operation holds as its operand (a tile stands nowhere else)
        self.tile_operand: object = None
        self.effectful: set[str] = set()
        # helper name -> {Acc parameter index: atomic classes used on it}
        self.helper_atomics: dict[str, dict[int, set[str]]] = {}

    def error(self, node, rule: str, message: str) -> CheckError:
        pos = getattr(node, "pos", None)
        return CheckError(message, rule=rule, line=pos.line if pos else None, column=pos.column if pos else None, file=self.file)

    # -- definitions

    def program(self, program: A.Program) -> A.Program:
        seen: set[str] = set()
        constants = []
        for constant in program.constants:
            self.check_name(constant, constant.name, seen)
            value = self.expr(constant.value)
            if value.ty.name not in CONSTANT_TYPES:
                raise self.error(constant.value, "constant", f"a constant is an {', '.join(CONSTANT_TYPES)}, not {value.ty}")
            self.constants[constant.name] = Symbol(value.ty, CONSTANT, value=static_value(value) if value.ty.is_numeric else None)
            constants.append(replace(constant, value=value))
        for struct in program.structs:
            self.check_name(struct, struct.name, seen)
            self.struct(struct)
        funcs = []
        for func in program.funcs:
            if func.name in self.funcs:
                self.overload(func)
            else:
                self.check_name(func, func.name, seen)
            checked = self.definition(func)
            self.funcs.setdefault(func.name, checked)
            self.overloads.setdefault(func.name, []).append(checked)
            funcs.append(checked)
        kernels = []
        for kernel in program.kernels:
            self.check_name(kernel, kernel.name, seen)
            if kernel.launch is not None and not 1 <= kernel.launch <= MAX_LAUNCH:
                raise self.error(kernel, "launch", f"kernel {kernel.name!r} is launched on {kernel.launch} threads; a launch is 1 to {MAX_LAUNCH}")
            if kernel.launch is not None:
                # an array is as long as the launch: a tile must fit in it
                for node in A.walk(kernel):
                    if isinstance(node, A.TileLoad) and node.size > kernel.launch:
                        raise self.error(node, "launch", f"a tile of {node.size} does not fit array {node.array!r} of a launch of {kernel.launch} threads")
            kernels.append(self.definition(kernel))
        return A.Program(tuple(funcs), tuple(kernels), program.structs, tuple(constants))

    def overload(self, func: A.Func) -> None:
        """`func` defines a helper name again: an overload (Warp's rule: the
        same name, other parameter types; grammar/SEMANTICS.md)."""
        for f in self.overloads[func.name] + [func]:
            if is_generic(f):
                raise self.error(f, "overload", f"{func.name!r} is defined twice; a generic helper (Any) is not overloaded")
            for p in f.params:
                if isinstance(p.ty, ArrayType) or p.ty.is_struct or p.ty == FUNCTION:
                    raise self.error(p, "overload", f"an overloaded helper takes numbers, vectors or matrices, not {p.ty} ({p.name!r} of {func.name!r})")
            if not isinstance(f.ret, DType) or f.ret.is_struct:
                raise self.error(f, "overload", f"an overloaded helper returns one number, vector or matrix, not {f.ret}")
        types = tuple(p.ty for p in func.params)
        for f in self.overloads[func.name]:
            if tuple(p.ty for p in f.params) == types:
                shown = ", ".join(t.name for t in types)
                raise self.error(func, "overload", f"{func.name!r} is already defined for ({shown}): overloads differ in their parameter types")

    def struct(self, node: A.StructDef) -> None:
        fields: set[str] = set()
        for f in node.fields:
            if f.name in fields:
                raise self.error(f, "duplicate-name", f"struct {node.name!r} has two fields named {f.name!r}")
            fields.add(f.name)
            self.check_host_name(f, f.name)
            ty = f.ty
            if isinstance(ty, ArrayType):
                # In or Out: the rules of an array parameter of that role hold
                # unchanged; InOut and Acc fields are not part of the language yet
                if ty.role not in (Role.IN, Role.OUT):
                    raise self.error(f, "role", f"an array field is In (read) or Out (written at the thread's own index), not {ty.role.value}")
                if ty.ndim != 1:
                    raise self.error(f, "struct-array", "a struct field holds a one-dimensional array only")
                continue
            if ty == BOOL:
                raise self.error(f, "unknown-type", f"a field is a value type, an In or Out array or an earlier struct, not {ty}")
            if ty.is_struct and self.structs.get(ty.name) != ty:
                raise self.error(f, "unknown-type", f"struct {ty.name!r} is not declared before {node.name!r}")
            if holds_array(ty):
                raise self.error(f, "struct-array", f"struct {ty.name!r} holds an array: it is only a kernel parameter's type, never a field")
        self.structs[node.name] = struct_type(node.name, [(f.name, f.ty) for f in node.fields])

    def known_type(self, node, ty) -> None:
        """A struct type named in a signature is one the program declares."""
        inner = ty.elems if isinstance(ty, TupleType) else (ty,)
        for t in inner:
            if isinstance(t, DType) and t.is_struct and self.structs.get(t.name) != t:
                raise self.error(node, "unknown-type", f"struct {t.name!r} is not declared before its use")
        if isinstance(ty, TupleType) and any(t.is_struct for t in ty.elems):
            raise self.error(node, "unknown-type", "a helper returns a struct alone, not inside a tuple")

    def check_name(self, node, name: str, seen: set[str]) -> None:
        if name in seen:
            raise self.error(node, "duplicate-name", f"{name!r} is defined twice")
        if name in BUILTINS or name in RESERVED or name in TYPES or name in (ANY.name, FUNCTION.name):
            raise self.error(node, "duplicate-name", f"{name!r} is a builtin of the language")
        self.check_host_name(node, name)
        seen.add(name)

    def check_host_name(self, node, name: str) -> None:
        reason = host_name_reason(name)
        if reason is not None:
            raise self.error(node, "reserved-name", f"{name!r} cannot be defined: {reason}")

    def definition(self, node: A.Func | A.Kernel):
        self.in_kernel = isinstance(node, A.Kernel)
        self.current = node.name
        self.has_effect = False
        self.atomic_classes: dict[str, set[str]] = {}
        self.arrays: dict[str, ArrayType] = {}
        self.scopes: list[dict[str, Symbol]] = [{}]
        # every name's type in this definition, blocks that never meet included
        self.name_types: dict[str, DType] = {}
        names: set[str] = set()
        for param in node.params:
            self.check_name(param, param.name, names)
            if param.name in self.funcs or param.name in self.constants:
                raise self.error(param, "duplicate-name", f"parameter {param.name!r} shadows a {'helper' if param.name in self.funcs else 'constant'}")
            self.known_type(param, param.ty)
            if param.ty == ANY and self.in_kernel:
                raise self.error(param, "generic", f"kernel parameter {param.name!r} cannot be Any: only a helper is generic")
            if param.ty == FUNCTION and (self.in_kernel or is_generic(node)):
                what = "a kernel" if self.in_kernel else "a generic helper"
                raise self.error(param, "function-param", f"{param.name!r}: {what} takes no Function; a helper of one definition does")
            if holds_array(param.ty):
                if not self.in_kernel:
                    raise self.error(param, "struct-array", f"struct {param.ty.name!r} holds an array: only a kernel takes it as a parameter")
                for field, array in param.ty.array_fields:
                    self.arrays[f"{param.name}.{field}"] = array
            if isinstance(param.ty, ArrayType):
                if not self.in_kernel and param.ty.role is not Role.ACC:
                    raise self.error(param, "helper-array", "helpers take arrays only in the Acc role")
                if param.ty.ndim == 2 and param.ty.role is Role.ACC:
                    # atomics name one index; a two-dimensional array is read and stored only
                    raise self.error(param, "array2d", f"{param.name!r}: a two-dimensional array is In, Out or InOut, not Acc")
                self.arrays[param.name] = param.ty
            else:
                self.scopes[0][param.name] = Symbol(param.ty, PARAM)
                self.name_types[param.name] = param.ty
        self.loops = 0
        # (index expression, array, dimension) triples a dominating guard proves in bounds
        self.proven: list[tuple[object, str, int]] = []
        body = node.body
        if isinstance(node, A.Func):
            self.known_type(node, node.ret)
            if holds_array(node.ret):
                raise self.error(node, "struct-array", f"struct {node.ret.name!r} holds an array: a helper cannot return it")
            if node.ret == FUNCTION:
                raise self.error(node, "function-param", f"helper {node.name!r} returns a value, not a Function")
            if node.native:
                self.native(node)
            if node.ret == ANY and not is_generic(node):
                raise self.error(node, "generic", f"helper {node.name!r} returns Any but has no Any parameter to bind it")
            if not body or not isinstance(body[-1], A.Return):
                raise self.error(node, "return", f"helper {node.name!r} must end with a return statement")
            self.ret = node.ret
        checked = self.block(body, top=True)
        if isinstance(node, A.Func):
            if self.has_effect:
                self.effectful.add(node.name)
            self.helper_atomics[node.name] = {
                index: self.atomic_classes.get(p.name, set()) for index, p in enumerate(node.params) if isinstance(p.ty, ArrayType)
            }
            return replace(node, body=checked)
        return replace(node, body=checked)

    # -- scopes

    def lookup(self, name: str) -> Symbol | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return self.constants.get(name)

    def block(self, stmts, top: bool = False, declared: list | None = None) -> tuple:
        """The checked statements of a block in a scope of its own; the names
        it declared are appended to `declared` as a scope, when given."""
        self.scopes.append({})
        try:
            out = []
            for index, stmt in enumerate(stmts):
                if isinstance(stmt, A.Return) and not (top and index == len(stmts) - 1 and not self.in_kernel):
                    raise self.error(stmt, "return", "return may only end a helper's body")
                out.append(self.stmt(stmt))
            return tuple(out)
        finally:
            scope = self.scopes.pop()
            if declared is not None:
                declared.append(scope)

    def declare(self, node, name: str, symbol: Symbol) -> None:
        """`name` new in the innermost scope. Warp scopes names as Python
        does, per function: a name has one type in the whole definition, even
        in blocks that never meet."""
        earlier = self.name_types.setdefault(name, symbol.ty)
        if earlier != symbol.ty:
            raise self.error(node, "name-type", f"{name!r} is {earlier} elsewhere in this definition and cannot be {symbol.ty}: Warp gives a name one type per function")
        self.scopes[-1][name] = symbol

    # -- statements

    def stmt(self, stmt):
        method = getattr(self, "stmt_" + type(stmt).__name__)
        return method(stmt)

    def stmt_Assign(self, stmt: A.Assign):
        if isinstance(stmt.value, A.AtomicValue):
            self.whole_atomic = stmt.value
        func = self.funcs.get(getattr(stmt.value, "func", None))
        if func is not None and isinstance(func.ret, DType):  # `s = f(...)` of a struct helper
            self.whole_call = stmt.value
        value = self.expr(stmt.value)
        if holds_array(value.ty):
            raise self.error(stmt.value, "struct-array", f"struct {value.ty.name!r} holds an array: it is only a kernel parameter, never copied to a local")
        target = stmt.target
        if isinstance(target, A.Name):
            symbol = self.lookup(target.id)
            if target.id in self.arrays:
                raise self.error(stmt, "read-only", f"array {target.id!r} cannot be assigned; store to an element")
            if symbol is None:
                if self.names_other(target.id):
                    raise self.error(target, "duplicate-name", f"{target.id!r} names a function or type")
                self.check_host_name(target, target.id)
                kind = THREAD if isinstance(value, A.Tid) else LOCAL
                if value.ty == BOOL:
                    raise self.error(stmt, "type-mismatch", "bool values are for conditions only; locals cannot hold them")
                self.declare(target, target.id, Symbol(value.ty, kind))
                return replace(stmt, target=replace(target, ty=value.ty), value=value)
            self.writable(target, symbol)
            if symbol.ty != value.ty:
                raise self.error(stmt, "type-mismatch", f"{target.id!r} is {symbol.ty}, cannot assign {value.ty}")
            return replace(stmt, target=replace(target, ty=symbol.ty), value=value)
        checked = self.store_target(target)
        if checked.ty != value.ty:
            raise self.error(stmt, "type-mismatch", f"cannot store {value.ty} into {checked.ty}")
        return replace(stmt, target=checked, value=value)

    def stmt_Unpack(self, stmt: A.Unpack):
        if isinstance(stmt.value, A.TupleExpr):  # a, b = x, y: every value first, then the names
            items = tuple(self.expr(item) for item in stmt.value.items)
            for item in items:
                if item.ty == BOOL or item.ty.is_struct:
                    raise self.error(item, "type-mismatch", f"a parallel assignment assigns numbers, vectors or matrices, not {item.ty}")
            if len(items) != len(stmt.targets):
                raise self.error(stmt, "unpack", f"{len(stmt.targets)} names are assigned {len(items)} values")
            value = replace(stmt.value, items=items, ty=TupleType(tuple(item.ty for item in items)))
        else:
            self.whole_call = stmt.value
            value = self.expr(stmt.value)
        if not isinstance(value.ty, TupleType):
            raise self.error(stmt.value, "unpack", f"{value.func} returns one value, not several")
        if len(value.ty.elems) != len(stmt.targets):
            raise self.error(stmt, "unpack", f"{value.func} returns {len(value.ty.elems)} values, not {len(stmt.targets)}")
        seen: set[str] = set()
        targets = []
        for target, ty in zip(stmt.targets, value.ty.elems):
            if target.id in seen:
                raise self.error(target, "unpack", f"{target.id!r} is assigned twice by one unpacking")
            seen.add(target.id)
            symbol = self.lookup(target.id)
            if symbol is None:
                if target.id in self.arrays or self.names_other(target.id):
                    raise self.error(target, "duplicate-name", f"{target.id!r} names an array, a function or a type")
                self.check_host_name(target, target.id)
                self.declare(target, target.id, Symbol(ty, LOCAL))
            else:
                self.writable(target, symbol)
                if symbol.ty != ty:
                    raise self.error(target, "type-mismatch", f"{target.id!r} is {symbol.ty}, cannot assign {ty}")
            targets.append(replace(target, ty=ty))
        return replace(stmt, targets=tuple(targets), value=value)

    def stmt_AugAssign(self, stmt: A.AugAssign):
        value = self.expr(stmt.value)
        target = stmt.target
        if isinstance(target, A.Name):
            symbol = self.lookup(target.id)
            if symbol is None:
                raise self.error(target, "unknown-name", f"{target.id!r} is not defined")
            self.writable(target, symbol)
            checked = replace(target, ty=symbol.ty)
        else:
            element = target.value if isinstance(target, (A.Component, A.ComponentAt)) else target
            if isinstance(element, A.ArrayRead):
                role = self.array_of(element).role
                if role is not Role.INOUT:
                    raise self.error(stmt, "role", f"{stmt.op} reads {element.array!r}, which is {role.value}: only InOut arrays are read and written")
            checked = self.store_target(target)
        result = self.binop_type(stmt.op[0], checked.ty, value.ty)
        if result != checked.ty:
            raise self.error(stmt, "operand-types", f"{checked.ty} {stmt.op} {value.ty} is not defined")
        return replace(stmt, target=checked, value=value)

    def names_other(self, name: str) -> bool:
        """Whether `name` is a helper's, a struct's, a builtin's or a type's."""
        return name in self.funcs or name in self.structs or name in BUILTINS or name in RESERVED or name in TYPES or name in (ANY.name, FUNCTION.name)

    def writable(self, node, symbol: Symbol) -> None:
        if symbol.kind != LOCAL:
            raise self.error(node, "read-only", f"{node.id!r} is a {symbol.kind} and cannot be assigned")

    def store_target(self, target):
        if isinstance(target, A.ArrayRead):
            array = self.array_of(target)
            if array.role in (Role.IN, Role.ACC):
                how = "read-only" if array.role is Role.IN else "written only through atomics"
                raise self.error(target, "role", f"{target.array!r} is {array.role.value} ({how})")
            self.dimensions(target, array)
            index = self.expr(target.index)
            if not self.is_thread_index(index):
                what = "row" if array.ndim == 2 else "index"
                raise self.error(target.index, "race", f"{target.array!r} is written only at the thread's own {what} (tid())")
            if target.column is None:
                return replace(target, index=index, ty=array.elem)
            column = self.column_index(target)
            if any(isinstance(n, A.Call) and n.func in self.effectful for n in A.walk(column)):
                # a place's indexes have no side effects (`y[i, c] op= e` names the place twice in Warp)
                raise self.error(target.column, "effect-in-target", "the column of a stored element has no side effects")
            return replace(target, index=index, column=column, ty=array.elem)
        if isinstance(target, A.Field):
            return self.field_target(target)
        matrix = self.matrix_place(target)
        if matrix is not None:
            return matrix
        # a component of a local vector, of a field, or of an array element at the thread's index
        if isinstance(target.value, A.ArrayRead):
            value = self.store_target(target.value)
            shown = f"{target.value.array}[...]"
        elif isinstance(target.value, A.Field):
            value = self.field_target(target.value)
            shown = f".{target.value.name}"
        else:
            value, shown = self.local_place(target.value), target.value.id
        if not value.ty.is_vector:
            raise self.error(target, "component", f"{shown!r} is {value.ty}, not a vector")
        if isinstance(target, A.ComponentAt):
            index = self.component_index(target, value.ty)
            if any(isinstance(n, A.Call) and n.func in self.effectful for n in A.walk(index)):
                # `v[k] op= e` is `v[k] = v[k] op e` in Warp's code generator: k twice
                raise self.error(target.index, "effect-in-target", "the index of an assigned component has no side effects")
            return replace(target, value=value, index=index, ty=F32)
        if target.index >= value.ty.length:
            raise self.error(target, "component", f"{value.ty} has no component {target.index}")
        return replace(target, value=value, ty=F32)

    def matrix_place(self, target):
        """`m[r] = v`, `m[r][c] = e` or `m[r, c] = e` with m a local matrix and
        literal indexes, typed; None when `target` is no place in a matrix.
        (A matrix element of an array element or a field is read only: Warp
        1.0.2 refuses `y[i][r, c] = e`.)"""
        row = target.value if isinstance(target, A.Component) and isinstance(target.value, (A.Component, A.ComponentAt)) else target
        if isinstance(target, A.ComponentAt) and isinstance(target.value, (A.Component, A.ComponentAt)):
            raise self.error(target.index, "component", "a matrix's element is assigned at literal indexes")
        if not isinstance(row.value, A.Name):
            if row is not target:
                raise self.error(target, "component", "a matrix's elements and rows are assigned only in a local matrix")
            return None
        symbol = self.lookup(row.value.id)
        if symbol is None or symbol.ty != MAT33:
            if row is not target:
                raise self.error(target, "component", f"{row.value.id!r} is no local matrix: an element of an element is a matrix's")
            return None
        matrix = self.local_place(row.value)
        if isinstance(row, A.ComponentAt) or row.attr:
            raise self.error(row, "component", f"a row of {matrix.id!r} is assigned at a literal index, m[r]")
        if row.index >= 3:
            raise self.error(row, "component", f"{matrix.ty} has no row {row.index}")
        typed_row = replace(row, value=matrix, ty=VEC3)
        if row is target:
            return typed_row
        if target.attr and not target.pair:
            raise self.error(target, "component", f"an element of {matrix.id!r} is m[r][c] or m[r, c]")
        if target.index >= 3:
            raise self.error(target, "component", f"a row of {matrix.ty} has no component {target.index}")
        return replace(target, value=typed_row, ty=F32)

    def field_target(self, target: A.Field):
        """`s.f` (`s.f.g`, ...) as a place: s is a local struct."""
        value = self.field_target(target.value) if isinstance(target.value, A.Field) else self.local_place(target.value)
        return replace(target, value=value, ty=self.field_type(target, value.ty))

    def local_place(self, name: A.Name) -> A.Name:
        """A local whose component or field is assigned, typed."""
        symbol = self.lookup(name.id)
        if symbol is None:
            raise self.error(name, "unknown-name", f"{name.id!r} is not defined")
        self.writable(name, symbol)
        return replace(name, ty=symbol.ty)

    def field_type(self, node: A.Field, ty: DType) -> DType:
        if ty.is_vector:
            raise self.error(node, "component", f"unknown component {node.name!r} of a {ty} (expected x, y, z or w)")
        if not ty.is_struct:
            raise self.error(node, "unknown-field", f"fields are taken of structs, not {ty}")
        field_ty = ty.field(node.name)
        if field_ty is None:
            raise self.error(node, "unknown-field", f"struct {ty.name} has no field {node.name!r} (it has {', '.join(n for n, _ in ty.fields)})")
        return field_ty

    def component_index(self, node: A.ComponentAt, vector: DType):
        """The checked index of `v[k]`: provably in 0 .. len(v) - 1."""
        index = self.expr(node.index)
        if index.ty != I32:
            raise self.error(node.index, "component", f"a component index is int32, not {index.ty}")
        top = vector.length - 1
        clamped = (
            isinstance(index, A.Call) and index.func == "clamp" and len(index.args) == 3 and index.args[1] == A.Const(0, I32)
            and isinstance(index.args[2], A.Const) and index.args[2].ty == I32 and index.args[2].value <= top
        )
        symbol = self.lookup(index.id) if isinstance(index, A.Name) else None
        looping = symbol is not None and symbol.kind == LOOP_VAR and symbol.below is not None and symbol.below <= vector.length
        if not (clamped or looping):
            raise self.error(node.index, "component", f"a computed index of a {vector} is clamp(e, 0, K) with K <= {top}, or a loop variable of a loop of at most {vector.length} trips")
        return index

    def stmt_Atomic(self, stmt: A.Atomic):
        array = self.arrays.get(stmt.array)
        if array is None:
            raise self.error(stmt, "unknown-name", f"{stmt.array!r} is not an array parameter")
        if array.role is not Role.ACC:
            raise self.error(stmt, "role", f"atomics write Acc arrays only; {stmt.array!r} is {array.role.value}")
        index = self.expr(stmt.index)
        if not (self.is_thread_index(index) or self.is_guarded(index, stmt.array) or index == A.Const(0, I32)):
            raise self.error(stmt.index, "index", "an atomic's index is 0, the thread index, or clamp(e, 0, len(a) - 1)")
        value = self.expr(stmt.value)
        if value.ty != array.elem:
            raise self.error(stmt.value, "type-mismatch", f"atomic_{stmt.op} on {array.elem} array with {value.ty} value")
        if stmt.op in ("min", "max") and not array.elem.is_numeric:
            raise self.error(stmt, "operand-types", f"atomic_{stmt.op} takes scalar arrays")
        if stmt.op in BITWISE_ATOMICS and not array.elem.is_int:
            raise self.error(stmt, "operand-types", f"atomic_{stmt.op} takes int arrays; {stmt.array!r} holds {array.elem}")
        if not (array.elem.is_numeric or array.elem.is_vector):
            raise self.error(stmt, "operand-types", f"atomics on {array.elem} arrays are not part of the language")
        self.has_effect = True
        self.use_atomic(stmt, stmt.array, {atomic_class(stmt.op)})
        return replace(stmt, index=index, value=value)

    def expr_AtomicValue(self, node: A.AtomicValue):
        whole, self.whole_atomic = self.whole_atomic, None
        if node is not whole:
            raise self.error(node, "atomic-position", "an atomic whose value is used is the whole value of an assignment")
        array = self.arrays.get(node.array)
        if array is None:
            raise self.error(node, "unknown-name", f"{node.array!r} is not an array parameter")
        if array.role is not Role.INOUT:
            raise self.error(node, "role", f"an atomic whose value is used updates the thread's own element of an InOut array; {node.array!r} is {array.role.value}")
        if array.ndim != 1:
            raise self.error(node, "array2d", f"an atomic takes a one-dimensional array; {node.array!r} is array2d")
        index = self.expr(node.index)
        if not self.is_thread_index(index):
            raise self.error(node.index, "index", "an atomic whose value is used takes the thread index: only then is the value it returns the same on every run")
        value = self.expr(node.value)
        if value.ty != array.elem:
            raise self.error(node.value, "type-mismatch", f"atomic_{node.op} on {array.elem} array with {value.ty} value")
        if array.elem not in (F32, I32):
            raise self.error(node, "operand-types", f"an atomic whose value is used takes a float32 or int32 array, not {array.elem}")
        if node.op in BITWISE_ATOMICS and not array.elem.is_int:
            raise self.error(node, "operand-types", f"atomic_{node.op} takes int arrays; {node.array!r} holds {array.elem}")
        return replace(node, index=index, value=value, ty=array.elem)

    def use_atomic(self, node, array: str, classes: set[str]) -> None:
        """Atomics of different classes on one array do not commute: a race."""
        used = self.atomic_classes.setdefault(array, set())
        used |= classes
        if len(used) > 1:
            raise self.error(node, "atomic-mix", f"{array!r} gets atomics of kinds {' and '.join(sorted(used))}; their order between threads would decide the result")

    def stmt_CallStmt(self, stmt: A.CallStmt):
        call = self.expr(stmt.call)
        if not isinstance(call, A.Call) or call.func not in self.funcs:
            raise self.error(stmt, "expression-statement", "only helper calls and atomics can stand as statements")
        return replace(stmt, call=call)

    def stmt_If(self, stmt: A.If):
        cond = self.condition(stmt.cond)
        assigned = {
            n.target.id for inner in stmt.body for n in A.walk(inner) if isinstance(n, (A.Assign, A.AugAssign)) and isinstance(n.target, A.Name)
        }
        # a guard holds in the body while nothing there reassigns what it tested
        facts = [(index, array, dim) for index, array, dim in self.bounds_of(cond) if not (_names(index) & assigned)]
        arms: list[dict[str, Symbol]] = []
        with self.knowing(facts):
            body = self.block(stmt.body, declared=arms)
        elifs = tuple(replace(e, cond=self.condition(e.cond), body=self.block(e.body, declared=arms)) for e in stmt.elifs)
        orelse = None if stmt.orelse is None else self.block(stmt.orelse, declared=arms)
        if orelse is not None:
            # a local every arm declares, with one type, outlives the statement
            # (each thread holds the value its arm gave it)
            for name, symbol in arms[0].items():
                if symbol.kind == LOCAL and not symbol.ty.is_struct and all(arm.get(name) == symbol for arm in arms[1:]):
                    self.scopes[-1][name] = symbol
        return replace(stmt, cond=cond, body=body, elifs=elifs, orelse=orelse)

    def stmt_For(self, stmt: A.For):
        bound = self.expr(stmt.bound)
        top = self.trip_bound(bound)
        if top is None:
            raise self.error(
                stmt.bound, "loop-bound",
                f"a loop bound is an int literal <= {MAX_TRIP}, an int32 constant of 0 .. {MAX_TRIP}, or clamp(e, 0, K) with K <= {MAX_TRIP}",
            )
        self.fresh(stmt, stmt.var)
        # range(b) with b <= top: var < top; a literal or a constant bound is
        # known when compiling, and Warp unrolls the loop
        unrolled = not isinstance(bound, A.Call)
        self.scopes.append({})
        self.declare(stmt, stmt.var, Symbol(I32, LOOP_VAR, below=top, unrolled=unrolled))
        self.loops += 1
        try:
            body = self.block(stmt.body)
        finally:
            self.loops -= 1
            self.scopes.pop()
        return replace(stmt, bound=bound, body=body)

    def stmt_While(self, stmt: A.While):
        if stmt.limit > MAX_TRIP:
            raise self.error(stmt, "while-bound", f"a while limit is at most {MAX_TRIP}")
        self.fresh(stmt, stmt.counter)
        self.declare(stmt, stmt.counter, Symbol(I32, COUNTER))
        cond = None if stmt.cond is None else self.condition(stmt.cond)
        self.loops += 1
        try:
            body = self.block(stmt.body)
        finally:
            self.loops -= 1
        return replace(stmt, cond=cond, body=body)

    def fresh(self, node, name: str) -> None:
        if self.lookup(name) is not None or name in self.arrays or self.names_other(name):
            raise self.error(node, "duplicate-name", f"{name!r} is already defined; a loop variable or counter needs a fresh name")
        self.check_host_name(node, name)

    def stmt_Break(self, stmt):
        if not self.loops:
            raise self.error(stmt, "loop-control", "break outside a loop")
        return stmt

    def stmt_Continue(self, stmt):
        if not self.loops:
            raise self.error(stmt, "loop-control", "continue outside a loop")
        return stmt

    def stmt_Return(self, stmt: A.Return):
        if isinstance(stmt.value, A.TupleExpr):
            items = tuple(self.expr(item) for item in stmt.value.items)
            if any(item.ty == BOOL or item.ty.is_struct for item in items):
                raise self.error(stmt, "type-mismatch", "a helper returns several numbers, vectors or matrices, never a bool or a struct among them")
            value = replace(stmt.value, items=items, ty=TupleType(tuple(item.ty for item in items)))
        else:
            value = self.expr(stmt.value)
        if value.ty != self.ret:
            raise self.error(stmt, "type-mismatch", f"helper returns {self.ret}, not {value.ty}")
        return replace(stmt, value=value)

    # -- index and bound shapes

    def is_thread_index(self, index) -> bool:
        if isinstance(index, A.Tid):
            return True
        if isinstance(index, A.Name):
            symbol = self.lookup(index.id)
            return symbol is not None and symbol.kind == THREAD
        return False

    @staticmethod
    def is_guarded(index, array: str, dim: int = 0) -> bool:
        """`clamp(e, 0, len(array) - 1)` (dimension 1: `clamp(e, 0,
        array.shape[1] - 1)`): in bounds whatever e is."""
        return (
            isinstance(index, A.Call)
            and index.func == "clamp"
            and len(index.args) == 3
            and index.args[0].ty == I32
            and index.args[1] == A.Const(0, I32)
            and index.args[2] == A.BinOp("-", A.Len(array, I32, dim=dim), A.Const(1, I32), I32)
        )

    def dimensions(self, node: A.ArrayRead, array: ArrayType) -> None:
        """A one-dimensional array takes one index, a two-dimensional one two."""
        given = 1 if node.column is None else 2
        if given != array.ndim:
            raise self.error(node, "array2d", f"{node.array!r} is {array.keyword}: index it with {array.ndim} index{'es' if array.ndim == 2 else ''}, not {given}")

    def column_index(self, node: A.ArrayRead):
        """The checked column of `a[r, c]`: clamp(e, 0, a.shape[1] - 1), or
        an index a dominating guard proves below a.shape[1] (the column count
        is the input set's, unknown here, so no other index is in bounds)."""
        column = self.expr(node.column)
        if column.ty != I32:
            raise self.error(node.column, "type-mismatch", f"an array's column is an int32, not {column.ty}")
        if not (self.is_guarded(column, node.array, 1) or (column, node.array, 1) in self.proven):
            raise self.error(
                node.column, "index",
                f"a column of {node.array!r} is clamp(e, 0, {node.array}.shape[1] - 1), or where a guard "
                f"(`0 <= e and e < {node.array}.shape[1]` before `and`, in a ternary's condition or an if's) proves e in bounds",
            )
        return column

    def trip_bound(self, bound) -> int | None:
        """The most trips a loop bound allows, or None if it is not one."""
        if isinstance(bound, A.Const):
            return bound.value if bound.ty == I32 and bound.value <= MAX_TRIP else None
        if isinstance(bound, A.Name):
            symbol = self.constants.get(bound.id)
            if symbol is not None and self.lookup(bound.id) is symbol and symbol.ty == I32 and 0 <= symbol.value <= MAX_TRIP:
                return symbol.value
            return None
        if (
            isinstance(bound, A.Call)
            and bound.func == "clamp"
            and len(bound.args) == 3
            and bound.args[0].ty == I32
            and bound.args[1] == A.Const(0, I32)
            and isinstance(bound.args[2], A.Const)
            and bound.args[2].ty == I32
            and bound.args[2].value <= MAX_TRIP
        ):
            return bound.args[2].value
        return None

    def array_of(self, node: A.ArrayRead) -> ArrayType:
        array = self.arrays.get(node.array)
        if array is None:
            raise self.error(node, "unknown-name", f"{node.array!r} is not an array parameter")
        return array

    # -- expressions

    def condition(self, expr):
        checked = self.expr(expr)
        if checked.ty != BOOL:
            raise self.error(expr, "condition-type", f"a condition must be bool, not {checked.ty}")
        return checked

    def expr(self, expr):
        whole, self.whole_call = self.whole_call, None
        if isinstance(expr, A.Call) and expr is not whole and expr.func in self.funcs and not isinstance(self.funcs[expr.func].ret, DType):
            raise self.error(expr, "unpack", f"{expr.func} returns several values: call it only as `a, b = {expr.func}(...)`")
        if isinstance(expr, A.Call) and expr is not whole and expr.func in self.funcs and self.funcs[expr.func].ret.is_struct:
            raise self.error(expr, "struct-call", f"{expr.func} returns a struct: call it only as the whole value of an assignment")
        if isinstance(expr, A.TupleExpr):
            raise self.error(expr, "unpack", "several values are only returned by a helper")
        operand, self.tile_operand = self.tile_operand, None
        if isinstance(expr, (A.TileLoad, A.TileFull, A.TileMap, A.TileMatmul)) and expr is not operand:
            raise self.error(expr, "tile", "a tile stands only inside tile_map, tile_matmul, a reduction (tile_sum, tile_max, tile_min) or tile_get")
        method = getattr(self, "expr_" + type(expr).__name__)
        checked = method(expr)
        if isinstance(checked, A.Call) and checked.func in self.effectful:
            self.has_effect = True
        return checked

    def expr_Const(self, e: A.Const):
        return e if e.ty is not None else replace(e, ty=F32 if isinstance(e.value, float) else I32)

    def expr_Name(self, e: A.Name):
        symbol = self.lookup(e.id)
        if symbol is None:
            if e.id in self.arrays:
                raise self.error(e, "operand-types", f"array {e.id!r} is used as a value; index it")
            raise self.error(e, "unknown-name", f"{e.id!r} is not defined")
        if symbol.ty == FUNCTION:
            raise self.error(e, "function-param", f"{e.id!r} is a Function: it is called, or passed to a helper's Function parameter")
        return replace(e, ty=symbol.ty)

    def expr_Tid(self, e: A.Tid):
        if not self.in_kernel:
            raise self.error(e, "tid-outside-kernel", "tid() is only available in kernels")
        return replace(e, ty=I32)

    def expr_Len(self, e: A.Len):
        if e.array not in self.arrays:
            raise self.error(e, "unknown-name", f"{e.array!r} is not an array parameter")
        if e.dim >= self.arrays[e.array].ndim:
            raise self.error(e, "array2d", f"{e.array!r} is one-dimensional: it has no {e.array}.shape[{e.dim}]")
        return replace(e, ty=I32)

    def expr_ArrayRead(self, e: A.ArrayRead):
        array = self.array_of(e)
        self.dimensions(e, array)
        index = self.expr(e.index)
        if array.role in (Role.OUT, Role.ACC):
            raise self.error(e, "role", f"{e.array!r} is {array.role.value} and cannot be read")
        if array.role is Role.INOUT and not self.is_thread_index(index):
            raise self.error(e.index, "race", f"{e.array!r} is InOut: read only at the thread's own index")
        if not (self.is_thread_index(index) or self.is_guarded(index, e.array) or (index, e.array, 0) in self.proven):
            raise self.error(
                e.index, "index",
                f"read {e.array!r} at the thread index, at clamp(e, 0, len({e.array}) - 1), or where a guard "
                f"(`0 <= e and e < len({e.array})` before `and`, in a ternary's condition or an if's) proves e in bounds",
            )
        if e.column is None:
            return replace(e, index=index, ty=array.elem)
        return replace(e, index=index, column=self.column_index(e), ty=array.elem)

    # -- guards: conditions that prove an index in bounds where they dominate

    @contextmanager
    def knowing(self, facts: list):
        self.proven.extend(facts)
        try:
            yield
        finally:
            del self.proven[len(self.proven) - len(facts) :]

    def bounds_of(self, cond) -> list[tuple[object, str, int]]:
        """The (index, array, dimension) triples a checked condition proves
        `0 <= index < len(array)` (dimension 1: `< array.shape[1]`) for when
        it is true: its conjuncts `e < len(a)` (or `len(a) > e`, and the same
        with `a.shape[1]`) with `e >= 0` (or `0 <= e`) or e a loop variable or
        the thread index; e is side-effect free."""
        conjuncts, stack = [], [cond]
        while stack:
            node = stack.pop()
            if isinstance(node, A.BoolOp) and node.op == "and":
                stack += [node.left, node.right]
            elif isinstance(node, A.Compare):
                conjuncts.append(node)
        below, nonnegative = [], []
        for c in conjuncts:
            if c.op == "<" and isinstance(c.right, A.Len):
                below.append((c.left, c.right.array, c.right.dim))
            elif c.op == ">" and isinstance(c.left, A.Len):
                below.append((c.right, c.left.array, c.left.dim))
            elif c.op == ">=" and c.right == A.Const(0, I32):
                nonnegative.append(c.left)
            elif c.op == "<=" and c.left == A.Const(0, I32):
                nonnegative.append(c.right)
        facts = []
        for index, array, dim in below:
            if index.ty != I32 or any(isinstance(n, A.Call) and n.func in self.effectful for n in A.walk(index)):
                continue
            if index in nonnegative or self.is_thread_index(index) or self.is_loop_variable(index):
                facts.append((index, array, dim))
        return facts

    def is_loop_variable(self, index) -> bool:
        if not isinstance(index, A.Name):
            return False
        symbol = self.lookup(index.id)
        return symbol is not None and symbol.kind in (LOOP_VAR, COUNTER)

    def expr_Field(self, e: A.Field):
        value = self.expr(e.value)
        ty = self.field_type(e, value.ty)
        if isinstance(ty, ArrayType):  # `s.a[i]` and `len(s.a)` are parsed as an array's read and length
            raise self.error(e, "operand-types", f"array field {e.name!r} is used as a value; index it or take its len")
        return replace(e, value=value, ty=ty)

    def expr_StructNew(self, e: A.StructNew):
        ty = self.structs.get(e.of)
        if ty is None:
            raise self.error(e, "unknown-type", f"struct {e.of!r} is not declared before its use")
        if holds_array(ty):
            raise self.error(e, "struct-array", f"struct {e.of!r} holds an array: it is only a kernel parameter, never made by {e.of}()")
        return replace(e, ty=ty)

    def expr_ComponentAt(self, e: A.ComponentAt):
        value = self.expr(e.value)
        if value.ty == MAT33:  # a row, at an index proven below the row count
            return replace(e, value=value, index=self.component_index(e, VEC3), ty=VEC3)
        if not value.ty.is_vector:
            raise self.error(e, "component", f"components are taken of vectors, not {value.ty}")
        return replace(e, value=value, index=self.component_index(e, value.ty), ty=F32)

    def expr_Component(self, e: A.Component):
        value = self.expr(e.value)
        if e.pair and not (isinstance(value, A.Component) and not value.pair and value.value.ty == MAT33):
            raise self.error(e, "component", "a subscript of two indexes takes a matrix")
        if value.ty == MAT33 and not e.attr:  # a row
            if e.index >= 3:
                raise self.error(e, "component", f"{value.ty} has no row {e.index}")
            return replace(e, value=value, ty=VEC3)
        if not value.ty.is_vector:
            raise self.error(e, "component", f"components are taken of vectors, not {value.ty}")
        if e.index >= value.ty.length:
            raise self.error(e, "component", f"{value.ty} has no component {e.index}")
        return replace(e, value=value, ty=F32)

    @staticmethod
    def binop_type(op: str, left, right):
        """The type of `left op right`; in a generic body a value of type Any
        is only added to or subtracted from another (defined for every type
        a call may bind Any to)."""
        if ANY in (left, right):
            return ANY if left == right == ANY and op in ("+", "-") else None
        return binop_result(op, left, right)

    def expr_BinOp(self, e: A.BinOp):
        left, right = self.expr(e.left), self.expr(e.right)
        result = self.binop_type(e.op, left.ty, right.ty) if left.ty != BOOL and right.ty != BOOL else None
        if result is None:
            raise self.error(e, "operand-types", f"{left.ty} {e.op} {right.ty} is not defined")
        return replace(e, left=left, right=right, ty=result)

    def expr_Compare(self, e: A.Compare):
        left, right = self.expr(e.left), self.expr(e.right)
        if compare_result(left.ty, right.ty) is None:
            raise self.error(e, "operand-types", f"cannot compare {left.ty} with {right.ty}")
        return replace(e, left=left, right=right, ty=BOOL)

    def expr_BoolOp(self, e: A.BoolOp):
        left = self.condition(e.left)
        # `a and b` evaluates b only where a holds: a's bounds hold in b
        with self.knowing(self.bounds_of(left) if e.op == "and" else []):
            right = self.condition(e.right)
        return replace(e, left=left, right=right, ty=BOOL)

    def expr_Not(self, e: A.Not):
        return replace(e, operand=self.condition(e.operand), ty=BOOL)

    def expr_Neg(self, e: A.Neg):
        operand = self.expr(e.operand)
        ty = operand.ty
        if not ((ty.is_numeric and ty.signed) or ty.is_vector or ty == ANY):
            raise self.error(e, "operand-types", f"cannot negate {ty}")
        return replace(e, operand=operand, ty=ty)

    def expr_Invert(self, e: A.Invert):
        operand = self.expr(e.operand)
        if not operand.ty.is_int:
            raise self.error(e, "operand-types", f"~ takes an int32 or uint32, not {operand.ty}")
        return replace(e, operand=operand, ty=operand.ty)

    def expr_Ternary(self, e: A.Ternary):
        cond = self.condition(e.cond)
        # only `x if c else y` evaluates its arms lazily: where/select read both
        with self.knowing(self.bounds_of(cond) if e.form == "ternary" else []):
            then = self.expr(e.then)
        orelse = self.expr(e.orelse)
        if then.ty != orelse.ty or then.ty == BOOL or then.ty.is_struct:
            what = "; a choice between structs is a choice between assignments (if/else)" if then.ty.is_struct else ""
            raise self.error(e, "type-mismatch", f"ternary branches are {then.ty} and {orelse.ty}{what}")
        return replace(e, cond=cond, then=then, orelse=orelse, ty=then.ty)

    def expr_Call(self, e: A.Call):
        if e.args and isinstance(e.args[0], A.Starred):
            e = self.starred(e)
        callee = self.lookup(e.func)
        if callee is not None and callee.ty == FUNCTION:
            return self.function_param_call(e)
        args = tuple(self.expr(a) for a in e.args) if e.func not in self.funcs else None
        if e.func in BUILTINS:
            op = BUILTINS[e.func]
            types = tuple(a.ty for a in args)
            result = op.result(types)
            if result is None:
                shown = ", ".join(str(t) for t in types)
                raise self.error(e, "operand-types", f"{e.func}({shown}) is not defined")
            return replace(e, args=args, ty=result)
        if e.func == getattr(self, "current", None) and not getattr(self, "in_kernel", True):
            raise self.error(e, "recursion", f"{e.func!r} calls itself; helpers may call only helpers defined before them")
        if len(self.overloads.get(e.func, ())) > 1:
            return self.overloaded_call(e)
        func = self.funcs.get(e.func)
        if func is None:
            if e.func == self.current:
                raise self.error(e, "recursion", f"{e.func!r} calls itself; helpers may call only helpers defined before them")
            raise self.error(e, "unknown-function", f"{e.func!r} is not a builtin or a helper defined before this point")
        if len(e.args) != len(func.params):
            raise self.error(e, "call-arity", f"{e.func} takes {len(func.params)} arguments, got {len(e.args)}")
        checked = []
        bound = None  # the type a generic helper's Any is bound to
        for arg, param in zip(e.args, func.params):
            if param.ty == FUNCTION:
                checked.append(self.function_argument(arg, e.func, param))
                continue
            if isinstance(param.ty, ArrayType):
                if not isinstance(arg, A.Name) or self.arrays.get(arg.id) != param.ty:
                    raise self.error(arg, "type-mismatch", f"{e.func} takes an {param.ty} array for {param.name!r}")
                self.use_atomic(arg, arg.id, self.helper_atomics[e.func][len(checked)])
                checked.append(arg)
                continue
            value = self.expr(arg)
            if param.ty == ANY:
                if value.ty not in GENERIC_TYPES and value.ty != ANY:
                    raise self.error(arg, "generic", f"{e.func} takes a number, vector or matrix for {param.name!r} (Any), got {value.ty}")
                if bound is not None and value.ty != bound:
                    raise self.error(arg, "generic", f"{e.func} binds Any to {bound} (its first Any argument), got {value.ty} for {param.name!r}")
                bound = value.ty
            elif value.ty != param.ty:
                raise self.error(arg, "type-mismatch", f"{e.func} takes {param.ty} for {param.name!r}, got {value.ty}")
            checked.append(value)
        if bound is not None and bound != ANY:
            self.instantiate(func, bound, e)
        return replace(e, args=tuple(checked), ty=bound if func.ret == ANY else func.ret)

    def native(self, node: A.Func) -> None:
        """A native helper (`@native`): float32 parameters whose names C++
        takes, a float32 returned, and a body that is one return of those
        parameters, literals, + - * and negation (what the renderer writes
        as C++, and differentiates for its adjoint)."""
        for param in node.params:
            if param.ty != F32:
                raise self.error(param, "native", f"a native helper takes float32 parameters, not {param.ty} ({param.name!r})")
            if param.name in CPP_RESERVED or param.name.startswith(("adj_", "var_", "_")):
                raise self.error(param, "native", f"{param.name!r} cannot name a native helper's parameter: C++ or Warp's native code uses it")
        if node.ret != F32:
            raise self.error(node, "native", f"a native helper returns float32, not {node.ret}")
        if len(node.body) != 1 or not isinstance(node.body[0], A.Return):
            raise self.error(node.body[0] if node.body else node, "native", "a native helper's body is one return statement")
        names = {p.name for p in node.params}
        for sub in A.walk(node.body[0].value):
            if isinstance(sub, A.Name) and sub.id in names or isinstance(sub, (A.Const, A.Neg)) or isinstance(sub, A.BinOp) and sub.op in ("+", "-", "*"):
                continue
            raise self.error(sub, "native", "a native helper returns an expression of its parameters, float literals, + - * and negation")

    def function_param_call(self, e: A.Call) -> A.Call:
        """`f(e)` of a Function parameter: one float32, a float32."""
        if len(e.args) != 1 or isinstance(e.args[0], A.Starred):
            raise self.error(e, "call-arity", f"{e.func} (a Function) takes one float32, got {len(e.args)} arguments")
        value = self.expr(e.args[0])
        if value.ty != F32:
            raise self.error(e.args[0], "type-mismatch", f"{e.func} (a Function) takes a float32, not {value.ty}")
        return replace(e, args=(value,), ty=F32)

    def function_argument(self, arg, caller: str, param: A.Param) -> A.Name:
        """What a call passes for a Function parameter: this helper's own
        Function parameter, or an earlier helper of one definition taking one
        float32 and returning float32, without side effects (so that the
        caller's effects are its own body's) and taking no Function itself."""
        wanted = f"{caller} takes a helper of one float32 returning float32, without side effects, for {param.name!r}"
        if not isinstance(arg, A.Name):
            raise self.error(arg, "function-param", wanted)
        symbol = self.lookup(arg.id)
        if symbol is not None:
            if symbol.ty != FUNCTION:
                raise self.error(arg, "function-param", f"{wanted}; {arg.id!r} is a {symbol.ty}")
            return replace(arg, ty=FUNCTION)
        target = self.funcs.get(arg.id)
        if target is None:
            raise self.error(arg, "function-param", f"{wanted}; {arg.id!r} is no helper defined before this point")
        if (
            len(self.overloads.get(arg.id, ())) > 1
            or tuple(p.ty for p in target.params) != (F32,)
            or target.ret != F32
            or arg.id in self.effectful
        ):
            raise self.error(arg, "function-param", f"{wanted}; {arg.id!r} is not one")
        return replace(arg, ty=FUNCTION)

    def starred(self, e: A.Call) -> A.Call:
        """`f(*v)`: `v` a vec2, vec3 or vec4 without side effects, expanded
        into `f(v[0], v[1], ...)` (evaluating `v` once or once per component
        is then the same)."""
        (star,) = e.args
        value = self.expr(star.value)
        if not isinstance(value.ty, DType) or not value.ty.is_vector or value.ty.name == "quat":
            raise self.error(star, "starred", f"`*v` unpacks a vec2, vec3 or vec4, not a {value.ty}")
        if has_effect(value, self.effectful):  # an atomic's value is only a whole assignment's (atomic-position)
            raise self.error(star, "starred", "`*v` unpacks a vector without side effects (no atomic, no helper with one)")
        indices = list(range(value.ty.length))
        if star.slice is not None:
            if star.slice[2] == 0:
                raise self.error(star, "starred", "a slice's step is not zero")
            indices = indices[slice(*star.slice)]
            if not indices:
                raise self.error(star, "starred", f"the slice selects no component of a {value.ty}")
        components = tuple(A.Component(value, k, False, F32, pos=star.pos) for k in indices)
        return replace(e, args=components, starred=True, star_slice=star.slice)

    def instantiate(self, func: A.Func, bound: DType, call: A.Call) -> None:
        """The generic helper `func` checked again with Any bound to `bound`
        (once per type); an error is located in its body and names the call."""
        if (func.name, bound) in self.instances:
            return
        self.instances.add((func.name, bound))
        sub = _Checker(self.file)
        for name in ("funcs", "overloads", "instances", "structs", "constants", "effectful", "helper_atomics"):
            setattr(sub, name, getattr(self, name))
        try:
            sub.definition(instantiate(func, bound))
        except CheckError as err:
            where = f"{call.pos.line}:{call.pos.column}" if call.pos else "?"
            message = f"{err.message} (in {func.name} with Any = {bound}, called at {where})"
            raise CheckError(message, rule=err.rule, line=err.line, column=err.column, file=self.file) from None

    def overloaded_call(self, e: A.Call):
        """A call of an overloaded helper: the one overload whose parameter
        types are the arguments' types, exactly (no conversions)."""
        args = tuple(self.expr(a) for a in e.args)
        types = tuple(a.ty for a in args)
        for func in self.overloads[e.func]:
            if tuple(p.ty for p in func.params) == types:
                return replace(e, args=args, ty=func.ret)
        defined = "; ".join("(" + ", ".join(p.ty.name for p in f.params) + ")" for f in self.overloads[e.func])
        raise self.error(e, "overload", f"no overload of {e.func} takes ({', '.join(str(t) for t in types)}); it is defined for {defined}")

    def expr_Cast(self, e: A.Cast):
        operand = self.expr(e.operand)
        if not operand.ty.is_numeric or operand.ty == e.to:
            raise self.error(e, "operand-types", f"cannot cast {operand.ty} to {e.to}")
        return replace(e, operand=operand, ty=e.to)

    def expr_Static(self, e: A.Static):
        operand = self.expr(e.operand)
        if operand.ty not in (I32, F32):
            raise self.error(e, "static", f"static() computes an int32 or a float32, not {operand.ty}")
        lo, hi = self.static_interval(operand)
        if operand.ty == I32 and not (-(1 << 31) <= lo and hi < (1 << 31)):
            raise self.error(e, "static", f"static() of int32 ranges over [{lo}, {hi}], beyond int32")
        return replace(e, operand=operand, ty=operand.ty)

    def static_interval(self, e) -> tuple[float, float]:
        """The values `e` takes inside static(), Python's exact arithmetic;
        a located error for anything static() may not compute with."""
        if isinstance(e, A.Const):
            if e.typed:
                raise self.error(e, "static", "inside static(), a literal is written bare: it is a Python number")
            return e.value, e.value
        if isinstance(e, A.Name):
            symbol = self.lookup(e.id)
            if symbol is not None and symbol.kind == CONSTANT:
                return symbol.value, symbol.value
            if symbol is None or not symbol.unrolled:
                raise self.error(e, "static", f"static() reads only literals, constants and the variables of loops with a literal bound; {e.id!r} is not known when compiling")
            return 0, symbol.below - 1
        if isinstance(e, A.Neg):
            lo, hi = self.static_interval(e.operand)
            return -hi, -lo
        if isinstance(e, A.BinOp) and e.op in STATIC_OPS:
            return exact_interval(e.op, self.static_interval(e.left), self.static_interval(e.right))
        what = f"operator {e.op!r}" if isinstance(e, A.BinOp) else type(e).__name__
        raise self.error(e, "static", f"static() computes with literals, loop variables, + - * and negation, not {what}")

    def tile(self, e) -> A.Expr:
        """A tile operation's operand: a tile, checked."""
        self.tile_operand = e
        checked = self.expr(e)
        if not isinstance(checked.ty, TileType):
            raise self.error(e, "tile", f"a tile operation takes a tile (tile_load, tile_full, tile_map, tile_matmul), not {checked.ty}")
        return checked

    def expr_TileLoad(self, e: A.TileLoad):
        array = self.array_of(e)
        if array.role is not Role.IN:
            raise self.error(e, "role", f"a tile is loaded from an In array; {e.array!r} is {array.role.value}")
        if array.elem != F32 or array.ndim != 1:
            raise self.error(e, "tile", f"a tile is loaded from a one-dimensional array of float32, not from {array}")
        start = self.expr(e.start)
        if start.ty != I32:
            raise self.error(e.start, "type-mismatch", f"a tile's start is an int32, not {start.ty}")
        return replace(e, start=start, ty=TileType(array.elem, e.size))

    def expr_TileFull(self, e: A.TileFull):
        value = self.expr(e.value)
        if value.ty != F32:
            raise self.error(e.value, "type-mismatch", f"a tile is filled with a float32, not {value.ty}")
        return replace(e, value=value, ty=TileType(F32, e.size))

    def expr_TileMap(self, e: A.TileMap):
        tiles = tuple(self.tile(t) for t in e.tiles)
        if any(t.ty != tiles[0].ty for t in tiles):
            shown = " and ".join(str(t.ty) for t in tiles)
            raise self.error(e, "tile", f"tile_map({e.fn}, ...) takes tiles of one type and size, not {shown}")
        return replace(e, tiles=tiles, ty=tiles[0].ty)

    def expr_TileMatmul(self, e: A.TileMatmul):
        left, right = self.tile(e.left), self.tile(e.right)
        if left.ty != right.ty or left.ty.size not in TILE_MATMUL_SIZES:
            sizes = " or ".join(map(str, TILE_MATMUL_SIZES))
            raise self.error(e, "tile", f"tile_matmul takes two tiles of one size, {sizes}, not {left.ty} and {right.ty}")
        return replace(e, left=left, right=right, ty=TileType(left.ty.elem, MATMUL_ROWS * MATMUL_ROWS))

    def expr_TileReduce(self, e: A.TileReduce):
        tile = self.tile(e.tile)
        return replace(e, tile=tile, ty=tile.ty.elem)

    def expr_GradCall(self, e: A.GradCall):
        arg = self.expr(e.arg)
        if arg.ty != F32:
            raise self.error(e.arg, "type-mismatch", f"grad({e.fn}, x) takes a float32, not {arg.ty}")
        return replace(e, arg=arg, ty=F32)

    def expr_TileGet(self, e: A.TileGet):
        """The indexes are any int32 (clamped: SEMANTICS.md), evaluated after
        the tile, row before column."""
        tile = self.tile(e.tile)
        row, col = self.expr(e.row), self.expr(e.col)
        for given, checked in ((e.row, row), (e.col, col)):
            if checked.ty != I32:
                raise self.error(given, "type-mismatch", f"a tile's row and column are int32, not {checked.ty}")
        return replace(e, tile=tile, row=row, col=col, ty=tile.ty.elem)

    def expr_Construct(self, e: A.Construct):
        args = tuple(self.expr(a) for a in e.args)
        for arg in args:
            if arg.ty != F32:
                raise self.error(arg, "type-mismatch", f"{e.of} components are float32, not {arg.ty}")
        return replace(e, args=args, ty=e.of)



def holds_array(ty) -> bool:
    """Whether `ty` is a struct with an array field: such a struct reaches a
    kernel only as its parameter (Warp builds its arrays on the host)."""
    return isinstance(ty, DType) and ty.is_struct and bool(ty.array_fields)


def _names(node) -> set[str]:
    return {n.id for n in A.walk(node) if isinstance(n, A.Name)}
