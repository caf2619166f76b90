import warp as wp


@wp.func_native('return ((((a * a) * b) - (-(b * 0.5f))) + 2.0f);\n', adj_snippet='adj_a += (((1.0f * a) + (a * 1.0f)) * b) * adj_ret;\nadj_b += (((a * a) * 1.0f) - (-(1.0f * 0.5f))) * adj_ret;\n')
def cubic(a: wp.float32, b: wp.float32) -> wp.float32:
    ...


@wp.func_native('return ((-c) * 3.0f);\n', adj_snippet='adj_c += ((-1.0f) * 3.0f) * adj_ret;\n')
def scale(c: wp.float32) -> wp.float32:
    ...


@wp.func
def mix(u: wp.float32, v: wp.float32) -> wp.float32:
    return scale(u) + cubic(u, v)


@wp.kernel
def natives(x: wp.array(dtype=wp.float32), y: wp.array(dtype=wp.float32), o: wp.array(dtype=wp.float32)):
    i = wp.tid()
    o[i] = mix(x[i], y[i]) * cubic(y[i], 1.0)
