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


def weigh(s, v):
    return lax.mul(s, v) + 1.0


def struct_arrays(g__scale, g__wt, g__pts, g__res, k, o, q):
    def thread(tid):
        g__res_i = jnp.zeros(g__res.shape[1:], g__res.dtype)
        o_i = jnp.zeros(o.shape[1:], o.dtype)
        q_i = jnp.zeros(q.shape[1:], q.dtype)
        i = tid
        t = g__wt[i] + g__wt[clamp(i + k, 0, jnp.int32(g__wt.shape[0]) - 1)]
        j = i + 1
        # if 0 <= j and j < len(g__wt):
        mask1 = jnp.logical_and(0 <= j, j < jnp.int32(g__wt.shape[0]))
        t = jnp.where(mask1, t + g__wt[j], t)
        # for m in range(3):
        def for_m(m, t):
            m = jnp.int32(m)
            t += lax.select(m < jnp.int32(g__wt.shape[0]), g__wt[m], jnp.float32(0.0))
            return t
        t = unrolled_loop(3, for_m, t)
        o_i = weigh(g__scale, t)
        q_i = lax.add(g__pts[i] * g__scale, g__pts[clamp(k - i, 0, jnp.int32(g__pts.shape[0]) - 1)])
        g__res_i = g__pts[i]
        g__res_i = g__res_i.at[1].set(t)
        return g__res_i, o_i, q_i
    g__res_new, o_new, q_new = jax.vmap(thread)(jnp.arange(g__wt.shape[0], dtype=jnp.int32))
    return {"g__res": g__res_new, "o": o_new, "q": q_new}
