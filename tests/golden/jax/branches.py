import jax
import jax.numpy as jnp
from jax import lax


def bump(cnt, v):
    cnt = cnt.at[0].add(1)
    return lax.add(v, jnp.float32(1.0)), cnt


def branches(x, o, tag, cnt):
    def thread(tid):
        o_i = jnp.zeros(o.shape[1:], o.dtype)
        tag_i = jnp.zeros(tag.shape[1:], tag.dtype)
        cnt_contrib = jnp.zeros_like(cnt)
        i = tid
        t = x[i]
        # if t > 2.0:
        mask1 = t > 2.0
        ret1, cnt_contrib1 = bump(cnt_contrib, t)
        cnt_contrib = jnp.where(mask1, cnt_contrib1, cnt_contrib)
        t = jnp.where(mask1, ret1, t)
        tag_i = jnp.where(mask1, 1, tag_i)
        # elif t > 0.0 and not t > 1.0:
        mask2 = ~mask1 & jnp.logical_and(t > 0.0, jnp.logical_not(t > 1.0))
        tag_i = jnp.where(mask2, 2, tag_i)
        # if i % 2 == 0:
        mask3 = mask2 & (jnp.fmod(i, 2) == 0)
        t = jnp.where(mask3, -t, t)
        # elif t < -1.0 or t == 0.0:
        mask4 = ~mask1 & ~mask2 & jnp.logical_or(t < -1.0, t == 0.0)
        tag_i = jnp.where(mask4, 3, tag_i)
        # else:
        mask5 = ~mask1 & ~mask2 & ~mask4
        tag_i = jnp.where(mask5, 4, tag_i)
        t = jnp.where(mask5, lax.mul(t, jnp.float32(2.0)), t)
        o_i = lax.cond(t >= 0.0, lambda: t, lambda: -t * 10.0)
        return o_i, tag_i, cnt_contrib
    o_new, tag_new, cnt_contribs = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {
        "o": o_new,
        "tag": tag_new,
        "cnt": cnt + lax.reduce(cnt_contribs, 0, lax.add, (0,)),
    }
