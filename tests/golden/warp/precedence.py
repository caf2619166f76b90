import warp as wp


@wp.kernel
def precedence(x: wp.array(dtype=wp.float32), o: wp.array(dtype=wp.float32), q: wp.array(dtype=wp.int32), v: wp.vec3, n: wp.int32, f: wp.float32):
    i = wp.tid()
    a = x[i]
    t = a - (f - a) / (f * 2.0 + 1.0)
    t = t / (a * f) - -t + -(t + 1.0) * (a - f)
    t = t % (a + 2.0) - (t - a - f)
    j = n - (n - 1) + n * (n // (i % 3 + 1))
    j = j // (n + 1) % (j - 2)
    if t > 0.0 and (t < 1.0 and i > 0) or (i < 0 or (t > 2.0 or t < -2.0)):
        t = (a if a > 0.0 else f) + 1.0
    elif not (t > 0.0 and a > 0.0) and not not f < 1.0:
        t = a if a > 0.0 else f if f > 0.0 else 0.5
    else:
        t = (a if a > 0.0 else f) if f > 0.0 else 0.5
    t += (v * 2.0).x + (v + v)[1] - -v.z
    t = (t if t > 0.0 else -t) * (1.0 if a > 0.0 else -1.0)
    o[i] = t
    q[i] = -j if -j < n else j
