import warp as wp


@wp.kernel
def spellings(x: wp.array(dtype=wp.float32), v: wp.array(dtype=wp.vec3), o: wp.array(dtype=wp.float32), w: wp.array(dtype=wp.vec3), n: wp.array(dtype=wp.int32)):
    i = wp.tid()
    t = wp.where(x[i] > 0.0, x[i], wp.float32(0.5))
    t = t + wp.where(x[i] > 1.0, 2.0, 1.0)
    k = int(t * 2.0)
    k += wp.int32(1)
    n[i] = k
    o[i] = float(k) + t
    w[i] = 2.0 / (wp.abs(v[i]) + wp.vec3(1.0, 1.0, 1.0))
