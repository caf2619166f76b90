import warp as wp


@wp.func
def bump(a: wp.array(dtype=wp.float32), v: wp.float32) -> wp.float32:
    wp.atomic_add(a, 0, v)
    return v


@wp.kernel
def spell(x: wp.array(dtype=wp.float32), q: wp.array(dtype=wp.int32), y: wp.array(dtype=wp.float32), r: wp.array(dtype=wp.int32), tot: wp.array(dtype=wp.float32), hi: wp.array(dtype=wp.int32), lo: wp.array(dtype=wp.float32), top: wp.array(dtype=wp.float32)):
    i = wp.tid()
    a = x[i] if x[i] > 0.0 else -x[i]
    b = wp.where(x[i] < 1.0, x[i], 1.0)
    c = wp.where(q[i] > 6, 6, q[i])
    d = x[i] if x[i] > 0.5 else bump(tot, x[i])
    e = wp.sin(a) + wp.exp(wp.clamp(b, -10.0, 10.0)) * wp.sqrt(wp.abs(d)) - wp.max(a, b) / (wp.abs(b) + 1.0)
    f = wp.floor(e) + wp.min(a, 2.0) + wp.cos(b) * wp.tanh(d)
    k = q[i] % 3 + c * 2 - q[i] // 4
    wp.atomic_add(tot, 0, a)
    wp.atomic_max(hi, 0, k)
    wp.atomic_min(lo, 0, b)
    wp.atomic_max(top, 0, f)
    s = wp.tile_sum(wp.tile_load(x, shape=4, offset=wp.clamp(i, 0, x.shape[0] - 4)))[0] + wp.tile_max(wp.tile_load(x, shape=2, offset=wp.clamp(i, 0, x.shape[0] - 2)))[0] - wp.tile_min(wp.tile_load(x, shape=8, offset=wp.clamp(i + 6, 0, x.shape[0] - 8)))[0]
    y[i] = e + f + s
    r[i] = k
