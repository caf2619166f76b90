import jax
import jax.numpy as jnp
from jax import lax


def length(v):
    """|v|; its gradient at the zero vector is zero, as Warp's adjoint gives."""
    s = jnp.sum(v * v, axis=-1)
    return jnp.where(s > 0, jnp.sqrt(jnp.where(s > 0, s, 1)), 0)


def normalize(v):
    """v / length(v); the zero vector normalizes to zero, as in Warp."""
    n = length(v)
    return jnp.where(n > 0, v / jnp.where(n > 0, n, 1), 0)


def quat_identity():
    return jnp.array([0.0, 0.0, 0.0, 1.0], dtype=jnp.float32)


def normalize_quat(q):
    """q / length(q); the zero quaternion normalizes to the identity, as in Warp."""
    n = length(q)
    return jnp.where(n > 0, q / jnp.where(n > 0, n, 1), jnp.array([0.0, 0.0, 0.0, 1.0], dtype=q.dtype))


def quat_mul(a, b):
    """The Hamilton product."""
    ax, ay, az, aw = a[0], a[1], a[2], a[3]
    bx, by, bz, bw = b[0], b[1], b[2], b[3]
    return jnp.stack([
        aw * bx + bw * ax + ay * bz - by * az,
        aw * by + bw * ay + az * bx - bz * ax,
        aw * bz + bw * az + ax * by - bx * ay,
        aw * bw - ax * bx - ay * by - az * bz,
    ])


def quat_from_axis_angle(axis, angle):
    half = angle * 0.5
    s = jnp.sin(half)
    return jnp.stack([axis[0] * s, axis[1] * s, axis[2] * s, jnp.cos(half)])


def quat_inverse(q):
    return jnp.stack([-q[0], -q[1], -q[2], q[3]])


def quat_rotate(q, v, direction=1):
    c = 2 * q[3] * q[3] - 1
    d = 2 * (q[0] * v[0] + q[1] * v[1] + q[2] * v[2])
    turn = jnp.stack([q[1] * v[2] - q[2] * v[1], q[2] * v[0] - q[0] * v[2], q[0] * v[1] - q[1] * v[0]]) * q[3] * 2
    return v * c + q[:3] * d + direction * turn


def quat_rotate_inv(q, v):
    return quat_rotate(q, v, -1)


def quat_to_matrix(q):
    """The matrix whose columns are the rotated axes."""
    basis = jnp.eye(3, dtype=q.dtype)
    return jnp.stack([quat_rotate(q, basis[k]) for k in range(3)], axis=1)


def turn(q, v):
    return lax.add(quat_rotate_inv(q, quat_rotate(q, v)), quat_rotate(quat_inverse(q), v))


def quaternions(x, v, s, y, r, m, d):
    def thread(tid):
        y_i = jnp.zeros(y.shape[1:], y.dtype)
        r_i = jnp.zeros(r.shape[1:], r.dtype)
        m_i = jnp.zeros(m.shape[1:], m.dtype)
        d_i = jnp.zeros(d.shape[1:], d.dtype)
        i = tid
        q = x[i]
        p = lax.sub(quat_mul(q, jnp.array([1.0, 2.0, 3.0, 4.0], dtype=jnp.float32)) + 2.0 * q, q / lax.add(jnp.abs(s), jnp.float32(1.0)))
        a = quat_from_axis_angle(normalize(v[i]), s)
        p = quat_mul(quat_mul(-p, quat_identity()), a)
        p = p.at[0].set(q[3])
        p = p.at[2].set(q[1])
        y_i = lax.add(normalize_quat(p), normalize_quat(jnp.array([0.0, 0.0, 0.0, 0.0], dtype=jnp.float32)))
        r_i = turn(q, v[i])
        m_i = quat_to_matrix(a)
        d_i = lax.add(jnp.dot(q, p) + length(q), q[2])
        return y_i, r_i, m_i, d_i
    y_new, r_new, m_new, d_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"y": y_new, "r": r_new, "m": m_new, "d": d_new}
