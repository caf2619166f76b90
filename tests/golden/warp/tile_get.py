import warp as wp


@wp.func
def pick(a: wp.int32) -> wp.int32:
    return a * 2 - 1


@wp.kernel
def elements(x: wp.array(dtype=wp.float32), y: wp.array(dtype=wp.float32), n: wp.int32, s: wp.float32, o: wp.array(dtype=wp.float32)):
    i = wp.tid()
    a = wp.tile_reshape(wp.tile_load(x, shape=4, offset=wp.clamp(i, 0, x.shape[0] - 4)), shape=(2, 2))[1][0] + wp.tile_reshape(wp.tile_map(wp.sin, wp.tile_load(y, shape=8, offset=wp.clamp(i - 1, 0, y.shape[0] - 8))), shape=(2, 4))[wp.clamp(n, 0, 1)][wp.clamp(i, 0, 3)]
    for k in range(2):
        a = a - wp.tile_reshape(wp.tile_map(wp.mul, wp.tile_load(x, shape=2, offset=wp.clamp(k, 0, x.shape[0] - 2)), wp.tile_full(shape=2, value=s, dtype=wp.float32)), shape=(2, 1))[wp.clamp(k, 0, 1)][wp.clamp(-5, 0, 0)]
    o[i] = a * wp.tile_reshape(wp.tile_reshape(wp.tile_matmul(wp.tile_reshape(wp.tile_load(x, shape=4, offset=wp.clamp(0, 0, x.shape[0] - 4)), shape=(2, 2)), wp.tile_reshape(wp.tile_load(y, shape=4, offset=wp.clamp(i, 0, y.shape[0] - 4)), shape=(2, 2))), shape=(4,)), shape=(2, 2))[wp.clamp(pick(n), 0, 1)][wp.clamp(7, 0, 1)]
