import warp as wp


@wp.func
def steps(a: wp.float32, b: wp.float32) -> wp.float32:
    return a // b - a % b


@wp.kernel
def float_division(x: wp.array(dtype=wp.float32), d: wp.array(dtype=wp.float64), o: wp.array(dtype=wp.float32), q: wp.array(dtype=wp.float32), r: wp.array(dtype=wp.float64), z: wp.array(dtype=wp.float32)):
    i = wp.tid()
    k = wp.float32(i % 3 - 1)
    t = x[i] // (wp.abs(x[wp.clamp(i + 1, 0, x.shape[0] - 1)]) + 0.5)
    u = x[i] // k
    w = (x[i] + 1.0) / float(i % 4)
    if w > 2.0 or u != u:
        t = t + wp.floor(wp.abs(w)) * 0.25
    elif not w < 0.0:
        t = t - wp.ceil(x[i] % 0.0)
    o[i] = t + steps(x[i], 0.75) - steps(7.0, -2.0)
    q[i] = u + x[i] % k + w * 0.5
    r[i] = d[i] // wp.float64(0.25) + (d[i] // wp.float64(0.0) if i % 5 == 0 else d[i] % wp.float64(i % 2))
    z[i] = z[i] // 0.0 if i % 2 == 0 else z[i] // 1.5
