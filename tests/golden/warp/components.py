import warp as wp


@wp.kernel
def components(x: wp.array(dtype=wp.float32), y: wp.array(dtype=wp.vec3), z: wp.array(dtype=wp.vec4), n: wp.int32):
    i = wp.tid()
    y[i].y = x[i]
    y[i][2] = x[i] * 2.0
    v = wp.vec3(1.0, 2.0, 3.0)
    t = v[wp.clamp(n + i, 0, 2)]
    v[wp.clamp(n, 0, 1)] = t * 10.0
    for q in range(3):
        v[q] += x[i] if q < 2 else 1.0
    z[i].w += v.x
    z[i][wp.clamp(n, 0, 3)] = 2.0
