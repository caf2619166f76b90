import jax
import jax.numpy as jnp
from jax import lax


def clamp(x, lo, hi):
    return jnp.minimum(jnp.maximum(x, lo), hi)


def weigh(a, b, c):
    return a + 10.0 * b + 100.0 * c


def gap(a, b):
    return lax.sub(a, b)


def k(x, w, o):
    def thread(tid):
        o_i = jnp.zeros(o.shape[1:], o.dtype)
        i = tid
        v = x[i]
        t = lax.add(weigh(v[0], v[1], v[2]) + gap(w[0], w[1]) + weigh((v * 2.0)[0], (v * 2.0)[1], (v * 2.0)[2]) + weigh(x[clamp(i + 1, 0, lax.sub(jnp.int32(x.shape[0]), jnp.int32(1)))][0], x[clamp(i + 1, 0, lax.sub(jnp.int32(x.shape[0]), jnp.int32(1)))][1], x[clamp(i + 1, 0, lax.sub(jnp.int32(x.shape[0]), jnp.int32(1)))][2]), gap(jnp.array([v[2], w[0]], dtype=jnp.float32)[0], jnp.array([v[2], w[0]], dtype=jnp.float32)[1]))
        u = jnp.array([v[0], v[1], v[2], w[1]], dtype=jnp.float32)
        o_i = lax.add(lax.add(lax.add(t + gap(u[1], u[2]), gap(u[2], u[3])), gap(v[2], v[0])) + weigh(u[3], u[2], u[1]), gap(u[0], u[3]))
        return o_i
    o_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"o": o_new}
