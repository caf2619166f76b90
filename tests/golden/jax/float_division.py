import jax
import jax.numpy as jnp
from jax import lax

jax.config.update("jax_enable_x64", True)


def divisor(a, b):
    """b, as a divisor of a that XLA cannot fold. XLA turns a division by a
    constant into a product with its reciprocal, an ulp off, which a floor,
    a cast to int or a comparison can turn into another value (float32
    floor(x / 0.007) would be 0 at x = 0.007); a divisor that depends on the
    dividend is no constant, and is b itself (a NaN dividend gives NaN
    either way)."""
    return jnp.where(a != a, b + 1, b)


def floor_div(a, b):
    """floor(a / b), the quotient rounded as IEEE divides (Warp's float //)."""
    return jnp.floor(a / divisor(a, b))


def clamp(x, lo, hi):
    return jnp.minimum(jnp.maximum(x, lo), hi)


def steps(a, b):
    return lax.sub(floor_div(a, b), lax.rem(a, b))


def float_division(x, d, o, q, r, z):
    def thread(tid):
        o_i = jnp.zeros(o.shape[1:], o.dtype)
        q_i = jnp.zeros(q.shape[1:], q.dtype)
        r_i = jnp.zeros(r.shape[1:], r.dtype)
        z_i = z[tid]
        i = tid
        k = lax.sub(jnp.fmod(i, 3), jnp.int32(1)).astype(jnp.float32)
        t = floor_div(x[i], lax.add(jnp.abs(x[clamp(i + 1, 0, lax.sub(jnp.int32(x.shape[0]), jnp.int32(1)))]), jnp.float32(0.5)))
        u = floor_div(x[i], k)
        w = lax.div(x[i] + 1.0, lax.rem(i, jnp.int32(4)).astype(jnp.float32))
        # if w > 2.0 or u != u:
        mask1 = jnp.logical_or(w > 2.0, u != u)
        t = jnp.where(mask1, t + lax.mul(lax.floor(jnp.abs(w)), jnp.float32(0.25)), t)
        # elif not w < 0.0:
        mask2 = ~mask1 & jnp.logical_not(w < 0.0)
        t = jnp.where(mask2, t - jnp.ceil(jnp.fmod(x[i], 0.0)), t)
        o_i = lax.sub(lax.add(t, steps(x[i], jnp.float32(0.75))), steps(jnp.float32(7.0), jnp.float32(-2.0)))
        q_i = lax.add(lax.add(u, jnp.fmod(x[i], k)), lax.mul(w, jnp.float32(0.5)))
        r_i = floor_div(d[i], 0.25) + lax.cond(lax.rem(i, jnp.int32(5)) == 0, lambda: floor_div(d[i], 0.0), lambda: lax.rem(d[i], jnp.fmod(i, 2).astype(jnp.float64)))
        z_i = lax.cond(jnp.fmod(i, 2) == 0, lambda: floor_div(z_i, 0.0), lambda: floor_div(z_i, 1.5))
        return o_i, q_i, r_i, z_i
    o_new, q_new, r_new, z_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"o": o_new, "q": q_new, "r": r_new, "z": z_new}
