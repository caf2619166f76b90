import warp as wp


@wp.func
def twice(a: wp.float32) -> wp.float32:
    return a * 2.0


@wp.kernel
def derivatives(x: wp.array(dtype=wp.float32), s: wp.float32, o: wp.array(dtype=wp.float32)):
    i = wp.tid()
    a = wp.grad(wp.sin)(x[i]) + wp.grad(wp.cos)(s)
    if wp.grad(wp.tanh)(twice(x[i])) > 0.25:
        a = a * wp.grad(wp.exp)(wp.clamp(x[i], -10.0, 10.0))
    for k in range(3):
        a = a - wp.grad(wp.tanh)(wp.float32(k))
    o[i] = a
