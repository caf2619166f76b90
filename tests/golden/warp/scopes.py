import warp as wp


@wp.func
def pick(a: wp.float32, b: wp.float32) -> wp.float32:
    if a < b:
        m = a
    else:
        m = b
    return m * 2.0


@wp.kernel
def scopes(x: wp.array(dtype=wp.float32), v: wp.array(dtype=wp.vec3), y: wp.array(dtype=wp.float32), w: wp.array(dtype=wp.vec3), n: wp.int32):
    i = wp.tid()
    if x[i] > 1.0:
        a = x[i] * 2.0
        u = v[i]
    elif x[i] > -1.0:
        a = wp.float32(7.0)
        if x[i] > 0.0:
            u = wp.vec3(x[i], 0.0, 1.0)
        else:
            u = v[i] * 0.5
    else:
        t = wp.float32(-1.0)
        a = t - x[i]
        u = wp.vec3(0.0, 0.0, 0.0)
    s = wp.float32(0.0)
    for j in range(wp.clamp(n, 0, 6)):
        if j % 2 == 0:
            c = wp.float32(j)
        else:
            c = wp.float32(-1.0)
        s += c
    for j in range(2):
        t = x[i] + wp.float32(j)
        s += t
    y[i] = a + s + pick(x[i], a)
    w[i] = u
