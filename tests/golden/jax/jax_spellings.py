import jax
import jax.numpy as jnp
from jax import lax


def clamp(x, lo, hi):
    return jnp.minimum(jnp.maximum(x, lo), hi)


def bump(a, v):
    a = a.at[0].add(v)
    return v, a


def spell(x, q, y, r, tot, hi, lo, top):
    def thread(tid):
        y_i = jnp.zeros(y.shape[1:], y.dtype)
        r_i = jnp.zeros(r.shape[1:], r.dtype)
        tot_contrib = jnp.zeros_like(tot)
        hi_contrib = jnp.full_like(hi, jnp.iinfo(jnp.int32).min)
        lo_contrib = jnp.full_like(lo, jnp.inf)
        top_contrib = jnp.full_like(top, -jnp.inf)
        i = tid
        a = jnp.where(x[i] > 0.0, x[i], -x[i])
        b = lax.cond(x[i] < 1.0, lambda: x[i], lambda: jnp.float32(1.0))
        c = lax.select(q[i] > 6, jnp.int32(6), q[i])
        cond1 = x[i] > 0.5
        mask1 = cond1
        mask2 = ~cond1
        ret1, tot_contrib1 = bump(tot_contrib, x[i])
        tot_contrib = jnp.where(mask2, tot_contrib1, tot_contrib)
        d = lax.cond(cond1, lambda: x[i], lambda: ret1)
        e = lax.sub(lax.add(jnp.sin(a), lax.mul(lax.exp(clamp(b, -10.0, 10.0)), jnp.sqrt(jnp.abs(d)))), lax.max(a, b) / (jnp.abs(b) + 1.0))
        f = jnp.floor(e) + lax.min(a, jnp.float32(2.0)) + jnp.cos(b) * jnp.tanh(d)
        k = lax.sub(lax.rem(q[i], jnp.int32(3)) + c * 2, jnp.floor_divide(q[i], 4))
        tot_contrib = tot_contrib.at[0].add(a)
        hi_contrib = hi_contrib.at[0].max(k)
        lo_contrib = lo_contrib.at[0].min(b)
        top_contrib = top_contrib.at[0].max(f)
        s = lax.add(lax.reduce(lax.dynamic_slice_in_dim(x, jnp.clip(i, 0, x.shape[0] - 4), 4), 0.0, lax.add, (0,)), lax.reduce(lax.dynamic_slice_in_dim(x, jnp.clip(i, 0, x.shape[0] - 2), 2), -jnp.inf, lax.max, (0,))) - jnp.min(lax.dynamic_slice_in_dim(x, jnp.clip(lax.add(i, jnp.int32(6)), 0, x.shape[0] - 8), 8))
        y_i = lax.add(e + f, s)
        r_i = k
        return y_i, r_i, tot_contrib, hi_contrib, lo_contrib, top_contrib
    y_new, r_new, tot_contribs, hi_contribs, lo_contribs, top_contribs = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {
        "y": y_new,
        "r": r_new,
        "tot": tot + lax.reduce(tot_contribs, 0.0, lax.add, (0,)),
        "hi": jnp.maximum(hi, jnp.max(hi_contribs, axis=0)),
        "lo": jnp.minimum(lo, lax.reduce(lo_contribs, jnp.inf, lax.min, (0,))),
        "top": jnp.maximum(top, jnp.max(top_contribs, axis=0)),
    }
