import warp as wp


from typing import Any


@wp.func
def twice_minus(a: Any, b: Any) -> Any:
    t = a + a
    return t - b


@wp.func
def around(a: Any, b: Any) -> Any:
    s = twice_minus(a, b)
    s -= -b
    return s + twice_minus(b, a)


@wp.func
def weight(a: wp.float32) -> wp.float32:
    return a * 0.5


@wp.func
def weight(a: wp.vec3) -> wp.float32:
    return wp.dot(a, a)


@wp.func
def weight(a: wp.float32, b: wp.float32) -> wp.float32:
    return a - b


@wp.kernel
def generics(x: wp.array(dtype=wp.float32), d: wp.array(dtype=wp.float64), v: wp.array(dtype=wp.vec3), m: wp.array(dtype=wp.int32), y: wp.array(dtype=wp.float32), w: wp.array(dtype=wp.vec3), z: wp.array(dtype=wp.float64)):
    i = wp.tid()
    a = around(x[i], 1.5)
    b = twice_minus(d[i], wp.float64(0.25))
    c = around(v[i], wp.vec3(1.0, 0.0, -1.0))
    k = twice_minus(m[i], 3)
    y[i] = a + weight(x[i]) + weight(v[i]) + weight(x[i], wp.float32(k))
    w[i] = c
    z[i] = b
