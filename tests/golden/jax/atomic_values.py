import jax
import jax.numpy as jnp
from jax import lax


def scan_by_two(trips, body, carry):
    """lax.scan unrolled two iterations a step (with a remainder for an odd count)."""
    return lax.scan(lambda c, k: (body(k, c), None), carry, jnp.arange(trips, dtype=jnp.int32), unroll=2)[0]


def atomic_values(x, io, iq, y):
    def thread(tid):
        io_i = io[tid]
        iq_i = iq[tid]
        y_i = jnp.zeros(y.shape[1:], y.dtype)
        i = tid
        old1 = io_i
        io_i = io_i + jnp.float32(1.5)
        a = old1
        old2 = io_i
        io_i = io_i - x[i]
        b = old2
        old3 = iq_i
        iq_i = jnp.maximum(iq_i, jnp.int32(3))
        c = old3
        old4 = io_i
        io_i = jnp.minimum(io_i, a)
        d = old4
        # for j in range(2):
        def for_j(j, carry):
            d, io_i = carry
            j = jnp.int32(j)
            # if x[i] > 0.0:
            mask1 = x[i] > 0.0
            old5 = io_i
            io_i = jnp.where(mask1, io_i + d, io_i)
            d = jnp.where(mask1, old5, d)
            return d, io_i
        d, io_i = scan_by_two(2, for_j, (d, io_i))
        y_i = a * 100.0 + lax.mul(b, jnp.float32(10.0)) + c.astype(jnp.float32) + d
        old6 = io_i
        io_i = io_i + jnp.float32(2.0)
        io_i = old6
        return io_i, iq_i, y_i
    io_new, iq_new, y_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"io": io_new, "iq": iq_new, "y": y_new}
