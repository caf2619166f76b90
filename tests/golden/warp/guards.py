import warp as wp


@wp.kernel
def k(x: wp.array(dtype=wp.float32), o: wp.array(dtype=wp.float32), n: wp.int32):
    i = wp.tid()
    j = n + i
    t = x[j] if 0 <= j and j < x.shape[0] else 0.0
    if j >= 0 and j < x.shape[0] and x[j] > 0.5:
        t += x[j]
    for q in range(8):
        if q < x.shape[0]:
            t += x[q]
    o[i] = t
