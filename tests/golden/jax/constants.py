import jax
import jax.numpy as jnp
from jax import lax

jax.config.update("jax_enable_x64", True)


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


def f(a):
    return a * jnp.float32(-2.5)


def k0(x0, y, out0, out1, out2, out3, out4):
    def thread(tid):
        out0_i = jnp.zeros(out0.shape[1:], out0.dtype)
        out1_i = jnp.zeros(out1.shape[1:], out1.dtype)
        out2_i = jnp.zeros(out2.shape[1:], out2.dtype)
        out3_i = jnp.zeros(out3.shape[1:], out3.dtype)
        out4_i = jnp.zeros(out4.shape[1:], out4.dtype)
        i = tid
        t = jnp.float32(0.0)
        # for j in range(C0):
        def for_j(j, t):
            j = jnp.int32(j)
            t = lax.add(t, f(x0[i]) * lax.sub(lax.mul(jnp.int32(j), jnp.int32(3)), jnp.int32(1)).astype(jnp.float32))
            return t
        t = unrolled_loop(3, for_j, t)
        v = jnp.float32(-2.5)
        # for k in range(clamp(i, 0, 2)):
        bound1 = clamp(i, 0, 2)
        def for_k(k, v):
            k = jnp.int32(k)
            mask1 = k < bound1
            v = jnp.where(mask1, v * x0[i], v)
            return v
        v = scan_by_two(2, for_k, v)
        out0_i = lax.add(t, jnp.float32(-5.0)) + v
        out1_i = lax.mul(y[i], jnp.float64(0.1)) + jnp.float64(0.1)
        out2_i = lax.add(i.astype(jnp.uint32) * jnp.uint32(7), jnp.uint32(7))
        out3_i = i.astype(jnp.int64) * jnp.int64(-3)
        out4_i = jnp.array([[1.0, 0.0, 2.0], [0.0, -1.0, 0.0], [0.5, 0.0, 1.0]], dtype=jnp.float32) @ (jnp.array([1.0, -2.5, 0.25], dtype=jnp.float32) * x0[i])
        return out0_i, out1_i, out2_i, out3_i, out4_i
    out0_new, out1_new, out2_new, out3_new, out4_new = jax.vmap(thread)(jnp.arange(x0.shape[0], dtype=jnp.int32))
    return {
        "out0": out0_new,
        "out1": out1_new,
        "out2": out2_new,
        "out3": out3_new,
        "out4": out4_new,
    }
