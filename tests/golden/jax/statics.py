import jax
import jax.numpy as jnp
from jax import lax


def unrolled_loop(trips, body, carry):
    """A Python loop: unrolled when traced."""
    for k in range(trips):
        carry = body(jnp.int32(k), carry)
    return carry


def k0(x0, n0, out0, out1):
    def thread(tid):
        out0_i = jnp.zeros(out0.shape[1:], out0.dtype)
        out1_i = jnp.zeros(out1.shape[1:], out1.dtype)
        i = tid
        t = jnp.float32(0.0)
        c = jnp.int32(0)
        # for j in range(3):
        def for_j(j, carry):
            t, c = carry
            j = jnp.int32(j)
            t = t + x0[i] * lax.sub(lax.mul(jnp.int32(j), jnp.int32(2)), jnp.int32(1)).astype(jnp.float32)
            c = c + (lax.mul(jnp.int32(-j), jnp.int32(j)) + 7)
            return t, c
        t, c = unrolled_loop(3, for_j, (t, c))
        # for k in range(20):
        def for_k(k, c):
            k = jnp.int32(k)
            c = c + lax.mul(jnp.int32(k), jnp.int32(3))
            return c
        c = lax.fori_loop(0, 20, for_k, c)
        out0_i = t + jnp.float32(0.30000000000000004) - jnp.float32(-2.5)
        out1_i = c + n0[i]
        return out0_i, out1_i
    out0_new, out1_new = jax.vmap(thread)(jnp.arange(x0.shape[0], dtype=jnp.int32))
    return {"out0": out0_new, "out1": out1_new}
