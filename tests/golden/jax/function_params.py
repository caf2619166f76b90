import jax
import jax.numpy as jnp
from jax import lax


def sq(a):
    return a * a


def neg(a):
    return -a


def apply__sq(a):
    v = sq(a)
    return lax.add(v, jnp.float32(1.0))


def apply__neg(a):
    v = neg(a)
    return lax.add(v, jnp.float32(1.0))


def twice__neg(b, n):
    return lax.mul(apply__neg(neg(b)), n.astype(jnp.float32))


def higher_order(x, o):
    def thread(tid):
        o_i = jnp.zeros(o.shape[1:], o.dtype)
        i = tid
        o_i = lax.add(lax.mul(apply__sq(x[i]), apply__neg(x[i])), twice__neg(x[i], jnp.int32(2)))
        return o_i
    o_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"o": o_new}
