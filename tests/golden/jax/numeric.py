import jax
import jax.numpy as jnp
from jax import lax

jax.config.update("jax_enable_x64", True)


def sign(x):
    """-1 where x < 0, else 1: sign(0) == 1, as in Warp."""
    return jnp.where(x < 0, -1, 1).astype(x.dtype)


def clamp(x, lo, hi):
    return jnp.minimum(jnp.maximum(x, lo), hi)


def numeric(x, a, u, f, l, w, g, h):
    def thread(tid):
        f_i = jnp.zeros(f.shape[1:], f.dtype)
        l_i = jnp.zeros(l.shape[1:], l.dtype)
        w_i = jnp.zeros(w.shape[1:], w.dtype)
        g_i = jnp.zeros(g.shape[1:], g.dtype)
        h_i = jnp.zeros(h.shape[1:], h.dtype)
        i = tid
        f_i = x[i].astype(jnp.float64) * 0.5 + jnp.floor_divide(a[i], 4).astype(jnp.float64)
        l_i = lax.mul(a[i].astype(jnp.int64), jnp.int64(100000000)) + jnp.trunc(x[i]).astype(jnp.int64)
        w_i = lax.sub(u[i], jnp.uint32(5))
        g_i = lax.add(lax.add(jnp.fmod(x[i], 1.5), sign(x[i] - x[i])), lax.rem(a[i], jnp.int32(4)).astype(jnp.float32))
        h_i = lax.add(clamp(a[i], -3, 3), lax.mul(lax.min(a[i], jnp.int32(0)), jnp.maximum(i, 2))) + jnp.trunc(-x[i]).astype(jnp.int32)
        return f_i, l_i, w_i, g_i, h_i
    f_new, l_new, w_new, g_new, h_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"f": f_new, "l": l_new, "w": w_new, "g": g_new, "h": h_new}
