import jax
import jax.numpy as jnp
from jax import lax


def clamp(x, lo, hi):
    return jnp.minimum(jnp.maximum(x, lo), hi)


def while_loop(trips, body, carry):
    """lax.while_loop over the indices (the carry holds no float: reverse mode passes)."""
    return lax.while_loop(lambda s: s[0] < trips, lambda s: (s[0] + 1, body(s[0], s[1])), (jnp.int32(0), carry))[1]


def mark(a, v):
    a = a.at[0].set(a[0] | v)
    return v, a


def bits(x, u, acc, flags, par, io, o):
    def thread(tid):
        acc_contrib = jnp.full_like(acc, jnp.int32.dtype.type(-1))
        flags_contrib = jnp.zeros_like(flags)
        par_contrib = jnp.zeros_like(par)
        io_i = io[tid]
        o_i = jnp.zeros(o.shape[1:], o.dtype)
        i = tid
        acc_contrib = acc_contrib.at[0].set(acc_contrib[0] & (x[i] | 1))
        slot1 = clamp(x[i], 0, lax.sub(jnp.int32(par.shape[0]), jnp.int32(1)))
        par_contrib = par_contrib.at[slot1].set(par_contrib[slot1] ^ x[i])
        # if x[i] > 0:
        mask1 = x[i] > 0
        ret1, flags_contrib1 = mark(flags_contrib, u[i])
        flags_contrib = jnp.where(mask1, flags_contrib1, flags_contrib)
        o_i = jnp.where(mask1, ret1, o_i)
        # for k in range(3):
        def for_k(k, par_contrib):
            k = jnp.int32(k)
            slot2 = clamp(i + k, 0, lax.sub(jnp.int32(par.shape[0]), jnp.int32(1)))
            par_contrib = par_contrib.at[slot2].set(par_contrib[slot2] ^ k + x[i])
            return par_contrib
        par_contrib = while_loop(3, for_k, par_contrib)
        slot3 = clamp(i, 0, jnp.int32(flags.shape[0]) - 1)
        flags_contrib = flags_contrib.at[slot3].set(flags_contrib[slot3] | u[i] & 12)
        old1 = io_i
        io_i = io_i & (x[i] ^ 5)
        v = old1
        io_i = lax.add(io_i, v)
        return acc_contrib, flags_contrib, par_contrib, io_i, o_i
    acc_contribs, flags_contribs, par_contribs, io_new, o_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {
        "acc": acc & lax.reduce(acc_contribs, jnp.int32.dtype.type(-1), lax.bitwise_and, (0,)),
        "flags": flags | lax.reduce(flags_contribs, 0, lax.bitwise_or, (0,)),
        "par": par ^ lax.reduce(par_contribs, 0, lax.bitwise_xor, (0,)),
        "io": io_new,
        "o": o_new,
    }
