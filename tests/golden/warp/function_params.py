import warp as wp


@wp.func
def sq(a: wp.float32) -> wp.float32:
    return a * a


@wp.func
def neg(a: wp.float32) -> wp.float32:
    return -a


@wp.func
def apply(f: wp.Function, a: wp.float32) -> wp.float32:
    v = f(a)
    return v + 1.0


@wp.func
def twice(g: wp.Function, b: wp.float32, n: wp.int32) -> wp.float32:
    return apply(g, g(b)) * wp.float32(n)


@wp.kernel
def higher_order(x: wp.array(dtype=wp.float32), o: wp.array(dtype=wp.float32)):
    i = wp.tid()
    o[i] = apply(sq, x[i]) * apply(neg, x[i]) + twice(neg, x[i], 2)
