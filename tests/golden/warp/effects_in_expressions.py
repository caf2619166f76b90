import warp as wp


@wp.func
def tick(hits: wp.array(dtype=wp.int32), slot: wp.int32, v: wp.float32) -> wp.float32:
    wp.atomic_add(hits, wp.clamp(slot, 0, hits.shape[0] - 1), 1)
    return v


@wp.kernel
def effects(x: wp.array(dtype=wp.float32), hits: wp.array(dtype=wp.int32), o: wp.array(dtype=wp.float32)):
    i = wp.tid()
    t = wp.float32(0.0)
    if x[i] > 0.0 and tick(hits, 0, x[i]) > 1.0:
        t = wp.float32(1.0)
    elif x[i] < -1.0 or tick(hits, 1, x[i]) > 100.0:
        t = wp.float32(2.0)
    u = tick(hits, 2, 1.0) if x[i] > 2.0 else tick(hits, 3, wp.float32(2.0))
    v = wp.where(x[i] > 2.0, tick(hits, 4, 3.0), wp.where(x[i] > 2.0, tick(hits, 5, 4.0), 0.0))
    w = wp.int32(0)
    while w < 3 and tick(hits, 6, float(w)) < x[i]:
        w += 1
    o[i] = t + u + v + float(w)
