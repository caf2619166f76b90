import jax
import jax.numpy as jnp
from jax import lax


def unrolled_loop(trips, body, carry):
    """A Python loop: unrolled when traced."""
    for k in range(trips):
        carry = body(jnp.int32(k), carry)
    return carry


def tiles(x, y, s, o, q):
    def thread(tid):
        o_i = jnp.zeros(o.shape[1:], o.dtype)
        q_i = jnp.zeros(q.shape[1:], q.dtype)
        i = tid
        a = jnp.sum(jnp.multiply(lax.dynamic_slice_in_dim(x, jnp.clip(i, 0, x.shape[0] - 4), 4), jnp.sin(lax.dynamic_slice_in_dim(y, jnp.clip(i - 2, 0, y.shape[0] - 4), 4))))
        # if tile_max(tile_load(y, 2 * i, 2)) > s:
        mask1 = jnp.max(lax.dynamic_slice_in_dim(y, jnp.clip(lax.mul(jnp.int32(2), i), 0, y.shape[0] - 2), 2)) > s
        a = jnp.where(mask1, a + jnp.min(jnp.maximum(lax.dynamic_slice_in_dim(x, jnp.clip(jnp.int32(0), 0, x.shape[0] - 8), 8), jnp.abs(lax.dynamic_slice_in_dim(y, jnp.clip(jnp.int32(y.shape[0]), 0, y.shape[0] - 8), 8)))), a)
        # for k in range(3):
        def for_k(k, a):
            k = jnp.int32(k)
            a = a - jnp.sum(jnp.floor(jnp.multiply(lax.dynamic_slice_in_dim(x, jnp.clip(i + k, 0, x.shape[0] - 2), 2), jnp.full(2, s, dtype=jnp.float32))))
            return a
        a = unrolled_loop(3, for_k, a)
        m = lax.reduce(jnp.reshape(jnp.matmul(jnp.reshape(lax.dynamic_slice_in_dim(x, jnp.clip(i, 0, x.shape[0] - 4), 4), (2, 2)), jnp.reshape(jnp.abs(lax.dynamic_slice_in_dim(y, jnp.clip(i, 0, y.shape[0] - 4), 4)), (2, 2))), (4,)), -jnp.inf, lax.max, (0,))
        o_i = a + lax.reduce(jnp.multiply(jnp.reshape(jnp.matmul(jnp.reshape(lax.dynamic_slice_in_dim(y, jnp.clip(i + 1, 0, y.shape[0] - 8), 8), (2, 4)), jnp.reshape(lax.dynamic_slice_in_dim(x, jnp.clip(jnp.int32(3), 0, x.shape[0] - 8), 8), (4, 2))), (4,)), lax.dynamic_slice_in_dim(x, jnp.clip(i, 0, x.shape[0] - 4), 4)), 0.0, lax.add, (0,)) - m
        q_i = lax.reduce(jnp.subtract(jnp.tanh(lax.dynamic_slice_in_dim(x, jnp.clip(i, 0, x.shape[0] - 8), 8)), jnp.cos(lax.dynamic_slice_in_dim(y, jnp.clip(i, 0, y.shape[0] - 8), 8))), -jnp.inf, lax.max, (0,))
        return o_i, q_i
    o_new, q_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"o": o_new, "q": q_new}
