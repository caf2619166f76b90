import jax
import jax.numpy as jnp
from jax import lax


def k(x, o, n):
    def thread(tid):
        o_i = jnp.zeros(o.shape[1:], o.dtype)
        i = tid
        j = n + i
        t = lax.cond(jnp.logical_and(0 <= j, j < jnp.int32(x.shape[0])), lambda: x[j], lambda: jnp.float32(0.0))
        # if j >= 0 and j < len(x) and x[j] > 0.5:
        mask1 = jnp.logical_and(jnp.logical_and(j >= 0, j < jnp.int32(x.shape[0])), x[j] > 0.5)
        t = jnp.where(mask1, t + x[j], t)
        # for q in range(8):
        def for_q(q, t):
            q = jnp.int32(q)
            # if q < len(x):
            mask2 = q < jnp.int32(x.shape[0])
            t = jnp.where(mask2, t + x[q], t)
            return t
        t = lax.fori_loop(0, 8, for_q, t)
        o_i = t
        return o_i
    o_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"o": o_new}
