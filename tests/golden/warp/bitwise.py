import warp as wp


@wp.func
def mix(a: wp.uint32, b: wp.uint32) -> wp.uint32:
    return a ^ b << wp.uint32(3) | ~a & wp.uint32(255)


@wp.kernel
def bitwise(x: wp.array(dtype=wp.int32), u: wp.array(dtype=wp.uint32), w: wp.array(dtype=wp.int64), o: wp.array(dtype=wp.int32), p: wp.array(dtype=wp.uint32), q: wp.array(dtype=wp.int64)):
    i = wp.tid()
    a = x[i] & 7 | x[i] ^ 3 << 2
    b = ~x[i] >> 1
    c = (a | b) & wp.abs(x[i]) << wp.clamp(i, 0, 12)
    if a & 1 == 1 and b | 2 > 3:
        c = c + -~a
    o[i] = c ^ (a >> 2) + 1
    p[i] = mix(u[i], wp.uint32(i)) >> wp.uint32(2) ^ u[i] << wp.uint32(31)
    q[i] = (w[i] | wp.int64(16)) >> wp.int64(1) & ~w[i]
