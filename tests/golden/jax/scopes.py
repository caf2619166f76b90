import jax
import jax.numpy as jnp
from jax import lax


def clamp(x, lo, hi):
    return jnp.minimum(jnp.maximum(x, lo), hi)


def scan_by_two(trips, body, carry):
    """lax.scan unrolled two iterations a step (with a remainder for an odd count)."""
    return lax.scan(lambda c, k: (body(k, c), None), carry, jnp.arange(trips, dtype=jnp.int32), unroll=2)[0]


def pick(a, b):
    m = jnp.float32(0.0)
    # if a < b:
    mask1 = a < b
    m = jnp.where(mask1, a, m)
    # else:
    mask2 = ~mask1
    m = jnp.where(mask2, b, m)
    return m * 2.0


def scopes(x, v, y, w, n):
    def thread(tid):
        y_i = jnp.zeros(y.shape[1:], y.dtype)
        w_i = jnp.zeros(w.shape[1:], w.dtype)
        i = tid
        a = jnp.float32(0.0)
        u = jnp.array([0.0, 0.0, 0.0], dtype=jnp.float32)
        # if x[i] > 1.0:
        mask1 = x[i] > 1.0
        a = jnp.where(mask1, lax.mul(x[i], jnp.float32(2.0)), a)
        u = jnp.where(mask1, v[i], u)
        # elif x[i] > -1.0:
        mask2 = ~mask1 & (x[i] > -1.0)
        a = jnp.where(mask2, 7.0, a)
        # if x[i] > 0.0:
        mask3 = mask2 & (x[i] > 0.0)
        u = jnp.where(mask3, jnp.array([x[i], 0.0, 1.0], dtype=jnp.float32), u)
        # else:
        mask4 = mask2 & ~mask3
        u = jnp.where(mask4, v[i] * 0.5, u)
        # else:
        mask5 = ~mask1 & ~mask2
        t = jnp.float32(-1.0)
        a = jnp.where(mask5, t - x[i], a)
        u = jnp.where(mask5, jnp.array([0.0, 0.0, 0.0], dtype=jnp.float32), u)
        s = jnp.float32(0.0)
        # for j in range(clamp(n, 0, 6)):
        bound1 = clamp(n, 0, 6)
        def for_j(j, s):
            j = jnp.int32(j)
            mask6 = j < bound1
            c = jnp.float32(0.0)
            # if j % 2 == 0:
            mask7 = mask6 & (jnp.fmod(jnp.int32(j), 2) == 0)
            c = jnp.where(mask7, j.astype(jnp.float32), c)
            # else:
            mask8 = mask6 & ~mask7
            c = jnp.where(mask8, -1.0, c)
            s = jnp.where(mask6, s + c, s)
            return s
        s = scan_by_two(6, for_j, s)
        # for j in range(2):
        def for_j_1(j, s):
            j = jnp.int32(j)
            t = x[i] + j.astype(jnp.float32)
            s += t
            return s
        s = scan_by_two(2, for_j_1, s)
        y_i = lax.add(lax.add(a, s), pick(x[i], a))
        w_i = u
        return y_i, w_i
    y_new, w_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"y": y_new, "w": w_new}
