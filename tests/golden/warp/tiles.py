import warp as wp


@wp.kernel
def tiles(x: wp.array(dtype=wp.float32), y: wp.array(dtype=wp.float32), s: wp.float32, o: wp.array(dtype=wp.float32), q: wp.array(dtype=wp.float32)):
    i = wp.tid()
    a = wp.tile_sum(wp.tile_map(wp.mul, wp.tile_load(x, shape=4, offset=wp.clamp(i, 0, x.shape[0] - 4)), wp.tile_map(wp.sin, wp.tile_load(y, shape=4, offset=wp.clamp(i - 2, 0, y.shape[0] - 4)))))[0]
    if wp.tile_max(wp.tile_load(y, shape=2, offset=wp.clamp(2 * i, 0, y.shape[0] - 2)))[0] > s:
        a += wp.tile_min(wp.tile_map(wp.max, wp.tile_load(x, shape=8, offset=wp.clamp(0, 0, x.shape[0] - 8)), wp.tile_map(wp.abs, wp.tile_load(y, shape=8, offset=wp.clamp(y.shape[0], 0, y.shape[0] - 8)))))[0]
    for k in range(3):
        a = a - wp.tile_sum(wp.tile_map(wp.floor, wp.tile_map(wp.mul, wp.tile_load(x, shape=2, offset=wp.clamp(i + k, 0, x.shape[0] - 2)), wp.tile_full(shape=2, value=s, dtype=wp.float32))))[0]
    m = wp.tile_max(wp.tile_reshape(wp.tile_matmul(wp.tile_reshape(wp.tile_load(x, shape=4, offset=wp.clamp(i, 0, x.shape[0] - 4)), shape=(2, 2)), wp.tile_reshape(wp.tile_map(wp.abs, wp.tile_load(y, shape=4, offset=wp.clamp(i, 0, y.shape[0] - 4))), shape=(2, 2))), shape=(4,)))[0]
    o[i] = a + wp.tile_sum(wp.tile_map(wp.mul, wp.tile_reshape(wp.tile_matmul(wp.tile_reshape(wp.tile_load(y, shape=8, offset=wp.clamp(i + 1, 0, y.shape[0] - 8)), shape=(2, 4)), wp.tile_reshape(wp.tile_load(x, shape=8, offset=wp.clamp(3, 0, x.shape[0] - 8)), shape=(4, 2))), shape=(4,)), wp.tile_load(x, shape=4, offset=wp.clamp(i, 0, x.shape[0] - 4))))[0] - m
    q[i] = wp.tile_max(wp.tile_map(wp.sub, wp.tile_map(wp.tanh, wp.tile_load(x, shape=8, offset=wp.clamp(i, 0, x.shape[0] - 8))), wp.tile_map(wp.cos, wp.tile_load(y, shape=8, offset=wp.clamp(i, 0, y.shape[0] - 8)))))[0]
