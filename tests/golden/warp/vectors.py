import warp as wp


@wp.func
def mix3(a: wp.vec3, b: wp.vec3, s: wp.float32) -> wp.vec3:
    return a * (1.0 - s) + b * s


@wp.kernel
def vectors(p: wp.array(dtype=wp.vec3), q: wp.array(dtype=wp.vec2), r: wp.array(dtype=wp.vec4), mats: wp.array(dtype=wp.mat33), acc: wp.array(dtype=wp.vec3), outm: wp.array(dtype=wp.mat33), lens: wp.array(dtype=wp.float32), s: wp.float32, dir: wp.vec3):
    i = wp.tid()
    v = p[i]
    v.x = 1.0
    v[1] = s * 2.0
    v.z += v.x
    v[0] -= 0.5
    v.y *= s
    v[2] /= 3.0
    w = wp.vec3(s, 1.0, -0.0)
    c = wp.cross(v, w)
    m = mats[i]
    mv = m @ c
    lens[i] = wp.dot(v, w) + wp.length(mv) + wp.length(wp.normalize(dir))
    q2 = q[i]
    q2.y *= 2.0
    q[i] = q2 + wp.vec2(1.0, -1.0)
    q[i] = q[i] * 0.5
    q[i] += wp.vec2(q2[0], q2.x)
    r4 = wp.vec4(v.x, v.y, v[2], 1.0)
    r4.w /= 2.0
    r[i] = -r4 / 2.0
    wp.atomic_add(acc, 0, c)
    wp.atomic_sub(acc, i, wp.normalize(mv) * s)
    outm[i] = m * 2.0 + wp.mat33(1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    g = p[wp.clamp(i + 1, 0, p.shape[0] - 1)]
    lens[i] = wp.dot(g, v) if g.x > 0.0 else wp.abs(g).y
    lens[i] = wp.length(mix3(g, dir, 0.5)) + wp.abs(mix3(v, w, s)).z


@wp.kernel
def swizzle(p: wp.array(dtype=wp.vec4)):
    i = wp.tid()
    p[i] = wp.vec4(p[i].w, p[i].z, p[i][1], p[i][0]) * 2.0 - wp.normalize(p[i])
