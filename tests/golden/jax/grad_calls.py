import jax
import jax.numpy as jnp
from jax import lax


def clamp(x, lo, hi):
    return jnp.minimum(jnp.maximum(x, lo), hi)


def unrolled_loop(trips, body, carry):
    """A Python loop: unrolled when traced."""
    for k in range(trips):
        carry = body(jnp.int32(k), carry)
    return carry


def twice(a):
    return a * 2.0


def derivatives(x, s, o):
    def thread(tid):
        o_i = jnp.zeros(o.shape[1:], o.dtype)
        i = tid
        a = lax.stop_gradient(jax.grad(jnp.sin)(x[i])) + lax.stop_gradient(jax.grad(jnp.cos)(s))
        # if grad(tanh, twice(x[i])) > 0.25:
        mask1 = lax.stop_gradient(jax.grad(jnp.tanh)(twice(x[i]))) > 0.25
        a = jnp.where(mask1, lax.mul(a, lax.stop_gradient(jax.grad(jnp.exp)(clamp(x[i], -10.0, 10.0)))), a)
        # for k in range(3):
        def for_k(k, a):
            k = jnp.int32(k)
            a = a - lax.stop_gradient(jax.grad(jnp.tanh)(k.astype(jnp.float32)))
            return a
        a = unrolled_loop(3, for_k, a)
        o_i = a
        return o_i
    o_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"o": o_new}
