import warp as wp


@wp.kernel
def atomic_values(x: wp.array(dtype=wp.float32), io: wp.array(dtype=wp.float32), iq: wp.array(dtype=wp.int32), y: wp.array(dtype=wp.float32)):
    i = wp.tid()
    a = wp.atomic_add(io, i, 1.5)
    b = wp.atomic_sub(io, i, x[i])
    c = wp.atomic_max(iq, i, 3)
    d = wp.atomic_min(io, i, a)
    for j in range(2):
        if x[i] > 0.0:
            d = wp.atomic_add(io, i, d)
    y[i] = a * 100.0 + b * 10.0 + wp.float32(c) + d
    io[i] = wp.atomic_add(io, i, 2.0)
