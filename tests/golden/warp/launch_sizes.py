import warp as wp


@wp.func
def bump(acc: wp.array(dtype=wp.float32), t: wp.float32) -> wp.float32:
    wp.atomic_add(acc, 0, t)
    return t


@wp.kernel
def big(x: wp.array(dtype=wp.float32), y: wp.array(dtype=wp.float32), tot: wp.array(dtype=wp.float32)):
    i = wp.tid()
    y[i] = bump(tot, x[i]) * 2.0


@wp.kernel
def one(x: wp.array(dtype=wp.int32), n: wp.array(dtype=wp.int32)):
    i = wp.tid()
    wp.atomic_add(n, 0, x[i])


@wp.kernel
def free(x: wp.array(dtype=wp.float32), y: wp.array(dtype=wp.float32)):
    i = wp.tid()
    y[i] = x[i]
