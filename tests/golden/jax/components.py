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


def components(x, y, z, n):
    def thread(tid):
        y_i = jnp.zeros(y.shape[1:], y.dtype)
        z_i = z[tid]
        i = tid
        y_i = y_i.at[1].set(x[i])
        y_i = y_i.at[2].set(lax.mul(x[i], jnp.float32(2.0)))
        v = jnp.array([1.0, 2.0, 3.0], dtype=jnp.float32)
        t = v[clamp(n + i, 0, 2)]
        v = v.at[clamp(n, 0, 1)].set(lax.mul(t, jnp.float32(10.0)))
        # for q in range(3):
        def for_q(q, v):
            q = jnp.int32(q)
            v = v.at[q].set(lax.add(v[q], lax.select(q < 2, x[i], jnp.float32(1.0))))
            return v
        v = unrolled_loop(3, for_q, v)
        z_i = z_i.at[3].set(lax.add(z_i[3], v[0]))
        z_i = z_i.at[clamp(n, 0, 3)].set(2.0)
        return y_i, z_i
    y_new, z_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"y": y_new, "z": z_new}
