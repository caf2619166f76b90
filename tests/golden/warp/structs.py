import warp as wp


@wp.struct
class Pair:
    lo: wp.float32
    n: wp.int32


@wp.struct
class Body:
    mass: wp.float32
    pos: wp.vec3
    pair: Pair


@wp.func
def make(x: wp.float32) -> Body:
    b = Body()
    b.mass = x
    b.pos = wp.vec3(x, 2.0 * x, 1.0)
    b.pair.n = 3
    return b


@wp.func
def weigh(b: Body) -> wp.float32:
    return b.mass + b.pos[1] + b.pair.lo + wp.float32(b.pair.n)


@wp.func
def split(x: wp.float32):
    return x * 0.5, 2


@wp.kernel
def structs(p: Body, x: wp.array(dtype=wp.float32), o: wp.array(dtype=wp.float32), q: wp.array(dtype=wp.vec3)):
    i = wp.tid()
    s = make(x[i])
    s.pos.x = p.mass
    t = s
    t.mass = 100.0
    t.pair.lo = p.pair.lo
    h, k = split(x[i])
    for j in range(wp.clamp(k, 0, 4)):
        s.pair.lo += h
    o[i] = weigh(s) + weigh(t)
    q[i] = s.pos + p.pos
