import jax
import jax.numpy as jnp
from jax import lax


def clamp(x, lo, hi):
    return jnp.minimum(jnp.maximum(x, lo), hi)


def scan_by_two(trips, body, carry):
    """lax.scan unrolled two iterations a step (with a remainder for an odd count)."""
    return lax.scan(lambda c, k: (body(k, c), None), carry, jnp.arange(trips, dtype=jnp.int32), unroll=2)[0]


def unrolled_loop(trips, body, carry):
    """A Python loop: unrolled when traced."""
    for k in range(trips):
        carry = body(jnp.int32(k), carry)
    return carry


def build(a):
    m = jnp.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], dtype=jnp.float32)
    m = m.at[1, 2].set(a)
    m = m.at[0, 0].set(lax.add(a, jnp.float32(1.0)))
    m = m.at[2].set(jnp.array([a, a, a], dtype=jnp.float32))
    return m


def k(x, y, n):
    def thread(tid):
        y_i = jnp.zeros(y.shape[1:], y.dtype)
        i = tid
        m = build(x[i])
        # for j in range(clamp(n, 0, 3)):
        bound1 = clamp(n, 0, 3)
        def for_j(j, m):
            j = jnp.int32(j)
            mask1 = j < bound1
            m = m.at[1, 0].set(jnp.where(mask1, lax.add(m[1][0], x[i]), m[1, 0]))
            m = m.at[2, 1].set(jnp.where(mask1, m[2][1] + 1.0, m[2, 1]))
            # if x[i] > 1.5:
            mask2 = mask1 & (x[i] > 1.5)
            m = m.at[0].set(jnp.where(mask2, m[2] * 2.0, m[0]))
            return m
        m = unrolled_loop(3, for_j, m)
        # for k in range(2):
        def for_k(k, m):
            k = jnp.int32(k)
            m = m.at[0, 1].set(lax.add(m[0][1], jnp.float32(0.5)))
            return m
        m = scan_by_two(2, for_k, m)
        y_i = m
        return y_i
    y_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"y": y_new}
