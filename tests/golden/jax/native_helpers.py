import jax
import jax.numpy as jnp
from jax import lax


def cubic(a, b):
    return lax.add(lax.sub(a * a * b, -(b * 0.5)), jnp.float32(2.0))


def scale(c):
    return -c * 3.0


def mix(u, v):
    return lax.add(scale(u), cubic(u, v))


def natives(x, y, o):
    def thread(tid):
        o_i = jnp.zeros(o.shape[1:], o.dtype)
        i = tid
        o_i = mix(x[i], y[i]) * cubic(y[i], jnp.float32(1.0))
        return o_i
    o_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"o": o_new}
