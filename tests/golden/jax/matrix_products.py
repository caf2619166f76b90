import jax
import jax.numpy as jnp
from jax import lax


def clamp(x, lo, hi):
    return jnp.minimum(jnp.maximum(x, lo), hi)


def unrolled_loop(trips, body, carry):
    """A Python loop: unrolled when traced."""
    for k in range(trips):
        carry = body(jnp.int32(k), carry)
    return carry


def sandwich(a, v):
    return jnp.dot(v @ a, a @ v)


def products(x, m, s, y, z, d):
    def thread(tid):
        y_i = jnp.zeros(y.shape[1:], y.dtype)
        z_i = jnp.zeros(z.shape[1:], z.dtype)
        d_i = jnp.zeros(d.shape[1:], d.dtype)
        i = tid
        a = m[i] @ x[i]
        b = x[i] @ m[i]
        c = x[i] @ m[i]
        y_i = lax.sub(lax.add(a, b * 2.0), c @ m[i])
        n = m[i] @ m[i]
        z_i = lax.add(n, m[i] @ n / lax.add(jnp.abs(s), jnp.float32(1.0)))
        d_i = sandwich(m[i], x[i])
        return y_i, z_i, d_i
    y_new, z_new, d_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"y": y_new, "z": z_new, "d": d_new}


def rows(m, n, y, f):
    def thread(tid):
        y_i = jnp.zeros(y.shape[1:], y.dtype)
        f_i = jnp.zeros(f.shape[1:], f.dtype)
        i = tid
        a = m[i]
        y_i = lax.add(a[1], a[clamp(n, 0, 2)] * 2.0)
        s = lax.add(a[1][2], a[1][2] * 10.0) + m[i][clamp(n, 0, 2)][0] * 100.0
        # for j in range(3):
        def for_j(j, s):
            j = jnp.int32(j)
            s += lax.mul(a[j][0], jnp.float32(1000.0))
            return s
        s = unrolled_loop(3, for_j, s)
        f_i = s
        return y_i, f_i
    y_new, f_new = jax.vmap(thread)(jnp.arange(m.shape[0], dtype=jnp.int32))
    return {"y": y_new, "f": f_new}
