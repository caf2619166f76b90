import jax
import jax.numpy as jnp
from jax import lax

jax.config.update("jax_enable_x64", True)


def clamp(x, lo, hi):
    return jnp.minimum(jnp.maximum(x, lo), hi)


def mix(a, b):
    return a ^ b << 3 | ~a & 255


def bitwise(x, u, w, o, p, q):
    def thread(tid):
        o_i = jnp.zeros(o.shape[1:], o.dtype)
        p_i = jnp.zeros(p.shape[1:], p.dtype)
        q_i = jnp.zeros(q.shape[1:], q.dtype)
        i = tid
        a = x[i] & 7 | x[i] ^ jnp.int32(3) << 2
        b = ~x[i] >> 1
        c = (a | b) & lax.abs(x[i]) << clamp(i, 0, 12)
        # if a & 1 == 1 and b | 2 > 3:
        mask1 = jnp.logical_and(a & 1 == 1, b | 2 > 3)
        c = jnp.where(mask1, c + -(~a), c)
        o_i = c ^ (a >> 2) + 1
        p_i = mix(u[i], i.astype(jnp.uint32)) >> 2 ^ u[i] << 31
        q_i = (w[i] | 16) >> 1 & ~w[i]
        return o_i, p_i, q_i
    o_new, p_new, q_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"o": o_new, "p": p_new, "q": q_new}
