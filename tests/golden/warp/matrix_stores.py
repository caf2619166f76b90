import warp as wp


@wp.func
def build(a: wp.float32) -> wp.mat33:
    m = wp.mat33(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    m[1][2] = a
    m[0, 0] = a + 1.0
    m[2] = wp.vec3(a, a, a)
    return m


@wp.kernel
def k(x: wp.array(dtype=wp.float32), y: wp.array(dtype=wp.mat33), n: wp.int32):
    i = wp.tid()
    m = build(x[i])
    for j in range(wp.clamp(n, 0, 3)):
        m[1][0] = m[1][0] + x[i]
        m[2, 1] += 1.0
        if x[i] > 1.5:
            m[0] = m[2] * 2.0
    for k in range(2):
        m[0][1] = m[0, 1] + 0.5
    y[i] = m
