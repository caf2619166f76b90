import warp as wp


@wp.kernel
def k2(x: wp.array2d(dtype=wp.float32), v: wp.array2d(dtype=wp.vec3), n: wp.array2d(dtype=wp.int32), y: wp.array2d(dtype=wp.float32), io: wp.array2d(dtype=wp.float32), w: wp.array2d(dtype=wp.vec3), z: wp.array(dtype=wp.float32), s: wp.int32):
    i = wp.tid()
    last = x.shape[1] - 1
    t = x[i, wp.clamp(s, 0, x.shape[1] - 1)] + x[wp.clamp(i + 1, 0, x.shape[0] - 1), wp.clamp(last, 0, x.shape[1] - 1)] * z[i]
    for j in range(4):
        if j < x.shape[1]:
            t += x[i, j] * wp.float32(j + 1)
    u = x[i, s] if 0 <= s and s < x.shape[1] else 0.5
    r = i + s
    if 0 <= r and r < x.shape[0] and 0 <= s and s < x.shape[1]:
        u += x[r, s]
    y[i, wp.clamp(0, 0, y.shape[1] - 1)] = t
    y[i, wp.clamp(i, 0, y.shape[1] - 1)] = u + wp.float32(n[i, wp.clamp(s + 1, 0, n.shape[1] - 1)])
    io[i, wp.clamp(i + 2, 0, io.shape[1] - 1)] += t * 0.25
    io[i, wp.clamp(s, 0, io.shape[1] - 1)] = io[i, wp.clamp(s, 0, io.shape[1] - 1)] * 2.0 - io[i, wp.clamp(1, 0, io.shape[1] - 1)]
    w[i, wp.clamp(s, 0, w.shape[1] - 1)] = v[i, wp.clamp(s, 0, v.shape[1] - 1)] * t + wp.cross(v[i, wp.clamp(1, 0, v.shape[1] - 1)], wp.vec3(1.0, 0.0, 2.0))
    w[i, wp.clamp(s + 1, 0, w.shape[1] - 1)].y = t - u
    w[i, wp.clamp(i, 0, w.shape[1] - 1)][2] = io[i, wp.clamp(0, 0, io.shape[1] - 1)]
