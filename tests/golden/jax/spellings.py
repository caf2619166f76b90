import jax
import jax.numpy as jnp
from jax import lax


def spellings(x, v, o, w, n):
    def thread(tid):
        o_i = jnp.zeros(o.shape[1:], o.dtype)
        w_i = jnp.zeros(w.shape[1:], w.dtype)
        n_i = jnp.zeros(n.shape[1:], n.dtype)
        i = tid
        t = lax.cond(x[i] > 0.0, lambda: x[i], lambda: jnp.float32(0.5))
        t = t + lax.cond(x[i] > 1.0, lambda: jnp.float32(2.0), lambda: jnp.float32(1.0))
        k = jnp.trunc(lax.mul(t, jnp.float32(2.0))).astype(jnp.int32)
        k += 1
        n_i = k
        o_i = lax.add(k.astype(jnp.float32), t)
        w_i = 2.0 / lax.add(jnp.abs(v[i]), jnp.array([1.0, 1.0, 1.0], dtype=jnp.float32))
        return o_i, w_i, n_i
    o_new, w_new, n_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"o": o_new, "w": w_new, "n": n_new}
