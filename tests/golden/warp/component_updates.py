import warp as wp


@wp.struct
class S:
    a: wp.float32
    v: wp.vec3


@wp.kernel
def k(x: wp.array(dtype=wp.float32), io: wp.array(dtype=wp.vec3), g: wp.array2d(dtype=wp.vec3), y: wp.array(dtype=wp.float32)):
    i = wp.tid()
    v = wp.vec3(1.0, 2.0, 3.0)
    c = i + 1
    v[wp.clamp(c, 0, 2)] += x[i]
    v.z -= 0.5
    m = wp.mat33(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0)
    m[1] *= x[i]
    m[0, 2] += v.x
    m[2][0] /= 2.0
    m[1][2] = m[1][2] - v.y
    io[i].y += x[i]
    io[i][wp.clamp(c, 0, 2)] -= 1.0
    io[i].x = io[i].x * 2.0
    g[i, wp.clamp(1, 0, g.shape[1] - 1)].z += x[i]
    g[i, wp.clamp(c, 0, g.shape[1] - 1)][wp.clamp(i, 0, 2)] -= v.z
    s = S()
    s.a = 1.0
    s.a += x[i]
    s.v.x += x[i]
    s.v[wp.clamp(c, 0, 2)] -= 2.0
    s.v *= 0.5
    s.a *= 3.0
    y[i] = v.x + v.y + v.z + m[1, 1] + m[0, 2] + m[2, 0] + m[1, 2] + s.a + s.v.x * 10.0 + s.v.z * 100.0
