import jax
import jax.numpy as jnp
from jax import lax


def clamp(x, lo, hi):
    return jnp.minimum(jnp.maximum(x, lo), hi)


def k2(x, v, n, y, io, w, z, s):
    def thread(tid):
        y_i = jnp.zeros(y.shape[1:], y.dtype)
        io_i = io[tid]
        w_i = jnp.zeros(w.shape[1:], w.dtype)
        i = tid
        last = jnp.int32(x.shape[1]) - 1
        t = x[i, clamp(s, 0, jnp.int32(x.shape[1]) - 1)] + x[clamp(i + 1, 0, lax.sub(jnp.int32(x.shape[0]), jnp.int32(1))), clamp(last, 0, jnp.int32(x.shape[1]) - 1)] * z[i]
        # for j in range(4):
        def for_j(j, t):
            j = jnp.int32(j)
            # if j < x.shape[1]:
            mask1 = j < jnp.int32(x.shape[1])
            t = jnp.where(mask1, t + lax.mul(x[i, j], (jnp.int32(j) + 1).astype(jnp.float32)), t)
            return t
        t = lax.fori_loop(0, 4, for_j, t)
        u = lax.cond(jnp.logical_and(0 <= s, s < jnp.int32(x.shape[1])), lambda: x[i, s], lambda: jnp.float32(0.5))
        r = i + s
        # if 0 <= r and r < len(x) and 0 <= s and s < x.shape[1]:
        mask2 = jnp.logical_and(jnp.logical_and(jnp.logical_and(0 <= r, r < jnp.int32(x.shape[0])), 0 <= s), s < jnp.int32(x.shape[1]))
        u = jnp.where(mask2, u + x[r, s], u)
        y_i = y_i.at[clamp(0, 0, jnp.int32(y.shape[1]) - 1)].set(t)
        y_i = y_i.at[clamp(i, 0, jnp.int32(y.shape[1]) - 1)].set(lax.add(u, n[i, clamp(lax.add(s, jnp.int32(1)), 0, jnp.int32(n.shape[1]) - 1)].astype(jnp.float32)))
        io_i = io_i.at[clamp(i + 2, 0, jnp.int32(io.shape[1]) - 1)].set(io_i[clamp(i + 2, 0, jnp.int32(io.shape[1]) - 1)] + t * 0.25)
        io_i = io_i.at[clamp(s, 0, jnp.int32(io.shape[1]) - 1)].set(lax.mul(io_i[clamp(s, 0, jnp.int32(io.shape[1]) - 1)], jnp.float32(2.0)) - io_i[clamp(1, 0, jnp.int32(io.shape[1]) - 1)])
        w_i = w_i.at[clamp(s, 0, jnp.int32(w.shape[1]) - 1)].set(lax.add(v[i, clamp(s, 0, jnp.int32(v.shape[1]) - 1)] * t, jnp.cross(v[i, clamp(1, 0, jnp.int32(v.shape[1]) - 1)], jnp.array([1.0, 0.0, 2.0], dtype=jnp.float32))))
        w_i = w_i.at[clamp(lax.add(s, jnp.int32(1)), 0, jnp.int32(w.shape[1]) - 1), 1].set(t - u)
        w_i = w_i.at[clamp(i, 0, jnp.int32(w.shape[1]) - 1), 2].set(io_i[clamp(0, 0, jnp.int32(io.shape[1]) - 1)])
        return y_i, io_i, w_i
    y_new, io_new, w_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"y": y_new, "io": io_new, "w": w_new}
