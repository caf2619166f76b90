import jax
import jax.numpy as jnp
from jax import lax


def clamp(x, lo, hi):
    return jnp.minimum(jnp.maximum(x, lo), hi)


def length(v):
    """|v|; its gradient at the zero vector is zero, as Warp's adjoint gives."""
    s = jnp.sum(v * v, axis=-1)
    return jnp.where(s > 0, jnp.sqrt(jnp.where(s > 0, s, 1)), 0)


def normalize(v):
    """v / length(v); the zero vector normalizes to zero, as in Warp."""
    n = length(v)
    return jnp.where(n > 0, v / jnp.where(n > 0, n, 1), 0)


def vectors(p, m, o, lens, uv, acc, d):
    def thread(tid):
        o_i = jnp.zeros(o.shape[1:], o.dtype)
        lens_i = jnp.zeros(lens.shape[1:], lens.dtype)
        uv_i = uv[tid]
        acc_contrib = jnp.zeros_like(acc)
        i = tid
        v = p[i]
        # if v.x > 0.0:
        mask1 = v[0] > 0.0
        v = v.at[1].set(jnp.where(mask1, 5.0, v[1]))
        v = v.at[2].set(lax.add(v[2], jnp.float32(1.0)))
        w = m[i] @ v
        o_i = lax.add(jnp.cross(v, d), normalize(w - w)) + w * 0.5
        lens_i = length(jnp.array([3.0, 4.0, 0.0], dtype=jnp.float32)) * jnp.dot(v, d) + length(normalize(v))
        q = uv_i
        q = q.at[0].set(lax.mul(q[0], jnp.float32(2.0)))
        uv_i = q + jnp.array([0.0, v[2]], dtype=jnp.float32)
        acc_contrib = acc_contrib.at[0].add(v)
        acc_contrib = acc_contrib.at[i].add(-(d * 2.0))
        ident = jnp.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 3.0]], dtype=jnp.float32)
        acc_contrib = acc_contrib.at[clamp(1, 0, lax.sub(jnp.int32(acc.shape[0]), jnp.int32(1)))].add(ident @ jnp.array([1.0, 1.0, 1.0], dtype=jnp.float32))
        return o_i, lens_i, uv_i, acc_contrib
    o_new, lens_new, uv_new, acc_contribs = jax.vmap(thread)(jnp.arange(p.shape[0], dtype=jnp.int32))
    return {
        "o": o_new,
        "lens": lens_new,
        "uv": uv_new,
        "acc": acc + lax.reduce(acc_contribs, 0.0, lax.add, (0,)),
    }
