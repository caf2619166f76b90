import warp as wp


@wp.func
def fib(a0: wp.float32, b0: wp.float32, n: wp.int32) -> wp.float32:
    a, b = a0, b0
    for j in range(wp.clamp(n, 0, 6)):
        a, b = b, a + b
    return a


@wp.kernel
def parallel(x: wp.array(dtype=wp.float32), o: wp.array(dtype=wp.float32), q: wp.array(dtype=wp.int32), v: wp.array(dtype=wp.vec3)):
    i = wp.tid()
    a = x[i]
    b = wp.float32(2.0)
    c = wp.float32(-1.0)
    a, b = b, a
    a, b, c = b, c, a
    t, m = a * 2.0, i + 1
    u, w = wp.vec3(a, b, c), wp.float32(0.5)
    for k in range(wp.clamp(i, 0, 4)):
        m, t = m + k, t - w
    o[i] = fib(a, b, i) + t
    q[i] = m
    v[i] = u * w
