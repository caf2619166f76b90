import warp as wp


@wp.func
def soft(v: wp.float32) -> wp.float32:
    return v / (1.0 + wp.abs(v))


@wp.kernel
def k0(x: wp.array(dtype=wp.float32), y: wp.array(dtype=wp.float32), tot: wp.array(dtype=wp.float32), p: wp.array(dtype=wp.vec3), alpha: wp.float32, n: wp.int32):
    i = wp.tid()
    t = alpha * x[i] + y[i]
    if t > 0.5:
        y[i] = wp.sqrt(wp.abs(t))
    elif t < -0.5 and not t > 3.0:
        for k in range(wp.clamp(n, 0, 8)):
            t += wp.sin(x[wp.clamp(i + k, 0, x.shape[0] - 1)])
        y[i] = soft(t)
    else:
        y[i] = wp.dot(p[i], wp.vec3(t, 1.0, 0.0)) if t > 0.0 else -2.5
    w = wp.int32(0)
    while w < 3:
        w += 1
    wp.atomic_add(tot, 0, t)
