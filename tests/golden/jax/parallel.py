import jax
import jax.numpy as jnp
from jax import lax


def clamp(x, lo, hi):
    return jnp.minimum(jnp.maximum(x, lo), hi)


def scan_by_two(trips, body, carry):
    """lax.scan unrolled two iterations a step (with a remainder for an odd count)."""
    return lax.scan(lambda c, k: (body(k, c), None), carry, jnp.arange(trips, dtype=jnp.int32), unroll=2)[0]


def fib(a0, b0, n):
    ret1 = (a0, b0)
    a = ret1[0]
    b = ret1[1]
    # for j in range(clamp(n, 0, 6)):
    bound1 = clamp(n, 0, 6)
    def for_j(j, carry):
        a, b = carry
        j = jnp.int32(j)
        mask1 = j < bound1
        ret2 = (b, lax.add(a, b))
        a = jnp.where(mask1, ret2[0], a)
        b = jnp.where(mask1, ret2[1], b)
        return a, b
    a, b = scan_by_two(6, for_j, (a, b))
    return a


def parallel(x, o, q, v):
    def thread(tid):
        o_i = jnp.zeros(o.shape[1:], o.dtype)
        q_i = jnp.zeros(q.shape[1:], q.dtype)
        v_i = jnp.zeros(v.shape[1:], v.dtype)
        i = tid
        a = x[i]
        b = jnp.float32(2.0)
        c = jnp.float32(-1.0)
        ret1 = (b, a)
        a = ret1[0]
        b = ret1[1]
        ret2 = (b, c, a)
        a = ret2[0]
        b = ret2[1]
        c = ret2[2]
        ret3 = (a * 2.0, i + 1)
        t = ret3[0]
        m = ret3[1]
        ret4 = (jnp.array([a, b, c], dtype=jnp.float32), jnp.float32(0.5))
        u = ret4[0]
        w = ret4[1]
        # for k in range(clamp(i, 0, 4)):
        bound1 = clamp(i, 0, 4)
        def for_k(k, carry):
            m, t = carry
            k = jnp.int32(k)
            mask1 = k < bound1
            ret5 = (m + k, t - w)
            m = jnp.where(mask1, ret5[0], m)
            t = jnp.where(mask1, ret5[1], t)
            return m, t
        m, t = lax.fori_loop(0, 4, for_k, (m, t))
        o_i = lax.add(fib(a, b, i), t)
        q_i = m
        v_i = u * w
        return o_i, q_i, v_i
    o_new, q_new, v_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"o": o_new, "q": q_new, "v": v_new}
