import warp as wp


@wp.struct
class Grid:
    scale: wp.float32
    wt: wp.array(dtype=wp.float32)
    pts: wp.array(dtype=wp.vec3)
    res: wp.array(dtype=wp.vec3)


@wp.func
def weigh(s: wp.float32, v: wp.float32) -> wp.float32:
    return s * v + 1.0


@wp.kernel
def struct_arrays(g: Grid, k: wp.int32, o: wp.array(dtype=wp.float32), q: wp.array(dtype=wp.vec3)):
    i = wp.tid()
    t = g.wt[i] + g.wt[wp.clamp(i + k, 0, g.wt.shape[0] - 1)]
    j = i + 1
    if 0 <= j and j < g.wt.shape[0]:
        t += g.wt[j]
    for m in range(3):
        t += g.wt[m] if m < g.wt.shape[0] else 0.0
    o[i] = weigh(g.scale, t)
    q[i] = g.pts[i] * g.scale + g.pts[wp.clamp(k - i, 0, g.pts.shape[0] - 1)]
    g.res[i] = g.pts[i]
    g.res[i].y = t
