import jax
import jax.numpy as jnp
from jax import lax


def scan_by_two(trips, body, carry):
    """lax.scan unrolled two iterations a step (with a remainder for an odd count)."""
    return lax.scan(lambda c, k: (body(k, c), None), carry, jnp.arange(trips, dtype=jnp.int32), unroll=2)[0]


def pick(a):
    return a * 2 - 1


def elements(x, y, n, s, o):
    def thread(tid):
        o_i = jnp.zeros(o.shape[1:], o.dtype)
        i = tid
        a = lax.add(jnp.reshape(lax.dynamic_slice_in_dim(x, jnp.clip(i, 0, x.shape[0] - 4), 4), (2, 2))[jnp.clip(1, 0, 1), jnp.clip(0, 0, 1)], jnp.reshape(jnp.sin(lax.dynamic_slice_in_dim(y, jnp.clip(i - 1, 0, y.shape[0] - 8), 8)), (2, 4))[jnp.clip(n, 0, 1), jnp.clip(i, 0, 3)])
        # for k in range(2):
        def for_k(k, a):
            k = jnp.int32(k)
            a = a - jnp.reshape(jnp.multiply(lax.dynamic_slice_in_dim(x, jnp.clip(jnp.int32(k), 0, x.shape[0] - 2), 2), jnp.full(2, s, dtype=jnp.float32)), (2, 1))[jnp.clip(k, 0, 1), jnp.clip(-5, 0, 0)]
            return a
        a = scan_by_two(2, for_k, a)
        o_i = a * jnp.reshape(jnp.reshape(jnp.matmul(jnp.reshape(lax.dynamic_slice_in_dim(x, jnp.clip(jnp.int32(0), 0, x.shape[0] - 4), 4), (2, 2)), jnp.reshape(lax.dynamic_slice_in_dim(y, jnp.clip(i, 0, y.shape[0] - 4), 4), (2, 2))), (4,)), (2, 2))[jnp.clip(pick(n), 0, 1), jnp.clip(7, 0, 1)]
        return o_i
    o_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"o": o_new}
