import warp as wp


@wp.func
def sandwich(a: wp.mat33, v: wp.vec3) -> wp.float32:
    return wp.dot(v * a, a @ v)


@wp.kernel
def products(x: wp.array(dtype=wp.vec3), m: wp.array(dtype=wp.mat33), s: wp.float32, y: wp.array(dtype=wp.vec3), z: wp.array(dtype=wp.mat33), d: wp.array(dtype=wp.float32)):
    i = wp.tid()
    a = m[i] * x[i]
    b = x[i] * m[i]
    c = x[i] @ m[i]
    y[i] = a + b * 2.0 - c @ m[i]
    n = m[i] * m[i]
    z[i] = n + m[i] @ n / (wp.abs(s) + 1.0)
    d[i] = sandwich(m[i], x[i])
