import warp as wp


@wp.func
def soft(v: wp.float32) -> wp.float32:
    return v / (1.0 + wp.abs(v))


@wp.func
def bump(tot: wp.array(dtype=wp.float32), v: wp.float32) -> wp.float32:
    wp.atomic_add(tot, 0, v)
    return soft(v) * 2.0


@wp.kernel
def roles(xf: wp.array(dtype=wp.float32), xd: wp.array(dtype=wp.float64), xi: wp.array(dtype=wp.int32), xl: wp.array(dtype=wp.int64), xu: wp.array(dtype=wp.uint32), of: wp.array(dtype=wp.float32), od: wp.array(dtype=wp.float64), oi: wp.array(dtype=wp.int32), ol: wp.array(dtype=wp.int64), ou: wp.array(dtype=wp.uint32), yf: wp.array(dtype=wp.float32), yd: wp.array(dtype=wp.float64), yi: wp.array(dtype=wp.int32), yl: wp.array(dtype=wp.int64), yu: wp.array(dtype=wp.uint32), af: wp.array(dtype=wp.float32), ad: wp.array(dtype=wp.float64), ai: wp.array(dtype=wp.int32), al: wp.array(dtype=wp.int64), au: wp.array(dtype=wp.uint32), alpha: wp.float32, beta: wp.float64, n: wp.int32, m: wp.int64, u: wp.uint32):
    i = wp.tid()
    t = alpha * xf[i] + yf[i]
    d = beta * xd[i] + wp.float64(1.5)
    j = xi[i] % 7 + n // 2
    l = xl[i] * m - wp.int64(3)
    c = xu[i] + u * wp.uint32(3)
    t = t - wp.float32(j)
    t += 1.0
    t -= 0.25
    t *= 2.0
    t /= 4.0
    j += 1
    j -= n
    j *= 3
    d /= wp.float64(2.0)
    of[i] = t
    od[i] = d
    oi[i] = j + wp.int32(t)
    ol[i] = l
    ou[i] = c
    yf[i] += 1.0
    yf[i] -= t
    yf[i] *= 0.5
    yf[i] /= 2.0
    yd[i] = yd[i] + d
    yi[i] += j
    yl[i] -= l
    yu[i] *= c
    wp.atomic_add(af, 0, t)
    wp.atomic_sub(af, i, soft(t))
    wp.atomic_min(ai, wp.clamp(j, 0, ai.shape[0] - 1), j)
    wp.atomic_max(al, i, l)
    wp.atomic_add(ad, 0, d)
    wp.atomic_min(au, 0, c)
    r = bump(af, t)
    bump(af, r)
    t = soft(r) + wp.max(r, t)
    of[i] = t


@wp.kernel
def casts(x: wp.array(dtype=wp.float32), y: wp.array(dtype=wp.float64), z: wp.array(dtype=wp.uint32), k: wp.int64):
    i = wp.tid()
    a = wp.float64(x[i]) * wp.float64(0.5) + wp.float64(k)
    b = wp.int64(x[i]) + k
    y[i] = a - wp.float64(b)
    z[i] = wp.uint32(i) + wp.uint32(b) % wp.uint32(7)
