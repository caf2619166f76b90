import warp as wp


C0 = wp.constant(3)
C1 = wp.constant(-2.5)
C2 = wp.constant(wp.float64(0.1))
C3 = wp.constant(wp.uint32(7))
C4 = wp.constant(wp.int64(-3))
C5 = wp.constant(wp.vec3(1.0, -2.5, 0.25))
C6 = wp.constant(wp.mat33(1.0, 0.0, 2.0, 0.0, -1.0, 0.0, 0.5, 0.0, 1.0))


@wp.func
def f(a: wp.float32) -> wp.float32:
    return a * C1


@wp.kernel
def k0(x0: wp.array(dtype=wp.float32), y: wp.array(dtype=wp.float64), out0: wp.array(dtype=wp.float32), out1: wp.array(dtype=wp.float64), out2: wp.array(dtype=wp.uint32), out3: wp.array(dtype=wp.int64), out4: wp.array(dtype=wp.vec3)):
    i = wp.tid()
    t = wp.float32(0.0)
    for j in range(C0):
        t = t + f(x0[i]) * wp.float32(wp.static(j * C0 - 1))
    v = wp.float32(C1)
    for k in range(wp.clamp(i, 0, 2)):
        v = v * x0[i]
    out0[i] = t + wp.static(C1 * 2.0) + v
    out1[i] = y[i] * C2 + C2
    out2[i] = wp.uint32(i) * C3 + C3
    out3[i] = wp.int64(i) * C4
    out4[i] = C6 @ (C5 * x0[i])
