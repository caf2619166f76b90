import warp as wp


@wp.func
def turn(q: wp.quat, v: wp.vec3) -> wp.vec3:
    return wp.quat_rotate_inv(q, wp.quat_rotate(q, v)) + wp.quat_rotate(wp.quat_inverse(q), v)


@wp.kernel
def quaternions(x: wp.array(dtype=wp.quat), v: wp.array(dtype=wp.vec3), s: wp.float32, y: wp.array(dtype=wp.quat), r: wp.array(dtype=wp.vec3), m: wp.array(dtype=wp.mat33), d: wp.array(dtype=wp.float32)):
    i = wp.tid()
    q = x[i]
    p = q * wp.quat(1.0, 2.0, 3.0, 4.0) + 2.0 * q - q / (wp.abs(s) + 1.0)
    a = wp.quat_from_axis_angle(wp.normalize(v[i]), s)
    p = -p * wp.quat_identity() * a
    p.x = q.w
    p[2] = q[1]
    y[i] = wp.normalize(p) + wp.normalize(wp.quat(0.0, 0.0, 0.0, 0.0))
    r[i] = turn(q, v[i])
    m[i] = wp.quat_to_matrix(a)
    d[i] = wp.dot(q, p) + wp.length(q) + q.z
