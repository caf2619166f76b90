import warp as wp


@wp.func
def step(a: wp.float32, b: wp.float32) -> wp.float32:
    r = a
    if a > b:
        r = a - b
    elif a < -b:
        r = b - a
    else:
        r = wp.float32(0.0)
    return r


@wp.func
def count(hits: wp.array(dtype=wp.int32), k: wp.int32) -> wp.int32:
    wp.atomic_add(hits, 0, 1)
    return k + 1


@wp.func
def twice(hits: wp.array(dtype=wp.int32), k: wp.int32) -> wp.int32:
    count(hits, k)
    return count(hits, k * 2)


@wp.kernel
def control(x: wp.array(dtype=wp.float32), y: wp.array(dtype=wp.float32), hits: wp.array(dtype=wp.int32), n: wp.int32, eps: wp.float32):
    i = wp.tid()
    t = y[i]
    total = wp.float32(0.0)
    for k in range(4):
        if k == 2:
            continue
        total += x[wp.clamp(i + k, 0, x.shape[0] - 1)]
        for j in range(wp.clamp(n, 0, 8)):
            if t > 100.0 or j > k:
                break
            t = t + step(total, wp.float32(j))
    w = wp.int32(0)
    while w < 4 and not t > 10.0:
        w += 1
        t *= 1.5
        if t < eps:
            break
        c = count(hits, w)
        if c % 2 == 0 and t > 0.0:
            continue
        t -= eps
    if t > 0.0:
        if t > 1.0:
            t = wp.sqrt(t)
        elif t > 0.5:
            t = wp.exp(wp.clamp(t, -10.0, 10.0))
        else:
            t = wp.log(wp.abs(t) + 1.0)
    elif t < -1.0 and i > 0:
        t = -t if i % 2 == 1 else wp.pow(wp.abs(t), 2.0)
    elif not (t < -2.0 or t > 2.0):
        t = wp.sin(t) + wp.cos(t) * wp.tan(t) - wp.tanh(t) + wp.atan2(t, 1.0) + wp.floor(t) + wp.ceil(t) + wp.sign(t)
    else:
        t = wp.asin(wp.clamp(t, -1.0, 1.0)) + wp.acos(wp.clamp(t, -1.0, 1.0)) + wp.atan(t)
        if t <= 0.0 and t >= -1.0 and t != -0.5:
            t = wp.sinh(wp.clamp(t, -10.0, 10.0)) - wp.cosh(wp.clamp(t, -10.0, 10.0))
            t += wp.log2(wp.abs(t) + 1.0) * wp.log10(wp.abs(t) + 1.0)
    count(hits, i)
    y[i] = wp.min(t, wp.float32(n)) + wp.float32(wp.int32(t) // 2)
    z = wp.int32(0)
    while z < 2:
        z += 1
    e = twice(hits, z)
    y[i] += wp.float32(e)
