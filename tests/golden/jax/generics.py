import jax
import jax.numpy as jnp
from jax import lax

jax.config.update("jax_enable_x64", True)


def twice_minus__float32(a, b):
    t = lax.add(a, a)
    return lax.sub(t, b)


def twice_minus__float64(a, b):
    t = lax.add(a, a)
    return lax.sub(t, b)


def twice_minus__int32(a, b):
    t = lax.add(a, a)
    return lax.sub(t, b)


def twice_minus__vec3(a, b):
    t = lax.add(a, a)
    return lax.sub(t, b)


def around__float32(a, b):
    s = twice_minus__float32(a, b)
    s -= -b
    return lax.add(s, twice_minus__float32(b, a))


def around__vec3(a, b):
    s = twice_minus__vec3(a, b)
    s -= -b
    return s + twice_minus__vec3(b, a)


def weight__o0(a):
    return lax.mul(a, jnp.float32(0.5))


def weight__o1(a):
    return jnp.dot(a, a)


def weight__o2(a, b):
    return lax.sub(a, b)


def generics(x, d, v, m, y, w, z):
    def thread(tid):
        y_i = jnp.zeros(y.shape[1:], y.dtype)
        w_i = jnp.zeros(w.shape[1:], w.dtype)
        z_i = jnp.zeros(z.shape[1:], z.dtype)
        i = tid
        a = around__float32(x[i], jnp.float32(1.5))
        b = twice_minus__float64(d[i], jnp.float64(0.25))
        c = around__vec3(v[i], jnp.array([1.0, 0.0, -1.0], dtype=jnp.float32))
        k = twice_minus__int32(m[i], jnp.int32(3))
        y_i = lax.add(lax.add(a, weight__o0(x[i])), weight__o1(v[i])) + weight__o2(x[i], k.astype(jnp.float32))
        w_i = c
        z_i = b
        return y_i, w_i, z_i
    y_new, w_new, z_new = jax.vmap(thread)(jnp.arange(x.shape[0], dtype=jnp.int32))
    return {"y": y_new, "w": w_new, "z": z_new}
