import jax
import jax.numpy as jnp
from jax import lax


def clamp(x, lo, hi):
    return jnp.minimum(jnp.maximum(x, lo), hi)


def tally(hits, low, k, v):
    hits = hits.at[0].add(1)
    low = low.at[clamp(k, 0, lax.sub(jnp.int32(low.shape[0]), jnp.int32(1)))].min(v)
    return lax.mul(k, jnp.int32(2)), hits, low


def twice(a, b, v):
    a = a.at[0].add(v)
    b = b.at[0].add(v)
    return v, a, b


def half(v):
    return lax.mul(v, jnp.float32(0.5))


def roles(x, q, o, y, hits, low, high, total, s):
    def thread(tid):
        o_i = jnp.zeros(o.shape[1:], o.dtype)
        y_i = y[tid]
        hits_contrib = jnp.zeros_like(hits)
        low_contrib = jnp.full_like(low, jnp.inf)
        high_contrib = jnp.full_like(high, jnp.iinfo(jnp.int32).min)
        total_contrib = jnp.zeros_like(total)
        i = tid
        k = jnp.floor_divide(q[i], 3)
        r = lax.rem(q[i], jnp.int32(3))
        d, hits_contrib, low_contrib = tally(hits_contrib, low_contrib, k, x[i])
        o_i = lax.add(d, r)
        y_i += half(x[i]) * s
        high_contrib = high_contrib.at[0].max(jnp.trunc(x[i]).astype(jnp.int32))
        total_contrib = total_contrib.at[i].add(x[i])
        total_contrib = total_contrib.at[0].add(-r.astype(jnp.float32))
        # if x[i] > 0.0:
        mask1 = x[i] > 0.0
        z, total_contrib1, total_contrib2 = twice(total_contrib, jnp.zeros_like(total_contrib), x[i])
        total_contrib = jnp.where(mask1, total_contrib1 + total_contrib2, total_contrib)
        y_i = jnp.where(mask1, y_i - z, y_i)
        return o_i, y_i, hits_contrib, low_contrib, high_contrib, total_contrib
    o_new, y_new, hits_contribs, low_contribs, high_contribs, total_contribs = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {
        "o": o_new,
        "y": y_new,
        "hits": hits + lax.reduce(hits_contribs, 0, lax.add, (0,)),
        "low": jnp.minimum(low, lax.reduce(low_contribs, jnp.inf, lax.min, (0,))),
        "high": jnp.maximum(high, lax.reduce(high_contribs, jnp.int32.dtype.type(jnp.iinfo(jnp.int32).min), lax.max, (0,))),
        "total": total + jnp.sum(total_contribs, axis=0, dtype=total.dtype),
    }
