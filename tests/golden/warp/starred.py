import warp as wp


@wp.func
def weigh(a: wp.float32, b: wp.float32, c: wp.float32) -> wp.float32:
    return a + 10.0 * b + 100.0 * c


@wp.func
def gap(a: wp.float32, b: wp.float32) -> wp.float32:
    return a - b


@wp.kernel
def k(x: wp.array(dtype=wp.vec3), w: wp.vec2, o: wp.array(dtype=wp.float32)):
    i = wp.tid()
    v = x[i]
    t = weigh(*v) + gap(*w) + weigh(*(v * 2.0)) + weigh(*x[wp.clamp(i + 1, 0, x.shape[0] - 1)]) + gap(*wp.vec2(v.z, w.x))
    u = wp.vec4(v.x, v.y, v.z, w.y)
    o[i] = t + gap(*u[1:3]) + gap(*u[-2:]) + gap(*v[::-2]) + weigh(*u[3:0:-1]) + gap(*u[:4:3])
