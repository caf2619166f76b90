import warp as wp


@wp.kernel
def loops(x: wp.array(dtype=wp.float32), n: wp.int32, y: wp.array(dtype=wp.float32), acc: wp.array(dtype=wp.float32)):
    i = wp.tid()
    s = wp.float32(0.0)
    for a in range(4):
        s += x[wp.clamp(i + a, 0, x.shape[0] - 1)]
    for b in range(5):
        if s > 10.0:
            break
        s = s * 0.5 + 1.0
    for c in range(wp.clamp(n, 0, 6)):
        if c == 2:
            continue
        s += wp.float32(c)
    for d in range(7):
        wp.atomic_add(acc, 0, s * 0.01)
        s -= 0.25
    for e in range(20):
        s += 0.125
    for f in range(23):
        s *= 0.99
    w = wp.int32(0)
    while w < 9 and s < 100.0:
        w += 1
        s = s + 3.0
    m = wp.int32(0)
    for g in range(3):
        m += g * 2
    k = wp.int32(0)
    while k < 10 and m < 50:
        k += 1
        if m % 3 == 0:
            continue
        m += k
    y[i] = s + wp.float32(m)
