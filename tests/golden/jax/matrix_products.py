import jax
import jax.numpy as jnp
from jax import lax


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
        y_i = a + b * 2.0 - c @ m[i]
        n = m[i] @ m[i]
        z_i = n + m[i] @ n / (jnp.abs(s) + 1.0)
        d_i = sandwich(m[i], x[i])
        return y_i, z_i, d_i
    y_new, z_new, d_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"y": y_new, "z": z_new, "d": d_new}
