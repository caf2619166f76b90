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


@wp.kernel
def rows(m: wp.array(dtype=wp.mat33), n: wp.int32, y: wp.array(dtype=wp.vec3), f: wp.array(dtype=wp.float32)):
    i = wp.tid()
    a = m[i]
    y[i] = a[1] + a[wp.clamp(n, 0, 2)] * 2.0
    s = a[1][2] + a[1, 2] * 10.0 + m[i][wp.clamp(n, 0, 2)][0] * 100.0
    for j in range(3):
        s += a[j].x * 1000.0
    f[i] = s
