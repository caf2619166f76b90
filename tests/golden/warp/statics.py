import warp as wp


@wp.kernel
def k0(x0: wp.array(dtype=wp.float32), n0: wp.array(dtype=wp.int32), out0: wp.array(dtype=wp.float32), out1: wp.array(dtype=wp.int32)):
    i = wp.tid()
    t = wp.float32(0.0)
    c = wp.int32(0)
    for j in range(3):
        t = t + x0[i] * wp.float32(wp.static(j * 2 - 1))
        c = c + wp.static(-j * j + 7)
    for k in range(20):
        c = c + wp.static(k * 3)
    out0[i] = t + wp.static(0.1 * 3.0) - wp.static(-2.5)
    out1[i] = c + n0[i]
