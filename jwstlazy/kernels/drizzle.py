"""Drizzle (square kernel, exact area overlap) and blot kernels for resampling.

Pure numpy/numba: no dask, xarray or I/O. The step layer (``steps/image2/resample``, ``steps/image3``)
builds the pixel map from the WCSs, the weight map from ``weight_type`` and DQ, splits the output mosaic
into tiles, and applies ``fillval`` where the final weight is zero.

Conventions
-----------
* Arrays are C order ``(y, x)``. Pixel ``(j, i)`` is centred on the integer coordinates ``(x=i, y=j)`` and
  covers ``[i - 0.5, i + 0.5] x [j - 0.5, j + 0.5]`` (the FITS/DS9 convention minus one).
* ``pixmap_x, pixmap_y`` (ny_in, nx_in) float64: GLOBAL output-frame coordinates (output pixels, 0-based)
  of the CENTRE of every input pixel, exactly drizzle's ``pixmap[..., 0]``/``pixmap[..., 1]``.
  NaN marks input pixels without a valid mapping (they are skipped).
* The corners of an input pixel's drop (the input square shrunk about its centre to side ``pixfrac``) are
  found by bilinear interpolation of the pixel map at ``(i +- pixfrac/2, j +- pixfrac/2)``, linearly
  extrapolated at the input edges; this is what the official ``cdrizzle`` does, so the drop is a
  quadrilateral in the output frame and no Jacobian is needed.
* An output TILE is the window ``[x0, x0 + nx_tile) x [y0, y0 + ny_tile)`` of the global output grid;
  ``out_*`` arrays are the tile. Overlap with pixels outside the tile is simply not written, so tiles of a
  mosaic can be drizzled independently (and in parallel) with results identical to one big output.
  :func:`input_rows_for_tiles` gives, per tile and input row, the input columns that can land on the tile
  (``drizzle_add(..., input_rows=...)``), so each tile visits only its own input pixels even when the
  output grid is rotated relative to the detector. ``drizzle_square`` releases the GIL.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np

__all__ = [
    "blot",
    "drizzle_add",
    "drizzle_square",
    "input_box_for_tile",
    "input_rows_for_tile",
    "input_rows_for_tiles",
    "pixel_overlap_area",
]


# ----------------------------------------------------------------------------------------------------------
# geometry helpers
# ----------------------------------------------------------------------------------------------------------
@numba.njit(cache=True, inline="always")
def _interp_map(px, py, x, y):
    """Bilinear interpolation (linear extrapolation at the edges) of the pixel map at input (x, y)."""
    ny, nx = px.shape
    if nx > 1:
        i0 = int(np.floor(x))
        if i0 < 0:
            i0 = 0
        elif i0 > nx - 2:
            i0 = nx - 2
        i1 = i0 + 1
        fx = x - i0
    else:
        i0 = 0
        i1 = 0
        fx = 0.0
    if ny > 1:
        j0 = int(np.floor(y))
        if j0 < 0:
            j0 = 0
        elif j0 > ny - 2:
            j0 = ny - 2
        j1 = j0 + 1
        fy = y - j0
    else:
        j0 = 0
        j1 = 0
        fy = 0.0
    gx = 1.0 - fx
    gy = 1.0 - fy
    ox = gy * (gx * px[j0, i0] + fx * px[j0, i1]) + fy * (gx * px[j1, i0] + fx * px[j1, i1])
    oy = gy * (gx * py[j0, i0] + fx * py[j0, i1]) + fy * (gx * py[j1, i0] + fx * py[j1, i1])
    return ox, oy


@numba.njit(cache=True, inline="always")
def _clamp01(v):
    if v < 0.0:
        return 0.0
    if v > 1.0:
        return 1.0
    return v


@numba.njit(cache=True, nogil=True)
def _sgarea(x1, y1, x2, y2):
    """Signed integral of clamp(y, 0, 1) dx along the segment (x1,y1)->(x2,y2), with x restricted to [0, 1].

    Summed over the closed edges of a polygon, its absolute value is the area of the polygon's intersection
    with the unit square [0, 1]^2 (Green's theorem with P = 1[0<=x<=1] clamp(y, 0, 1)).
    """
    dx = x2 - x1
    if dx == 0.0:
        return 0.0
    if dx > 0.0:
        xlo, xhi, sgn = x1, x2, 1.0
    else:
        xlo, xhi, sgn = x2, x1, -1.0
    if xhi <= 0.0 or xlo >= 1.0:
        return 0.0
    m = (y2 - y1) / dx
    c = y1 - m * x1
    xlo = max(xlo, 0.0)
    xhi = min(xhi, 1.0)
    ylo = m * xlo + c
    yhi = m * xhi + c
    if ylo <= 0.0 and yhi <= 0.0:
        return 0.0
    if ylo >= 1.0 and yhi >= 1.0:
        return sgn * (xhi - xlo)
    # piecewise-linear integrand: break where the line crosses y = 0 and y = 1 inside (xlo, xhi)
    area = 0.0
    xa = xlo
    ya = _clamp01(ylo)
    if m != 0.0:
        xc0 = -c / m
        xc1 = (1.0 - c) / m
        if xc0 > xc1:
            xc0, xc1 = xc1, xc0
        if xc0 > xlo and xc0 < xhi:
            yc = _clamp01(m * xc0 + c)
            area += 0.5 * (ya + yc) * (xc0 - xa)
            xa = xc0
            ya = yc
        if xc1 > xlo and xc1 < xhi:
            yc = _clamp01(m * xc1 + c)
            area += 0.5 * (ya + yc) * (xc1 - xa)
            xa = xc1
            ya = yc
    area += 0.5 * (ya + _clamp01(yhi)) * (xhi - xa)
    return sgn * area


@numba.njit(cache=True, nogil=True)
def _box_overlap(xs, ys, bx, by):
    """Area of the quadrilateral (xs, ys) inside the unit square with lower-left corner (bx, by)."""
    a = 0.0
    for k in range(4):
        kn = (k + 1) % 4
        a += _sgarea(xs[k] - bx, ys[k] - by, xs[kn] - bx, ys[kn] - by)
    return abs(a)


@numba.njit(cache=True, nogil=True)
def pixel_overlap_area(xs, ys, i, j):
    """Exact area (output pixels^2) of the quadrilateral ``xs, ys`` (4,) inside output pixel (x=i, y=j).

    The polygon may be given in either orientation; it must be simple (convex quads always are).
    """
    return _box_overlap(xs, ys, i - 0.5, j - 0.5)


# ----------------------------------------------------------------------------------------------------------
# drizzle: square kernel
# ----------------------------------------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def drizzle_square(
    data,
    weight,
    pixmap_x,
    pixmap_y,
    out_sci,
    out_wht,
    out_con,
    bit,
    variances,
    out_variances,
    pixfrac,
    iscale,
    x0,
    y0,
    row_start,
    row_stop,
):
    """Add one input image onto an output tile with drizzle's square kernel (exact overlap areas).

    Parameters (all arrays C-contiguous or not, any float dtype unless stated)
    ----------
    data : (ny, nx) float — input surface brightness (e.g. MJy/sr) or any intensive quantity.
    weight : (ny, nx) float — per-pixel weight w (>= 0; e.g. 1/VAR_RNOISE or exposure time, 0 for bad DQ).
    pixmap_x, pixmap_y : (ny, nx) float64 — global output coordinates of input pixel centres (NaN: unmapped).
    out_sci, out_wht : (nty, ntx) float — tile, updated in place (start at 0 / 0).
    out_con : (nty, ntx) uint32 — one 32-bit context plane, bit ``bit`` set where the input adds
        weight > 0. Pass an array of shape (0, 0) to skip context.
    bit : int in [0, 31] — bit index of this input inside the plane (input number % 32).
    variances : (nvar, ny, nx) float — input variances (units of data^2); nvar may be 0.
    out_variances : (nvar, nty, ntx) float — updated in place (start at 0).
    pixfrac : float in (0, 1] — linear size of the drop relative to the input pixel.
    iscale : float — data are multiplied by iscale, variances by iscale^2.
    x0, y0 : int — global output coordinates of the tile's pixel [0, 0].
    row_start, row_stop : (ny,) int — input pixels processed: columns ``row_start[j] <= i < row_stop[j]`` of
        each row j (empty where start >= stop), e.g. from :func:`input_rows_for_tiles`.

    For each valid input pixel (finite data, finite variances, finite weight > 0, finite corners) with
    drop area J (output pixels^2) and, for each output pixel o it overlaps by area A_o, a = A_o / J:
        W' = W + w a
        S' = (S W + d w a) / W'                               (weighted mean, drizzle's eq. 4-5)
        V' = (V W^2 + (w a)^2 v) / W'^2   i.e.  V = sum (w a)^2 v / (sum w a)^2
    Returns the number of input pixels that added weight to the tile.
    """
    ny, nx = data.shape
    nty, ntx = out_sci.shape
    nvar = variances.shape[0]
    use_con = out_con.shape[0] > 0
    cbit = np.uint32(1) << np.uint32(bit)
    dh = 0.5 * pixfrac
    iscale2 = iscale * iscale
    xs = np.empty(4)
    ys = np.empty(4)
    vv = np.empty(nvar)
    e_lo = np.empty(4)
    e_hi = np.empty(4)
    e_sg = np.empty(4)
    e_m = np.empty(4)
    e_c = np.empty(4)
    ovb = np.empty(64)
    # corner offsets in input pixels, counter-clockwise
    cx = (-dh, dh, dh, -dh)
    cy = (-dh, -dh, dh, dh)
    nadded = 0
    # pixfrac == 1: neighbouring pixels share corners. Vertex (column c, vertex row r) sits at input
    # (c - 0.5, r - 0.5); it is interpolated once and kept in buffer r % 2 (stamp = r) for the next row
    # (same arithmetic at the same point, so results are bit-identical to the per-pixel path)
    shared = pixfrac == 1.0
    nbuf = nx + 1 if shared else 1
    vx = np.empty((2, nbuf))
    vy = np.empty((2, nbuf))
    stamp = np.full((2, nbuf), -1, dtype=np.int64)
    for j in range(ny):
        xstart = max(row_start[j], 0)
        xstop = min(row_stop[j], nx)
        if xstart >= xstop:
            continue
        lo = j % 2
        hi = 1 - lo
        if shared:
            for c in range(xstart, xstop + 1):
                if stamp[lo, c] != j:
                    vx[lo, c], vy[lo, c] = _interp_map(pixmap_x, pixmap_y, c - 0.5, j - 0.5)
                    stamp[lo, c] = j
                if stamp[hi, c] != j + 1:
                    vx[hi, c], vy[hi, c] = _interp_map(pixmap_x, pixmap_y, c - 0.5, j + 0.5)
                    stamp[hi, c] = j + 1
        for i in range(xstart, xstop):
            d = data[j, i]
            w = weight[j, i]
            if not (np.isfinite(d) and np.isfinite(w)) or w <= 0.0:
                continue
            ok = True
            for k in range(nvar):
                vv[k] = variances[k, j, i] * iscale2
                if not np.isfinite(vv[k]):
                    ok = False
            if not ok:
                continue
            if shared:
                xs[0] = vx[lo, i]
                ys[0] = vy[lo, i]
                xs[1] = vx[lo, i + 1]
                ys[1] = vy[lo, i + 1]
                xs[2] = vx[hi, i + 1]
                ys[2] = vy[hi, i + 1]
                xs[3] = vx[hi, i]
                ys[3] = vy[hi, i]
            else:
                for k in range(4):
                    xs[k], ys[k] = _interp_map(pixmap_x, pixmap_y, i + cx[k], j + cy[k])
            xmin = np.inf
            xmax = -np.inf
            ymin = np.inf
            ymax = -np.inf
            for k in range(4):
                xs[k] -= x0
                ys[k] -= y0
                xmin = min(xmin, xs[k])
                xmax = max(xmax, xs[k])
                ymin = min(ymin, ys[k])
                ymax = max(ymax, ys[k])
            if not (np.isfinite(xmin) and np.isfinite(xmax) and np.isfinite(ymin) and np.isfinite(ymax)):
                continue
            # output pixel ii covers [ii - 0.5, ii + 0.5]
            ilo = max(int(np.floor(xmin + 0.5)), 0)
            ihi = min(int(np.floor(xmax + 0.5)), ntx - 1)
            jlo = max(int(np.floor(ymin + 0.5)), 0)
            jhi = min(int(np.floor(ymax + 0.5)), nty - 1)
            if ilo > ihi or jlo > jhi:
                continue
            # drop area (shoelace == drizzle's diagonal cross product for a quadrilateral)
            jaco = 0.5 * abs((xs[0] - xs[2]) * (ys[1] - ys[3]) - (xs[1] - xs[3]) * (ys[0] - ys[2]))
            if jaco <= 0.0:
                continue
            ne = 0
            for k in range(4):
                kn = (k + 1) % 4
                dx = xs[kn] - xs[k]
                if dx == 0.0:
                    continue  # vertical edges add no area
                m = (ys[kn] - ys[k]) / dx
                e_m[ne] = m
                e_c[ne] = ys[k] - m * xs[k]
                if dx > 0.0:
                    e_lo[ne] = xs[k]
                    e_hi[ne] = xs[kn]
                    e_sg[ne] = 1.0
                else:
                    e_lo[ne] = xs[kn]
                    e_hi[ne] = xs[k]
                    e_sg[ne] = -1.0
                ne += 1
            ds = d * iscale
            wj = w / jaco
            added = False
            # overlaps of the drop with every output pixel of its box, column by column: each edge is
            # clipped to the column once, then  int clamp(y - b, 0, 1) dx = G(b) - G(b + 1)  per row, with
            # G(b) = int max(y - b, 0) dx over the clipped edge (Green's theorem, as _sgarea)
            nr = jhi - jlo + 1
            nc = ihi - ilo + 1
            if nr * nc > ovb.shape[0]:
                ovb = np.empty(2 * nr * nc)
            ovb[: nr * nc] = 0.0
            for q in range(nc):
                cl = ilo + q - 0.5
                cr = cl + 1.0
                for k in range(ne):
                    xa = max(cl, e_lo[k])
                    xb = min(cr, e_hi[k])
                    if xb <= xa:
                        continue
                    m = e_m[k]
                    ya = m * xa + e_c[k]
                    yb = m * xb + e_c[k]
                    if ya <= yb:
                        ymin = ya
                        ymax = yb
                    else:
                        ymin = yb
                        ymax = ya
                    wdt = xb - xa
                    sg = e_sg[k]
                    ymean = 0.5 * (ya + yb)
                    half_inv_m = 0.5 / abs(m) if m != 0.0 else 0.0
                    for r in range(nr):
                        bl = jlo + r - 0.5
                        bh = bl + 1.0
                        if bh <= ymin:
                            ovb[r * nc + q] += sg * wdt
                            continue
                        if bl >= ymax:
                            break
                        if bl <= ymin:
                            g = wdt * (ymean - bl)
                        else:
                            g = (ymax - bl) * (ymax - bl) * half_inv_m
                        if bh < ymax:
                            g -= (ymax - bh) * (ymax - bh) * half_inv_m
                        ovb[r * nc + q] += sg * g
            for jj in range(jlo, jhi + 1):
                for ii in range(ilo, ihi + 1):
                    ov = abs(ovb[(jj - jlo) * nc + ii - ilo])
                    if ov <= 0.0:
                        continue
                    dow = wj * ov
                    vc = out_wht[jj, ii]
                    vn = vc + dow
                    if vc == 0.0:
                        out_sci[jj, ii] = ds
                        for k in range(nvar):
                            out_variances[k, jj, ii] = vv[k]
                    else:
                        out_sci[jj, ii] = (out_sci[jj, ii] * vc + dow * ds) / vn
                        if nvar > 0:
                            a = vc / vn
                            b = dow / vn
                            a *= a
                            b *= b
                            for k in range(nvar):
                                out_variances[k, jj, ii] = out_variances[k, jj, ii] * a + vv[k] * b
                    out_wht[jj, ii] = vn
                    if use_con:
                        out_con[jj, ii] |= cbit
                    added = True
            if added:
                nadded += 1
    return nadded


def _as_stack(arrs, shape, dtype, name):
    """Sequence of 2-D arrays (or one 3-D array) -> 3-D array (nvar, *shape)."""
    if arrs is None:
        return np.zeros((0,) + tuple(shape), dtype=dtype), False
    if isinstance(arrs, np.ndarray) and arrs.ndim == 3:
        out = arrs
    elif isinstance(arrs, np.ndarray) and arrs.ndim == 2:
        out = arrs[None]
    else:
        arrs = list(arrs)
        if not arrs:
            return np.zeros((0,) + tuple(shape), dtype=dtype), False
        out = np.stack([np.asarray(a) for a in arrs])
    if out.shape[1:] != tuple(shape):
        raise ValueError(f"{name}: expected arrays of shape {tuple(shape)}, got {out.shape[1:]}")
    return out, True


def drizzle_add(
    data: np.ndarray,
    weight: np.ndarray | None,
    pixmap_x: np.ndarray,
    pixmap_y: np.ndarray,
    out_sci: np.ndarray,
    out_wht: np.ndarray,
    out_con: np.ndarray | None = None,
    input_index: int = 0,
    pixfrac: float = 1.0,
    variances: Sequence[np.ndarray] | np.ndarray = (),
    out_variances: Sequence[np.ndarray] | np.ndarray = (),
    iscale: float = 1.0,
    tile_origin: tuple[int, int] = (0, 0),
    input_box: tuple[int, int, int, int] | None = None,
    input_rows: tuple[np.ndarray, np.ndarray] | None = None,
) -> int:
    """Drizzle one input image onto an output tile (square kernel); updates the ``out_*`` arrays in place.

    data (ny, nx) float; weight (ny, nx) float or None (= 1); pixmap_x/pixmap_y (ny, nx) global output
    coordinates of input pixel centres; out_sci/out_wht (nty, ntx) float32 or float64 (zeros at first);
    out_con None, (nty, ntx) or (nplanes, nty, ntx) int32/uint32: bit ``input_index % 32`` of plane
    ``input_index // 32`` is set where this input adds weight; pixfrac in (0, 1]; variances: sequence of
    (ny, nx) arrays (or a (nvar, ny, nx) array), out_variances the matching (nty, ntx) outputs (zeros at
    first), combined with squared weights; iscale multiplies data (variances by iscale**2);
    tile_origin = (y0, x0) global output pixel of out_*[0, 0]; input_box = (ystart, ystop, xstart, xstop)
    restricts the input pixels processed (the map is still interpolated with all neighbours);
    input_rows = (row_start, row_stop), two (ny,) int arrays, restricts them row by row instead
    (:func:`input_rows_for_tile`: only the pixels that can land on the tile; takes precedence over input_box).
    Returns the number of input pixels that added weight to the tile.
    """
    data = np.asarray(data)
    if data.ndim != 2:
        raise ValueError(f"data must be 2-D, got shape {data.shape}")
    if not 0.0 < pixfrac <= 1.0:
        raise ValueError(f"pixfrac must be in (0, 1], got {pixfrac}")
    shape = data.shape
    weight = np.ones(shape, dtype=np.float32) if weight is None else np.asarray(weight)
    pixmap_x = np.asarray(pixmap_x, dtype=np.float64)
    pixmap_y = np.asarray(pixmap_y, dtype=np.float64)
    for name, a in (("weight", weight), ("pixmap_x", pixmap_x), ("pixmap_y", pixmap_y)):
        if a.shape != shape:
            raise ValueError(f"{name} shape {a.shape} differs from data shape {shape}")
    if out_sci.shape != out_wht.shape or out_sci.ndim != 2:
        raise ValueError("out_sci and out_wht must be 2-D arrays of the same shape")
    tshape = out_sci.shape
    if out_con is None:
        con = np.zeros((0, 0), dtype=np.uint32)
    else:
        if out_con.ndim == 3:
            con = out_con[input_index // 32]
        elif out_con.ndim == 2:
            if input_index >= 32:
                raise ValueError("a 2-D context plane holds inputs 0..31; pass (nplanes, y, x) for more")
            con = out_con
        else:
            raise ValueError("out_con must be 2-D or 3-D")
        if con.shape != tshape:
            raise ValueError(f"out_con plane shape {con.shape} differs from out_sci shape {tshape}")
        if con.dtype == np.int32:
            con = con.view(np.uint32)
        elif con.dtype != np.uint32:
            raise ValueError("out_con must be int32 or uint32")
    var_in, _ = _as_stack(variances, shape, np.float32, "variances")
    if isinstance(out_variances, np.ndarray) and out_variances.ndim == 3:
        var_out_list = None
        var_out = out_variances
    else:
        var_out_list = [out_variances] if isinstance(out_variances, np.ndarray) else list(out_variances)
        var_out, _ = _as_stack(var_out_list, tshape, out_sci.dtype, "out_variances")
    if var_in.shape[0] != var_out.shape[0]:
        raise ValueError(f"{var_in.shape[0]} variance inputs but {var_out.shape[0]} variance outputs")
    if var_out.shape[1:] != tshape:
        raise ValueError(f"out_variances shape {var_out.shape[1:]} differs from out_sci shape {tshape}")
    if input_rows is not None:
        row_start = np.ascontiguousarray(input_rows[0], dtype=np.int64)
        row_stop = np.ascontiguousarray(input_rows[1], dtype=np.int64)
        if row_start.shape != (shape[0],) or row_stop.shape != (shape[0],):
            raise ValueError(f"input_rows: expected two arrays of shape ({shape[0]},)")
    else:
        ystart, ystop, xstart, xstop = (0, shape[0], 0, shape[1]) if input_box is None else map(int, input_box)
        inside = (np.arange(shape[0]) >= ystart) & (np.arange(shape[0]) < ystop)
        row_start = np.where(inside, xstart, 0).astype(np.int64)
        row_stop = np.where(inside, xstop, 0).astype(np.int64)
    y0, x0 = tile_origin
    n = drizzle_square(
        data, weight, pixmap_x, pixmap_y, out_sci, out_wht, con, int(input_index % 32),
        var_in, var_out, float(pixfrac), float(iscale), int(x0), int(y0), row_start, row_stop,
    )
    if var_out_list:  # copy back into the caller's separate 2-D arrays
        for k, a in enumerate(var_out_list):
            a[...] = var_out[k]
    return n


@numba.njit(cache=True, nogil=True)
def input_box_for_tile(pixmap_x, pixmap_y, x0, y0, nty, ntx, margin):
    """Bounding box (ystart, ystop, xstart, xstop) of input pixels whose centre maps within ``margin`` output
    pixels of the tile [x0, x0+ntx) x [y0, y0+nty). Empty box -> (0, 0, 0, 0). ``margin`` must exceed the
    largest drop half-size (in output pixels), e.g. 1 + input/output pixel-scale ratio.
    """
    ny, nx = pixmap_x.shape
    ya, yb, xa, xb = ny, -1, nx, -1
    lox = x0 - 0.5 - margin
    hix = x0 + ntx - 0.5 + margin
    loy = y0 - 0.5 - margin
    hiy = y0 + nty - 0.5 + margin
    for j in range(ny):
        for i in range(nx):
            X = pixmap_x[j, i]
            Y = pixmap_y[j, i]
            if X >= lox and X <= hix and Y >= loy and Y <= hiy:
                ya = min(ya, j)
                yb = max(yb, j)
                xa = min(xa, i)
                xb = max(xb, i)
    if yb < 0:
        return 0, 0, 0, 0
    return ya, yb + 1, xa, xb + 1


@numba.njit(cache=True, nogil=True)
def input_rows_for_tiles(pixmap_x, pixmap_y, y_edges, x_edges, margin):
    """Per row, the input columns worth visiting for every tile of a tiling, in one pass over the map.

    y_edges (nty + 1,), x_edges (ntx + 1,) increasing ints: tile (ty, tx) is the global output window
    [x_edges[tx], x_edges[tx+1]) x [y_edges[ty], y_edges[ty+1]). Input pixel (j, i) belongs to a tile when
    its mapped centre lies within ``margin`` output pixels of the tile (``margin`` must exceed the largest
    drop half-size in output pixels, as for :func:`input_box_for_tile`; NaN centres belong nowhere).
    Returns rows (nty, ntx, 2, ny) int64: for tile (ty, tx) the pixels of row j to visit are the columns
    ``rows[ty, tx, 0, j] <= i < rows[ty, tx, 1, j]`` (first and last member + 1; empty rows have
    start >= stop). Pass ``(rows[ty, tx, 0], rows[ty, tx, 1])`` as ``drizzle_add(..., input_rows=)``.
    """
    ny, nx = pixmap_x.shape
    nty = y_edges.shape[0] - 1
    ntx = x_edges.shape[0] - 1
    rows = np.empty((nty, ntx, 2, ny), dtype=np.int64)
    rows[:, :, 0, :] = nx
    rows[:, :, 1, :] = 0
    if nty < 1 or ntx < 1:
        return rows
    # pixel centre X belongs to tile column t when lo[t] <= X <= hi[t]
    xlo = x_edges[:-1] - 0.5 - margin
    xhi = x_edges[1:] - 0.5 + margin
    ylo = y_edges[:-1] - 0.5 - margin
    yhi = y_edges[1:] - 0.5 + margin
    for j in range(ny):
        for i in range(nx):
            X = pixmap_x[j, i]
            Y = pixmap_y[j, i]
            if not (X >= xlo[0] and X <= xhi[ntx - 1] and Y >= ylo[0] and Y <= yhi[nty - 1]):
                continue  # also NaN
            # first tile column whose upper limit reaches X (hi is increasing), then walk while lo <= X
            ta = np.searchsorted(xhi, X)
            sa = np.searchsorted(yhi, Y)
            for ty in range(sa, nty):
                if ylo[ty] > Y:
                    break
                for tx in range(ta, ntx):
                    if xlo[tx] > X:
                        break
                    rows[ty, tx, 0, j] = min(rows[ty, tx, 0, j], i)
                    rows[ty, tx, 1, j] = i + 1
    return rows


def input_rows_for_tile(pixmap_x, pixmap_y, x0, y0, nty, ntx, margin):
    """(row_start, row_stop) (ny,) int64 of the input pixels whose centre maps within ``margin`` output pixels
    of the tile [x0, x0+ntx) x [y0, y0+nty): per row, a subset of :func:`input_box_for_tile`'s box.
    """
    rows = input_rows_for_tiles(np.asarray(pixmap_x, dtype=np.float64), np.asarray(pixmap_y, dtype=np.float64),
                                np.array([y0, y0 + nty], dtype=np.int64), np.array([x0, x0 + ntx], dtype=np.int64),
                                float(margin))
    return rows[0, 0, 0], rows[0, 0, 1]


# ----------------------------------------------------------------------------------------------------------
# blot: interpolate a (tile of a) resampled image back at input-pixel positions
# ----------------------------------------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def _lagrange_weights(f, npts, inv_den, out):
    """Lagrange weights for nodes 0..npts-1 evaluated at f: prod_{m!=k}(f - m) * inv_den[k] (prefix/suffix)."""
    left = 1.0
    for k in range(npts):
        out[k] = left
        left *= f - k
    right = 1.0
    for k in range(npts - 1, -1, -1):
        out[k] *= right * inv_den[k]
        right *= f - k


@numba.njit(cache=True, nogil=True)
def blot(image, pixmap_x, pixmap_y, out, x0, y0, order, iscale):
    """Interpolate ``image`` at the positions ``(pixmap_x, pixmap_y)`` and write them into ``out``.

    image : (nty, ntx) float — resampled image (or one tile of it whose pixel [0, 0] is global (x0, y0)).
    pixmap_x, pixmap_y : (ny, nx) float64 — global coordinates, in the image's frame, of each out pixel.
    out : (ny, nx) float — written in place ONLY where the whole interpolation stencil lies inside
        ``image`` and all its values are finite; other pixels are left as they are (pre-fill with fillval;
        blot overlapping tiles with a halo of ``order // 2 + 1`` pixels to cover a mosaic).
    order : 0 nearest, 1 bilinear, 3 cubic (4x4 Lagrange), 5 quintic (6x6 Lagrange; drizzle's "poly3/5").
    iscale : multiplicative factor applied to the result.
    Returns the number of pixels written.
    """
    ny, nx = pixmap_x.shape
    nty, ntx = image.shape
    npts = order + 1 if order > 0 else 1
    half = (npts - 1) // 2  # nodes floor(x) - half ... floor(x) - half + npts - 1
    wx = np.empty(npts)
    wy = np.empty(npts)
    inv_den = np.empty(npts)
    for k in range(npts):
        den = 1.0
        for m in range(npts):
            if m != k:
                den *= k - m
        inv_den[k] = 1.0 / den
    nwritten = 0
    for j in range(ny):
        for i in range(nx):
            X = pixmap_x[j, i] - x0
            Y = pixmap_y[j, i] - y0
            if not (np.isfinite(X) and np.isfinite(Y)):
                continue
            if order == 0:
                ix = int(np.floor(X + 0.5))
                iy = int(np.floor(Y + 0.5))
                if ix < 0 or iy < 0 or ix >= ntx or iy >= nty:
                    continue
                v = image[iy, ix]
                if np.isfinite(v):
                    out[j, i] = v * iscale
                    nwritten += 1
                continue
            fx0 = np.floor(X)
            fy0 = np.floor(Y)
            ix = int(fx0) - half
            iy = int(fy0) - half
            fx = X - fx0 + half
            fy = Y - fy0 + half
            # exact node hit on the last column/row: shift the stencil left so it stays inside
            if ix + npts - 1 >= ntx and X == fx0 and ix > 0:
                ix -= 1
                fx += 1.0
            if iy + npts - 1 >= nty and Y == fy0 and iy > 0:
                iy -= 1
                fy += 1.0
            if ix < 0 or iy < 0 or ix + npts - 1 >= ntx or iy + npts - 1 >= nty:
                continue
            _lagrange_weights(fx, npts, inv_den, wx)
            _lagrange_weights(fy, npts, inv_den, wy)
            acc = 0.0
            for b in range(npts):
                row = 0.0
                for a in range(npts):
                    row += wx[a] * image[iy + b, ix + a]
                acc += wy[b] * row
            if np.isfinite(acc):
                out[j, i] = acc * iscale
                nwritten += 1
    return nwritten
