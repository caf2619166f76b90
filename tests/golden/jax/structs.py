import jax
import jax.numpy as jnp
from jax import lax


def clamp(x, lo, hi):
    return jnp.minimum(jnp.maximum(x, lo), hi)


def make(x):
    b__mass = jnp.float32(0.0)
    b__pos = jnp.array([0.0, 0.0, 0.0], dtype=jnp.float32)
    b__pair__lo = jnp.float32(0.0)
    b__pair__n = jnp.int32(0)
    b__mass = x
    b__pos = jnp.array([x, lax.mul(jnp.float32(2.0), x), 1.0], dtype=jnp.float32)
    b__pair__n = jnp.int32(3)
    return (b__mass, b__pos, b__pair__lo, b__pair__n)


def weigh(b__mass, b__pos, b__pair__lo, b__pair__n):
    return lax.add(lax.add(lax.add(b__mass, b__pos[1]), b__pair__lo), b__pair__n.astype(jnp.float32))


def split(x):
    return (x * 0.5, jnp.int32(2))


def structs(p__mass, p__pos, p__pair__lo, p__pair__n, x, o, q):
    def thread(tid):
        o_i = jnp.zeros(o.shape[1:], o.dtype)
        q_i = jnp.zeros(q.shape[1:], q.dtype)
        i = tid
        ret1 = make(x[i])
        s__mass = ret1[0]
        s__pos = ret1[1]
        s__pair__lo = ret1[2]
        s__pair__n = ret1[3]
        s__pos = s__pos.at[0].set(p__mass)
        t__mass = s__mass
        t__pos = s__pos
        t__pair__lo = s__pair__lo
        t__pair__n = s__pair__n
        t__mass = jnp.float32(100.0)
        t__pair__lo = p__pair__lo
        ret2 = split(x[i])
        h = ret2[0]
        k = ret2[1]
        # for j in range(clamp(k, 0, 4)):
        bound1 = clamp(k, 0, 4)
        def for_j(j, s__pair__lo):
            j = jnp.int32(j)
            mask1 = j < bound1
            s__pair__lo = jnp.where(mask1, s__pair__lo + h, s__pair__lo)
            return s__pair__lo
        s__pair__lo = lax.fori_loop(0, 4, for_j, s__pair__lo)
        o_i = lax.add(weigh(s__mass, s__pos, s__pair__lo, s__pair__n), weigh(t__mass, t__pos, t__pair__lo, t__pair__n))
        q_i = s__pos + p__pos
        return o_i, q_i
    o_new, q_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"o": o_new, "q": q_new}
