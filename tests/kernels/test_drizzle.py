"""Tests for jwstlazy.kernels.drizzle (square-kernel drizzle with exact overlaps, and blot).

The slow reference below is written independently of the kernel: corners by vectorised numpy bilinear
interpolation, overlaps by Sutherland-Hodgman clipping of the drop against each output pixel square, and
plain sums  S = sum w a d / sum w a,  W = sum w a,  V = sum (w a)^2 v / (sum w a)^2.
"""

import numpy as np
import pytest

from jwstlazy.kernels.drizzle import (
    blot,
    drizzle_add,
    input_box_for_tile,
    input_rows_for_tile,
    input_rows_for_tiles,
    pixel_overlap_area,
)


# ------------------------------------------------------------------------------------------------ reference
def _clip(poly, edge_fn):
    """One Sutherland-Hodgman pass: keep the part of ``poly`` where edge_fn(p) >= 0 (edge_fn is affine)."""
    out = []
    n = len(poly)
    for k in range(n):
        p, q = poly[k], poly[(k + 1) % n]
        fp, fq = edge_fn(p), edge_fn(q)
        if fp >= 0:
            out.append(p)
        if (fp >= 0) != (fq >= 0):
            t = fp / (fp - fq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


def _poly_area(poly):
    if len(poly) < 3:
        return 0.0
    a = 0.0
    for k in range(len(poly)):
        (x1, y1), (x2, y2) = poly[k], poly[(k + 1) % len(poly)]
        a += x1 * y2 - x2 * y1
    return abs(a) / 2


def ref_overlap(quad, i, j):
    """Area of convex polygon ``quad`` inside the pixel square centred on (x=i, y=j)."""
    poly = list(quad)
    for fn in (lambda p: p[0] - (i - 0.5), lambda p: (i + 0.5) - p[0],
               lambda p: p[1] - (j - 0.5), lambda p: (j + 0.5) - p[1]):
        poly = _clip(poly, fn)
        if not poly:
            return 0.0
    return _poly_area(poly)


def ref_bilinear(m, x, y):
    """Bilinear interpolation of map m at (x, y), linear extrapolation beyond the edges."""
    ny, nx = m.shape
    i0 = np.clip(np.floor(x).astype(int), 0, nx - 2)
    j0 = np.clip(np.floor(y).astype(int), 0, ny - 2)
    fx, fy = x - i0, y - j0
    return ((1 - fy) * ((1 - fx) * m[j0, i0] + fx * m[j0, i0 + 1])
            + fy * ((1 - fx) * m[j0 + 1, i0] + fx * m[j0 + 1, i0 + 1]))


def ref_drizzle(data, weight, px, py, out_shape, pixfrac, variances=(), origin=(0, 0)):
    """Slow reference: returns sci, wht, context mask, list of variances (NaN where wht == 0)."""
    ny, nx = data.shape
    y0, x0 = origin
    num = np.zeros(out_shape)
    den = np.zeros(out_shape)
    vnum = [np.zeros(out_shape) for _ in variances]
    h = pixfrac / 2
    for j in range(ny):
        for i in range(nx):
            d, w = data[j, i], weight[j, i]
            if not np.isfinite(d) or not w > 0 or not all(np.isfinite(v[j, i]) for v in variances):
                continue
            cx = np.array([i - h, i + h, i + h, i - h])
            cy = np.array([j - h, j - h, j + h, j + h])
            qx = ref_bilinear(px, cx, cy) - x0
            qy = ref_bilinear(py, cx, cy) - y0
            quad = list(zip(qx, qy))
            area = _poly_area(quad)
            for jj in range(out_shape[0]):
                for ii in range(out_shape[1]):
                    ov = ref_overlap(quad, ii, jj)
                    if ov > 0:
                        wa = w * ov / area
                        num[jj, ii] += wa * d
                        den[jj, ii] += wa
                        for v, vn in zip(variances, vnum):
                            vn[jj, ii] += wa * wa * v[j, i]
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den, den, den > 0, [vn / den**2 for vn in vnum]


def distorted_map(shape, scale=0.85, theta=0.4, shift=(3.2, 5.7), k=4e-3):
    """A rotated, scaled, mildly non-linear input -> output map (output px per input px = 1/scale).

    The mapped centres start at ``shift`` (their minimum x and y), so the whole input lands at x, y > 2.5.
    """
    y, x = np.indices(shape, dtype=np.float64)
    xc, yc = x - shape[1] / 2, y - shape[0] / 2
    xc, yc = xc + k * (xc**2 - 0.5 * yc**2), yc + k * xc * yc
    c, s = np.cos(theta), np.sin(theta)
    px = (c * xc - s * yc) / scale
    py = (s * xc + c * yc) / scale
    return px - px.min() + shift[0], py - py.min() + shift[1]


def _new(shape, nvar=0, dtype=np.float64):
    return (np.zeros(shape, dtype), np.zeros(shape, dtype), np.zeros(shape, np.int32),
            [np.zeros(shape, dtype) for _ in range(nvar)])


# ------------------------------------------------------------------------------------------------ geometry
def test_overlap_area_matches_clipping_and_sums_to_polygon_area():
    rng = np.random.default_rng(1)
    for _ in range(200):
        c = rng.uniform(2, 4, 2)
        ang = np.sort(rng.uniform(0, 2 * np.pi, 4))
        if rng.random() < 0.5:
            ang = ang[::-1]  # both orientations
        r = rng.uniform(0.3, 1.6, 4)
        xs, ys = c[0] + r * np.cos(ang), c[1] + r * np.sin(ang)
        quad = list(zip(xs, ys))
        if not all(_turn(quad[k], quad[(k + 1) % 4], quad[(k + 2) % 4]) * _signed(quad) > 0 for k in range(4)):
            continue  # keep convex quads (drizzle drops are convex for smooth maps)
        total = 0.0
        for j in range(7):
            for i in range(7):
                a = pixel_overlap_area(xs, ys, i, j)
                assert a == pytest.approx(ref_overlap(quad, i, j), abs=1e-12)
                total += a
        assert total == pytest.approx(_poly_area(quad), rel=1e-12)


def _turn(p, q, r):
    return (q[0] - p[0]) * (r[1] - q[1]) - (q[1] - p[1]) * (r[0] - q[0])


def _signed(quad):
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(quad, quad[1:] + quad[:1]))


def test_overlap_axis_aligned_cases():
    sq = np.array([0.0, 1.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0, 1.0])  # unit square spanning 4 pixels
    for i, j in [(0, 0), (1, 0), (0, 1), (1, 1)]:
        assert pixel_overlap_area(sq[0], sq[1], i, j) == pytest.approx(0.25)
    assert pixel_overlap_area(sq[0], sq[1], 2, 0) == 0.0
    big = np.array([-5.0, 5.0, 5.0, -5.0]), np.array([-5.0, -5.0, 5.0, 5.0])
    assert pixel_overlap_area(big[0], big[1], 1, 2) == pytest.approx(1.0)


# ------------------------------------------------------------------------------------------------ drizzle
@pytest.mark.parametrize("pixfrac", [1.0, 0.7])
@pytest.mark.parametrize("origin", [(0, 0), (4, 6)])
def test_matches_slow_reference(pixfrac, origin):
    rng = np.random.default_rng(2)
    shape = (9, 11)
    px, py = distorted_map(shape)
    data = rng.normal(3, 1, shape)
    weight = rng.uniform(0.2, 2, shape)
    weight[2, 3] = 0.0
    data[4, 5] = np.nan
    var = [rng.uniform(0.5, 2, shape), rng.uniform(0.1, 0.3, shape)]
    out_shape = (22, 20)
    sci, wht, con, ov = _new(out_shape, 2)
    n = drizzle_add(data, weight, px, py, sci, wht, con, input_index=5, pixfrac=pixfrac,
                    variances=var, out_variances=ov, tile_origin=origin)
    rsci, rwht, rcon, rvar = ref_drizzle(data, weight, px, py, out_shape, pixfrac, var, origin)
    assert n > 0
    m = rwht > 0
    assert np.array_equal(wht > 0, m)
    # running weighted means vs plain sums: equal up to rounding
    np.testing.assert_allclose(wht, rwht, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(sci[m], rsci[m], rtol=1e-10)
    for a, b in zip(ov, rvar):
        np.testing.assert_allclose(a[m], b[m], rtol=1e-10)
    assert np.array_equal(con, np.where(rcon, 1 << 5, 0))
    assert np.all(sci[~m] == 0)  # untouched pixels keep their value; the step applies fillval


def test_identity_returns_input_exactly():
    rng = np.random.default_rng(3)
    shape = (20, 24)
    y, x = np.indices(shape, dtype=np.float64)
    data = rng.normal(10, 3, shape).astype(np.float32)
    w = rng.uniform(0.5, 2, shape).astype(np.float32)
    v = rng.uniform(1, 2, shape).astype(np.float32)
    sci, wht, con, ov = _new(shape, 1, np.float32)
    drizzle_add(data, w, x, y, sci, wht, con, 0, 1.0, [v], ov)
    assert np.array_equal(sci, data)
    np.testing.assert_allclose(wht, w, rtol=1e-6)
    np.testing.assert_allclose(ov[0], v, rtol=1e-6)
    assert np.all(con == 1)


def test_half_pixel_shift_gives_exact_averages():
    rng = np.random.default_rng(4)
    shape = (12, 15)
    y, x = np.indices(shape, dtype=np.float64)
    data = rng.normal(0, 1, shape)
    v = rng.uniform(1, 2, shape)
    sci, wht, con, ov = _new(shape, 1)
    drizzle_add(data, None, x + 0.5, y + 0.5, sci, wht, con, 0, 1.0, [v], ov)
    # output pixel (j, i) with j, i >= 1 is covered by a quarter of input (j-1..j, i-1..i)
    avg = 0.25 * (data[1:, 1:] + data[:-1, 1:] + data[1:, :-1] + data[:-1, :-1])
    np.testing.assert_allclose(sci[1:, 1:], avg, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(wht[1:, 1:], 1.0, rtol=1e-12)
    # squared weights: each input contributes (1/4)^2 v  ->  (v1 + v2 + v3 + v4) / 16
    vavg = (v[1:, 1:] + v[:-1, 1:] + v[1:, :-1] + v[:-1, :-1]) / 16
    np.testing.assert_allclose(ov[0][1:, 1:], vavg, rtol=1e-12)
    np.testing.assert_allclose(wht[0, 1:], 0.5)
    assert wht[0, 0] == pytest.approx(0.25)


def test_pixfrac_below_one_keeps_mean_level():
    shape = (30, 30)
    out_shape = (50, 50)
    level = 7.25
    sci, wht, con, _ = _new(out_shape)
    rng = np.random.default_rng(5)
    for k in range(4):  # four dithered, rotated exposures
        px, py = distorted_map(shape, scale=0.9, theta=0.2 + 0.1 * k, shift=rng.uniform(0, 3, 2), k=1e-3)
        data = np.full(shape, level) + rng.normal(0, 0.01, shape)
        drizzle_add(data, None, px, py, sci, wht, con, k, pixfrac=0.5)
    m = wht > 0
    assert m.sum() > 1000
    assert np.all(np.abs(sci[m] - level) < 0.06)  # every pixel is a weighted mean of inputs
    assert abs(np.average(sci[m], weights=wht[m]) - level) < 1e-3
    assert set(np.unique(con[m])) <= set(range(1, 16))


def test_flux_conservation_different_scale_and_rotation():
    shape = (64, 64)
    y, x = np.indices(shape, dtype=np.float64)
    # surface brightness of a Gaussian source (MJy/sr) on input pixels of area A_in
    data = 100.0 * np.exp(-((x - 30.3) ** 2 + (y - 33.1) ** 2) / (2 * 3.0**2)) + 0.0
    scale = 0.8  # output pixel side = 0.8 input pixels -> A_out / A_in = 0.64
    px, py = distorted_map(shape, scale=scale, theta=0.6, k=0.0)
    px, py = px + 30, py + 30
    out_shape = (140, 140)
    sci, wht, con, _ = _new(out_shape)
    drizzle_add(data, None, px, py, sci, wht, con, 0, 1.0)
    assert np.all(wht[60:80, 60:80] > 0)
    flux_in = data.sum()  # x A_in
    flux_out = np.sum(sci[wht > 0]) * scale**2  # x A_out = scale^2 A_in
    assert abs(flux_out / flux_in - 1) < 5e-3
    assert abs(flux_out / flux_in - 1) < 1e-6  # exact for full coverage with pixfrac = 1


def test_nan_and_zero_weight_inputs_are_ignored():
    shape = (8, 8)
    y, x = np.indices(shape, dtype=np.float64)
    data = np.ones(shape)
    data[3, 3] = np.nan
    data[5, 2] = np.inf
    w = np.ones(shape)
    w[1, 6] = 0.0
    w[6, 6] = np.nan
    var = np.ones(shape)
    var[2, 2] = np.nan
    sci, wht, con, ov = _new(shape, 1)
    n = drizzle_add(data, w, x, y, sci, wht, con, 0, 1.0, [var], ov)
    bad = [(3, 3), (5, 2), (1, 6), (6, 6), (2, 2)]
    assert n == 64 - len(bad)
    for jj, ii in bad:
        assert wht[jj, ii] == 0 and con[jj, ii] == 0
    assert np.all(np.isfinite(sci)) and np.all(np.isfinite(ov[0]))
    # a shifted map mixes neighbours: NaNs must not leak into any output pixel
    sci, wht, con, ov = _new(shape, 1)
    drizzle_add(data, w, x + 0.3, y + 0.6, sci, wht, con, 0, 1.0, [var], ov)
    assert np.all(np.isfinite(sci)) and np.all(np.isfinite(ov[0]))
    np.testing.assert_allclose(sci[wht > 0], 1.0)


def test_tiles_reproduce_the_whole_output_exactly():
    rng = np.random.default_rng(6)
    shape = (40, 36)
    px, py = distorted_map(shape, scale=0.9, theta=0.3, k=1e-3)
    data = rng.normal(5, 1, shape)
    w = rng.uniform(0.5, 1.5, shape)
    v = rng.uniform(0.5, 1.5, shape)
    out_shape = (60, 56)
    for pixfrac in (1.0, 0.6):
        sci, wht, con, ov = _new(out_shape, 1)
        drizzle_add(data, w, px, py, sci, wht, con, 3, pixfrac, [v], ov)
        tsci, twht, tcon, tov = _new(out_shape, 1)
        for y0, y1 in [(0, 17), (17, 45), (45, 60)]:
            for x0, x1 in [(0, 25), (25, 56)]:
                ts, tw, tc, tv = _new((y1 - y0, x1 - x0), 1)
                box = input_box_for_tile(px, py, x0, y0, y1 - y0, x1 - x0, 2.0)
                drizzle_add(data, w, px, py, ts, tw, tc, 3, pixfrac, [v], tv, tile_origin=(y0, x0),
                            input_box=box)
                tsci[y0:y1, x0:x1], twht[y0:y1, x0:x1] = ts, tw
                tcon[y0:y1, x0:x1], tov[0][y0:y1, x0:x1] = tc, tv[0]
        # identical up to rounding (tile-relative coordinates change the last bits of the overlaps)
        np.testing.assert_allclose(twht, wht, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(tsci, sci, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(tov[0], ov[0], rtol=1e-12, atol=1e-14)
        assert np.array_equal(tcon, con)
    assert input_box_for_tile(px, py, 500, 500, 10, 10, 2.0) == (0, 0, 0, 0)


def test_input_rows_for_tiles_match_a_brute_force_mask():
    px, py = distorted_map((40, 36), scale=0.9, theta=0.6, k=1e-3)
    px[3, 5] = np.nan  # unmapped pixels belong to no tile
    y_edges, x_edges, margin = np.array([0, 17, 45, 60]), np.array([0, 25, 56]), 2.5
    rows = input_rows_for_tiles(px, py, y_edges, x_edges, margin)
    assert rows.shape == (3, 2, 2, 40)
    cols = np.arange(36)
    for ty in range(3):
        for tx in range(2):
            inside = ((px >= x_edges[tx] - 0.5 - margin) & (px <= x_edges[tx + 1] - 0.5 + margin)
                      & (py >= y_edges[ty] - 0.5 - margin) & (py <= y_edges[ty + 1] - 0.5 + margin))
            start, stop = rows[ty, tx]
            for j in range(40):
                if inside[j].any():
                    assert (start[j], stop[j]) == (cols[inside[j]].min(), cols[inside[j]].max() + 1)
                else:
                    assert start[j] >= stop[j]
            # the rows are a subset of the bounding box, and much smaller for a rotated map
            y0, y1, x0, x1 = input_box_for_tile(px, py, x_edges[tx], y_edges[ty], y_edges[ty + 1] - y_edges[ty],
                                                x_edges[tx + 1] - x_edges[tx], margin)
            visited = np.clip(stop - start, 0, None)
            assert visited.sum() <= (y1 - y0) * (x1 - x0)
            assert (visited[:y0] == 0).all() and (visited[y1:] == 0).all()
    single = input_rows_for_tile(px, py, 25, 17, 28, 31, margin)
    assert np.array_equal(single[0], rows[1, 1, 0]) and np.array_equal(single[1], rows[1, 1, 1])
    empty = input_rows_for_tile(px, py, 500, 500, 10, 10, 2.0)
    assert (empty[0] >= empty[1]).all()


def test_tiles_with_row_ranges_reproduce_the_whole_output():
    rng = np.random.default_rng(7)
    shape = (40, 36)
    px, py = distorted_map(shape, scale=0.9, theta=0.6, k=1e-3)
    data = rng.normal(5, 1, shape)
    w = rng.uniform(0.5, 1.5, shape)
    v = rng.uniform(0.5, 1.5, shape)
    out_shape = (60, 56)
    y_edges, x_edges = np.array([0, 17, 45, 60]), np.array([0, 25, 56])
    for pixfrac in (1.0, 0.6):
        sci, wht, con, ov = _new(out_shape, 1)
        drizzle_add(data, w, px, py, sci, wht, con, 3, pixfrac, [v], ov)
        tsci, twht, tcon, tov = _new(out_shape, 1)
        rows = input_rows_for_tiles(px, py, y_edges, x_edges, 2.0)
        visited = 0
        for ty in range(3):
            for tx in range(2):
                (y0, y1), (x0, x1) = y_edges[ty:ty + 2], x_edges[tx:tx + 2]
                ts, tw, tc, tv = _new((y1 - y0, x1 - x0), 1)
                drizzle_add(data, w, px, py, ts, tw, tc, 3, pixfrac, [v], tv, tile_origin=(y0, x0),
                            input_rows=(rows[ty, tx, 0], rows[ty, tx, 1]))
                visited += np.clip(rows[ty, tx, 1] - rows[ty, tx, 0], 0, None).sum()
                tsci[y0:y1, x0:x1], twht[y0:y1, x0:x1] = ts, tw
                tcon[y0:y1, x0:x1], tov[0][y0:y1, x0:x1] = tc, tv[0]
        np.testing.assert_allclose(twht, wht, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(tsci, sci, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(tov[0], ov[0], rtol=1e-12, atol=1e-14)
        assert np.array_equal(tcon, con)
        assert visited < 1.6 * data.size  # each input pixel visited by about one tile, not by all six


def test_context_planes_and_high_bit():
    shape = (4, 4)
    y, x = np.indices(shape, dtype=np.float64)
    sci, wht, _, _ = _new(shape)
    con = np.zeros((2,) + shape, np.int32)
    for idx in (0, 31, 33):
        drizzle_add(np.ones(shape), None, x, y, sci, wht, con, idx, 1.0)
    assert np.all(con[0] == np.int32(np.uint32(1 | (1 << 31)).view(np.int32)))
    assert np.all(con[1] == 2)
    with pytest.raises(ValueError):
        drizzle_add(np.ones(shape), None, x, y, sci, wht, con[0], 40, 1.0)


def test_variance_matches_monte_carlo():
    """V = sum (w a)^2 v / (sum w a)^2 is the variance of each output pixel for independent input noise."""
    rng = np.random.default_rng(7)
    shape = (10, 10)
    px, py = distorted_map(shape, scale=1.3, theta=0.5, k=0.0)
    sigma = rng.uniform(0.5, 2.0, shape)
    w = 1 / sigma**2
    out_shape = (24, 24)
    sci0, wht, con, ov = _new(out_shape, 1)
    drizzle_add(np.zeros(shape), w, px, py, sci0, wht, con, 0, 1.0, [sigma**2], ov)
    nreal = 3000
    samples = []
    for _ in range(nreal):
        sci, wht2, con2, _ = _new(out_shape)
        drizzle_add(rng.normal(0, sigma), w, px, py, sci, wht2, con2, 0, 1.0)
        samples.append(sci)
    emp = np.var(np.array(samples), axis=0)
    m = wht > 0.5 * wht.max()
    ratio = emp[m] / ov[0][m]
    assert np.all(np.abs(ratio - 1) < 5 * np.sqrt(2 / nreal))
    # the official per-exposure approach (drizzle sigma with linear weights, then square) over-estimates
    sl, wl, cl, _ = _new(out_shape)
    drizzle_add(sigma, w, px, py, sl, wl, cl, 0, 1.0)
    assert np.mean(sl[m] ** 2 / emp[m]) > 1.5  # ~2.5 for this geometry


def test_bad_arguments():
    shape = (4, 4)
    y, x = np.indices(shape, dtype=np.float64)
    sci, wht, con, _ = _new(shape)
    with pytest.raises(ValueError):
        drizzle_add(np.ones(shape), None, x, y, sci, wht, con, 0, pixfrac=0.0)
    with pytest.raises(ValueError):
        drizzle_add(np.ones(shape), None, x[:3], y, sci, wht, con, 0)
    with pytest.raises(ValueError):
        drizzle_add(np.ones(shape), None, x, y, sci, wht, con, 0, variances=[np.ones(shape)])


# ------------------------------------------------------------------------------------------------ blot
@pytest.mark.parametrize("order", [1, 3, 5])
def test_blot_is_exact_for_polynomials_of_its_order(order):
    ny, nx = 30, 34
    Y, X = np.indices((ny, nx), dtype=np.float64)

    def poly(x, y):
        return 0.3 + 0.2 * x - 0.1 * y + (0.01 * x * y if order > 1 else 0) + (
            1e-4 * x**3 - 2e-4 * x * y**2 if order >= 3 else 0) + (1e-7 * x**5 + 3e-7 * y**4 * x if order >= 5
                                                                   else 0)

    img = poly(X, Y)
    rng = np.random.default_rng(8)
    qx = rng.uniform(-1, nx, (15, 17))
    qy = rng.uniform(-1, ny, (15, 17))
    out = np.full(qx.shape, -99.0)
    n = blot(img, qx, qy, out, 0, 0, order, 1.0)
    half = (order - 1) // 2
    inside = ((np.floor(qx) - half >= 0) & (np.floor(qx) - half + order <= nx - 1)
              & (np.floor(qy) - half >= 0) & (np.floor(qy) - half + order <= ny - 1))
    written = out != -99.0
    assert np.all(written[inside]) and n == written.sum() and n > 100
    np.testing.assert_allclose(out[written], poly(qx, qy)[written], rtol=1e-9, atol=1e-9)


def test_blot_nearest_tiles_and_scale():
    rng = np.random.default_rng(9)
    img = rng.normal(size=(40, 50))
    qx = rng.uniform(0, 49, (20, 20))
    qy = rng.uniform(0, 39, (20, 20))
    out = np.zeros((20, 20))
    blot(img, qx, qy, out, 0, 0, 0, 2.0)
    np.testing.assert_array_equal(out, 2.0 * img[np.floor(qy + 0.5).astype(int), np.floor(qx + 0.5).astype(int)])
    full = np.full((20, 20), np.nan)
    blot(img, qx, qy, full, 0, 0, 3, 1.0)
    tiled = np.full((20, 20), np.nan)
    halo = 3
    for y0, y1 in [(0, 20), (20, 40)]:
        for x0, x1 in [(0, 30), (30, 50)]:
            ya, xa = max(y0 - halo, 0), max(x0 - halo, 0)
            blot(img[ya:y1 + halo, xa:x1 + halo], qx, qy, tiled, xa, ya, 3, 1.0)
    assert np.array_equal(np.isnan(full), np.isnan(tiled))
    np.testing.assert_array_equal(full[~np.isnan(full)], tiled[~np.isnan(full)])


# ------------------------------------------------------------------------------------------------ crosscheck
@pytest.mark.crosscheck
@pytest.mark.parametrize("pixfrac", [1.0, 0.65])
def test_crosscheck_official_drizzle(pixfrac):
    resample = pytest.importorskip("drizzle.resample")
    rng = np.random.default_rng(10)
    shape = (60, 70)
    px, py = distorted_map(shape, scale=0.9, theta=0.35, k=2e-4, shift=(4.3, 3.6))
    out_shape = (110, 110)
    assert px.min() > 1 and py.min() > 1 and px.max() < out_shape[1] - 2 and py.max() < out_shape[0] - 2
    data = rng.normal(5, 1, shape).astype(np.float32)
    w = rng.uniform(0.5, 2, shape).astype(np.float32)
    v = rng.uniform(0.5, 2, shape).astype(np.float32)
    dz = resample.Drizzle(kernel="square", out_shape=out_shape)
    sci, wht, con, ov = _new(out_shape, 1, np.float32)
    for k, off in enumerate([(0, 0), (0.4, 1.3)]):
        dz.add_image(data, exptime=1.0, pixmap=np.dstack([px + off[0], py + off[1]]), weight_map=w,
                     pixfrac=pixfrac, data2=v)
        drizzle_add(data, w, px + off[0], py + off[1], sci, wht, con, k, pixfrac, [v], ov)
    m = dz.out_wht > 0
    assert np.array_equal(wht > 0, m)
    np.testing.assert_allclose(wht[m], dz.out_wht[m], rtol=1e-5)
    np.testing.assert_allclose(sci[m], dz.out_img[m], rtol=1e-5)
    np.testing.assert_allclose(ov[0][m], dz.out_img2[0][m], rtol=1e-5)
    assert np.array_equal(con, dz.out_ctx[0])


@pytest.mark.crosscheck
def test_crosscheck_official_drizzle_at_output_edge():
    """drizzle skips input pixels straddling the output border; we keep their partial overlap, which is what
    drizzle itself gives on a larger canvas (and what makes tiles exact)."""
    resample = pytest.importorskip("drizzle.resample")
    shape = (30, 30)
    px, py = distorted_map(shape, scale=0.9, theta=0.3, k=0.0)
    px, py = px - 6, py - 6  # part of the input falls off the output
    data = np.random.default_rng(11).normal(5, 1, shape).astype(np.float32)
    sci, wht, con, _ = _new((40, 40), 0, np.float32)
    drizzle_add(data, None, px, py, sci, wht, con, 0, 1.0)
    pad = 20
    dz = resample.Drizzle(kernel="square", out_shape=(40 + 2 * pad, 40 + 2 * pad))
    dz.add_image(data, exptime=1.0, pixmap=np.dstack([px + pad, py + pad]), pixfrac=1.0)
    np.testing.assert_allclose(wht, dz.out_wht[pad:-pad, pad:-pad], rtol=1e-5, atol=1e-6)
    m = wht > 0
    np.testing.assert_allclose(sci[m], dz.out_img[pad:-pad, pad:-pad][m], rtol=1e-5)


@pytest.mark.crosscheck
@pytest.mark.parametrize("order,interp", [(1, "linear"), (3, "poly3"), (5, "poly5")])
def test_crosscheck_official_blot(order, interp):
    resample = pytest.importorskip("drizzle.resample")
    rng = np.random.default_rng(12)
    img = rng.normal(size=(80, 90)).astype(np.float32)
    img = (img + np.roll(img, 1, 0) + np.roll(img, 1, 1)).astype(np.float32)
    shape = (50, 60)
    px, py = distorted_map(shape, scale=1.1, theta=0.2, k=1e-4)
    px, py = px + 15, py + 10
    ref = resample.blot_image(img, np.dstack([px, py]), interp=interp, fillval=np.nan)
    out = np.full(shape, np.nan, np.float32)
    blot(img, px, py, out, 0, 0, order, 1.0)
    m = np.isfinite(out)
    assert m.sum() > 0.8 * m.size
    # tblot interpolates in float32: compare to float32 precision of the image values
    np.testing.assert_allclose(out[m], ref[m], rtol=1e-5, atol=1e-5 * np.abs(img).max())
