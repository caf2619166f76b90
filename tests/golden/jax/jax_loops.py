import jax
import jax.numpy as jnp
from jax import lax


def clamp(x, lo, hi):
    return jnp.minimum(jnp.maximum(x, lo), hi)


def scan_loop(trips, body, carry):
    """lax.scan over the indices."""
    return lax.scan(lambda c, k: (body(k, c), None), carry, jnp.arange(trips, dtype=jnp.int32))[0]


def scan_by_two(trips, body, carry):
    """lax.scan unrolled two iterations a step (with a remainder for an odd count)."""
    return lax.scan(lambda c, k: (body(k, c), None), carry, jnp.arange(trips, dtype=jnp.int32), unroll=2)[0]


def while_loop(trips, body, carry):
    """lax.while_loop over the indices (the carry holds no float: reverse mode passes)."""
    return lax.while_loop(lambda s: s[0] < trips, lambda s: (s[0] + 1, body(s[0], s[1])), (jnp.int32(0), carry))[1]


def unrolled_loop(trips, body, carry):
    """A Python loop: unrolled when traced."""
    for k in range(trips):
        carry = body(jnp.int32(k), carry)
    return carry


def loops(x, n, y, acc):
    def thread(tid):
        y_i = jnp.zeros(y.shape[1:], y.dtype)
        acc_contrib = jnp.zeros_like(acc)
        i = tid
        s = jnp.float32(0.0)
        # for a in range(4):
        def for_a(a, s):
            a = jnp.int32(a)
            s += x[clamp(i + a, 0, lax.sub(jnp.int32(x.shape[0]), jnp.int32(1)))]
            return s
        s = lax.fori_loop(0, 4, for_a, s)
        # for b in range(5):
        broken1 = jnp.array(False)
        def for_b(b, carry):
            s, broken1 = carry
            b = jnp.int32(b)
            mask1 = ~broken1
            # if s > 10.0:
            mask2 = mask1 & (s > 10.0)
            broken1 = broken1 | mask2
            mask3 = mask1 & ~broken1
            s = jnp.where(mask3, s * 0.5 + 1.0, s)
            return s, broken1
        s, broken1 = scan_loop(5, for_b, (s, broken1))
        # for c in range(clamp(n, 0, 6)):
        bound1 = clamp(n, 0, 6)
        def for_c(c, s):
            continued1 = jnp.array(False)
            c = jnp.int32(c)
            mask4 = c < bound1
            # if c == 2:
            mask5 = mask4 & (c == 2)
            continued1 = continued1 | mask5
            mask6 = mask4 & ~continued1
            s = jnp.where(mask6, s + c.astype(jnp.float32), s)
            return s
        s = scan_by_two(6, for_c, s)
        # for d in range(7):
        def for_d(d, carry):
            acc_contrib, s = carry
            d = jnp.int32(d)
            acc_contrib = acc_contrib.at[0].add(s * 0.01)
            s -= 0.25
            return acc_contrib, s
        acc_contrib, s = unrolled_loop(7, for_d, (acc_contrib, s))
        # for e in range(20):
        def for_e(e, s):
            e = jnp.int32(e)
            s += 0.125
            return s
        s = lax.fori_loop(0, 20, for_e, s)
        # for f in range(23):
        def for_f(f, s):
            f = jnp.int32(f)
            s *= 0.99
            return s
        s = lax.fori_loop(0, 23, for_f, s)
        w = jnp.int32(0)
        # while w < 9 and s < 100.0:
        stopped1 = jnp.array(False)
        def while_w(_, carry):
            w, s, stopped1 = carry
            stopped1 = stopped1 | ~(s < 100.0)
            mask7 = ~stopped1
            w = jnp.where(mask7, w + 1, w)
            s = jnp.where(mask7, s + 3.0, s)
            return w, s, stopped1
        w, s, stopped1 = scan_loop(9, while_w, (w, s, stopped1))
        m = jnp.int32(0)
        # for g in range(3):
        def for_g(g, m):
            g = jnp.int32(g)
            m += jnp.int32(g) * 2
            return m
        m = while_loop(3, for_g, m)
        k = jnp.int32(0)
        # while k < 10 and m < 50:
        stopped2 = jnp.array(False)
        def while_k(_, carry):
            k, m, stopped2 = carry
            continued2 = jnp.array(False)
            stopped2 = stopped2 | ~(m < 50)
            mask8 = ~stopped2
            k = jnp.where(mask8, k + 1, k)
            # if m % 3 == 0:
            mask9 = mask8 & (jnp.fmod(m, 3) == 0)
            continued2 = continued2 | mask9
            mask10 = mask8 & ~continued2
            m = jnp.where(mask10, m + k, m)
            return k, m, stopped2
        k, m, stopped2 = while_loop(10, while_k, (k, m, stopped2))
        y_i = lax.add(s, m.astype(jnp.float32))
        return y_i, acc_contrib
    y_new, acc_contribs = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"y": y_new, "acc": acc + lax.reduce(acc_contribs, 0.0, lax.add, (0,))}
