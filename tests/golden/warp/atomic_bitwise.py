import warp as wp


@wp.func
def mark(a: wp.array(dtype=wp.uint32), v: wp.uint32) -> wp.uint32:
    wp.atomic_or(a, 0, v)
    return v


@wp.kernel
def bits(x: wp.array(dtype=wp.int32), u: wp.array(dtype=wp.uint32), acc: wp.array(dtype=wp.int32), flags: wp.array(dtype=wp.uint32), par: wp.array(dtype=wp.int32), io: wp.array(dtype=wp.int32), o: wp.array(dtype=wp.uint32)):
    i = wp.tid()
    wp.atomic_and(acc, 0, x[i] | 1)
    wp.atomic_xor(par, wp.clamp(x[i], 0, par.shape[0] - 1), x[i])
    if x[i] > 0:
        o[i] = mark(flags, u[i])
    for k in range(3):
        wp.atomic_xor(par, wp.clamp(i + k, 0, par.shape[0] - 1), k + x[i])
    wp.atomic_or(flags, wp.clamp(i, 0, flags.shape[0] - 1), u[i] & wp.uint32(12))
    v = wp.atomic_and(io, i, x[i] ^ 5)
    io[i] = io[i] + v
