import jax
import jax.numpy as jnp
from jax import lax


def clamp(x, lo, hi):
    return jnp.minimum(jnp.maximum(x, lo), hi)


def scan_loop(trips, body, carry):
    """lax.scan over the indices."""
    return lax.scan(lambda c, k: (body(k, c), None), carry, jnp.arange(trips, dtype=jnp.int32))[0]


def while_loop(trips, body, carry):
    """lax.while_loop over the indices (the carry holds no float: reverse mode passes)."""
    return lax.while_loop(lambda s: s[0] < trips, lambda s: (s[0] + 1, body(s[0], s[1])), (jnp.int32(0), carry))[1]


def loops(x, o, w, n):
    def thread(tid):
        o_i = jnp.zeros(o.shape[1:], o.dtype)
        w_i = jnp.zeros(w.shape[1:], w.dtype)
        i = tid
        acc = jnp.int32(0)
        # for k in range(5):
        broken1 = jnp.array(False)
        def for_k(k, carry):
            acc, broken1 = carry
            continued1 = jnp.array(False)
            k = jnp.int32(k)
            mask1 = ~broken1
            # if k == 1:
            mask2 = mask1 & (k == 1)
            continued1 = continued1 | mask2
            mask3 = mask1 & ~continued1
            # if k == 4 and i > 1:
            mask4 = mask3 & jnp.logical_and(k == 4, i > 1)
            broken1 = broken1 | mask4
            mask5 = mask3 & ~broken1
            acc = jnp.where(mask5, acc + k, acc)
            # for j in range(clamp(n, 0, 3)):
            bound1 = clamp(n, 0, 3)
            def for_j(j, acc):
                j = jnp.int32(j)
                mask6 = mask5 & (j < bound1)
                acc = jnp.where(mask6, acc + lax.mul(x[i], jnp.int32(j)), acc)
                return acc
            acc = while_loop(3, for_j, acc)
            return acc, broken1
        acc, broken1 = scan_loop(5, for_k, (acc, broken1))
        # for z in range(0):
        def for_z(z, acc):
            z = jnp.int32(z)
            acc += 100
            return acc
        acc = while_loop(0, for_z, acc)
        m = x[i]
        c = jnp.int32(0)
        # while c < 10 and m > 1:
        stopped1 = jnp.array(False)
        def while_c(_, carry):
            c, m, stopped1 = carry
            continued2 = jnp.array(False)
            stopped1 = stopped1 | ~(m > 1)
            mask7 = ~stopped1
            c = jnp.where(mask7, c + 1, c)
            # if m % 2 == 0:
            mask8 = mask7 & (jnp.fmod(m, 2) == 0)
            m = jnp.where(mask8, jnp.floor_divide(m, 2), m)
            continued2 = continued2 | mask8
            mask9 = mask7 & ~continued2
            # if m > 20:
            mask10 = mask9 & (m > 20)
            stopped1 = stopped1 | mask10
            mask11 = mask9 & ~stopped1
            m = jnp.where(mask11, 3 * m + 1, m)
            return c, m, stopped1
        c, m, stopped1 = while_loop(10, while_c, (c, m, stopped1))
        o_i = acc
        w_i = lax.add(lax.mul(c, jnp.int32(100)), m)
        return o_i, w_i
    o_new, w_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"o": o_new, "w": w_new}
