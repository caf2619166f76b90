import jax
import jax.numpy as jnp
from jax import lax


def clamp(x, lo, hi):
    return jnp.minimum(jnp.maximum(x, lo), hi)


def k(x, io, g, y):
    def thread(tid):
        io_i = io[tid]
        g_i = g[tid]
        y_i = jnp.zeros(y.shape[1:], y.dtype)
        i = tid
        v = jnp.array([1.0, 2.0, 3.0], dtype=jnp.float32)
        c = i + 1
        v = v.at[clamp(c, 0, 2)].set(lax.add(v[clamp(c, 0, 2)], x[i]))
        v = v.at[2].set(v[2] - 0.5)
        m = jnp.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], dtype=jnp.float32)
        m = m.at[1].set(m[1] * x[i])
        m = m.at[0, 2].set(lax.add(m[0][2], v[0]))
        m = m.at[2, 0].set(lax.div(m[2][0], jnp.float32(2.0)))
        m = m.at[1, 2].set(lax.sub(m[1][2], v[1]))
        io_i = io_i.at[1].set(io_i[1] + x[i])
        io_i = io_i.at[clamp(c, 0, 2)].set(lax.sub(io_i[clamp(c, 0, 2)], jnp.float32(1.0)))
        io_i = io_i.at[0].set(lax.mul(io_i[0], jnp.float32(2.0)))
        g_i = g_i.at[clamp(1, 0, jnp.int32(g.shape[1]) - 1), 2].set(g_i[clamp(1, 0, jnp.int32(g.shape[1]) - 1)][2] + x[i])
        g_i = g_i.at[clamp(c, 0, jnp.int32(g.shape[1]) - 1), clamp(i, 0, 2)].set(g_i[clamp(c, 0, jnp.int32(g.shape[1]) - 1)][clamp(i, 0, 2)] - v[2])
        s__a = jnp.float32(0.0)
        s__v = jnp.array([0.0, 0.0, 0.0], dtype=jnp.float32)
        s__a = jnp.float32(1.0)
        s__a += x[i]
        s__v = s__v.at[0].set(s__v[0] + x[i])
        s__v = s__v.at[clamp(c, 0, 2)].set(s__v[clamp(c, 0, 2)] - 2.0)
        s__v *= 0.5
        s__a *= 3.0
        y_i = lax.add(lax.add(v[0] + v[1], v[2]) + m[1][1] + m[0][2], m[2][0]) + m[1][2] + s__a + s__v[0] * 10.0 + lax.mul(s__v[2], jnp.float32(100.0))
        return io_i, g_i, y_i
    io_new, g_new, y_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"io": io_new, "g": g_new, "y": y_new}
