import jax
import jax.numpy as jnp
from jax import lax


def clamp(x, lo, hi):
    return jnp.minimum(jnp.maximum(x, lo), hi)


def unrolled_loop(trips, body, carry):
    """A Python loop: unrolled when traced."""
    for k in range(trips):
        carry = body(jnp.int32(k), carry)
    return carry


def tick(hits, slot, v):
    hits = hits.at[clamp(slot, 0, jnp.int32(hits.shape[0]) - 1)].add(1)
    return v, hits


def effects(x, hits, o):
    def thread(tid):
        hits_contrib = jnp.zeros_like(hits)
        o_i = jnp.zeros(o.shape[1:], o.dtype)
        i = tid
        t = jnp.float32(0.0)
        # if x[i] > 0.0 and tick(hits, 0, x[i]) > 1.0:
        cond1 = x[i] > 0.0
        mask1 = cond1
        ret1, hits_contrib1 = tick(hits_contrib, jnp.int32(0), x[i])
        hits_contrib = jnp.where(mask1, hits_contrib1, hits_contrib)
        mask2 = jnp.logical_and(cond1, ret1 > 1.0)
        t = jnp.where(mask2, 1.0, t)
        # elif x[i] < -1.0 or tick(hits, 1, x[i]) > 100.0:
        mask3 = ~mask2
        cond2 = x[i] < -1.0
        mask4 = mask3 & ~cond2
        ret2, hits_contrib2 = tick(hits_contrib, jnp.int32(1), x[i])
        hits_contrib = jnp.where(mask4, hits_contrib2, hits_contrib)
        mask5 = mask3 & jnp.logical_or(cond2, ret2 > 100.0)
        t = jnp.where(mask5, 2.0, t)
        cond3 = x[i] > 2.0
        mask6 = cond3
        ret3, hits_contrib3 = tick(hits_contrib, jnp.int32(2), jnp.float32(1.0))
        hits_contrib = jnp.where(mask6, hits_contrib3, hits_contrib)
        mask7 = ~cond3
        ret4, hits_contrib4 = tick(hits_contrib, jnp.int32(3), jnp.float32(2.0))
        hits_contrib = jnp.where(mask7, hits_contrib4, hits_contrib)
        u = lax.select(cond3, ret3, ret4)
        ret5, hits_contrib = tick(hits_contrib, jnp.int32(4), jnp.float32(3.0))
        ret6, hits_contrib = tick(hits_contrib, jnp.int32(5), jnp.float32(4.0))
        v = lax.cond(x[i] > 2.0, lambda: ret5, lambda: lax.cond(x[i] > 2.0, lambda: ret6, lambda: jnp.float32(0.0)))
        w = jnp.int32(0)
        # while w < 3 and tick(hits, 6, float(w)) < x[i]:
        stopped1 = jnp.array(False)
        def while_w(_, carry):
            w, hits_contrib, stopped1 = carry
            mask8 = ~stopped1
            ret7, hits_contrib5 = tick(hits_contrib, jnp.int32(6), w.astype(jnp.float32))
            hits_contrib = jnp.where(mask8, hits_contrib5, hits_contrib)
            stopped1 = stopped1 | ~(ret7 < x[i])
            mask9 = ~stopped1
            w = jnp.where(mask9, w + 1, w)
            return w, hits_contrib, stopped1
        w, hits_contrib, stopped1 = unrolled_loop(3, while_w, (w, hits_contrib, stopped1))
        o_i = lax.add(t + u + v, w.astype(jnp.float32))
        return hits_contrib, o_i
    hits_contribs, o_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"hits": hits + lax.reduce(hits_contribs, 0, lax.add, (0,)), "o": o_new}
