import jax
import jax.numpy as jnp
from jax import lax


def unrolled_loop(trips, body, carry):
    """A Python loop: unrolled when traced."""
    for k in range(trips):
        carry = body(jnp.int32(k), carry)
    return carry


def size(a, v):
    return v + jnp.int32(a.shape[0]).astype(jnp.float32)


def deep(a, v):
    a = a.at[0].add(v)
    return size(a, v), a


def outer(a, v):
    u = v
    # for k in range(3):
    broken1 = jnp.array(False)
    def for_k(k, carry):
        u, a, broken1 = carry
        k = jnp.int32(k)
        mask1 = ~broken1
        # if u > 1.0:
        mask2 = mask1 & (u > 1.0)
        broken1 = broken1 | mask2
        mask3 = mask1 & ~broken1
        ret1, a1 = deep(a, u)
        a = jnp.where(mask3, a1, a)
        u = jnp.where(mask3, ret1, u)
        u = jnp.where(mask3, u * 0.5, u)
        return u, a, broken1
    u, a, broken1 = unrolled_loop(3, for_k, (u, a, broken1))
    ret2, a = deep(a, u)
    return ret2, a


def nesting(x, o, a, b, lam):
    def thread(tid):
        o_i = jnp.zeros(o.shape[1:], o.dtype)
        a_contrib = jnp.zeros_like(a)
        i = tid
        total = x[i] + lam
        # for k in range(3):
        def for_k(k, carry):
            total, a_contrib = carry
            k = jnp.int32(k)
            c = jnp.int32(0)
            # while c < 4:
            stopped1 = jnp.array(False)
            def while_c(_, carry):
                c, total, stopped1 = carry
                continued1 = jnp.array(False)
                mask1 = ~stopped1
                c = jnp.where(mask1, c + 1, c)
                # if c == 2:
                mask2 = mask1 & (c == 2)
                continued1 = continued1 | mask2
                mask3 = mask1 & ~continued1
                total = jnp.where(mask3, total + 1.0, total)
                # if total > 3.0:
                mask4 = mask3 & (total > 3.0)
                stopped1 = stopped1 | mask4
                return c, total, stopped1
            c, total, stopped1 = lax.fori_loop(0, 4, while_c, (c, total, stopped1))
            # if k == 1:
            mask5 = k == 1
            ret1, a_contrib1 = outer(a_contrib, total)
            a_contrib = jnp.where(mask5, a_contrib1, a_contrib)
            total = jnp.where(mask5, ret1, total)
            # else:
            mask6 = ~mask5
            total = jnp.where(mask6, size(b, total), total)
            return total, a_contrib
        total, a_contrib = unrolled_loop(3, for_k, (total, a_contrib))
        o_i = total
        return o_i, a_contrib
    o_new, a_contribs = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {
        "o": o_new,
        "a": a + lax.reduce(a_contribs, 0.0, lax.add, (0,)),
        "b": b,
    }


def no_arrays(s, t):
    def thread(tid):
        v = s * t.astype(jnp.float32)
    # the kernel writes no array
    return {}


def only_in(x):
    def thread(tid):
        i = tid
        v = x[i]
    # the kernel writes no array
    return {}
