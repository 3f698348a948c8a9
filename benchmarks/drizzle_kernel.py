"""Time jwstlazy's drizzle kernel against the official ``drizzle`` package (square kernel).

2048x2048 input -> 2200x2200 output, small rotation + mild distortion (NIRCam-like), pixfrac 1.0;
with and without three variance arrays (VAR_RNOISE, VAR_POISSON, VAR_FLAT); also 4 output tiles; blot.
Prints a table of the median of 3 runs (after one warm-up/compile call). Single thread.

    python benchmarks/drizzle_kernel.py [--size 2048] [--out 2200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from jwstlazy.kernels.drizzle import blot, drizzle_add, input_box_for_tile


def make_pixmap(n, nout, theta=0.05, scale=1.0, dist=2e-6):
    y, x = np.indices((n, n), dtype=np.float64)
    c0 = (n - 1) / 2
    xc, yc = x - c0, y - c0
    xc, yc = xc + dist * (xc**2 - yc**2), yc + dist * 2 * xc * yc
    ct, st = np.cos(theta), np.sin(theta)
    co = (nout - 1) / 2
    return (ct * xc - st * yc) / scale + co, (st * xc + ct * yc) / scale + co


def median_time(fn, repeat):
    fn()  # warm-up (numba compile / cache load)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--out", type=int, default=2200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pixfrac", type=float, default=1.0)
    args = ap.parse_args()
    n, nout, pf = args.size, args.out, args.pixfrac
    rng = np.random.default_rng(0)
    data = rng.normal(1.0, 0.1, (n, n)).astype(np.float32)
    wht = rng.uniform(0.5, 1.5, (n, n)).astype(np.float32)
    var = [rng.uniform(0.5, 1.5, (n, n)).astype(np.float32) for _ in range(3)]
    px, py = make_pixmap(n, nout)
    pixmap = np.dstack([px, py])
    shape = (nout, nout)
    rows = []

    def ours(nvar):
        def run():
            sci = np.zeros(shape, np.float32)
            w = np.zeros(shape, np.float32)
            con = np.zeros(shape, np.int32)
            ov = [np.zeros(shape, np.float32) for _ in range(nvar)]
            drizzle_add(data, wht, px, py, sci, w, con, 0, pf, var[:nvar], ov)
        return run

    def ours_tiles(ntile):
        def run():
            t = nout // ntile
            for ty in range(ntile):
                for tx in range(ntile):
                    sci = np.zeros((t, t), np.float32)
                    w = np.zeros((t, t), np.float32)
                    box = input_box_for_tile(px, py, tx * t, ty * t, t, t, 2.0)
                    drizzle_add(data, wht, px, py, sci, w, None, 0, pf, tile_origin=(ty * t, tx * t),
                                input_box=box)
        return run

    rows.append(("jwstlazy drizzle_add", "", median_time(ours(0), args.repeat)))
    rows.append(("jwstlazy drizzle_add", "+3 var", median_time(ours(3), args.repeat)))
    rows.append(("jwstlazy drizzle_add 2x2 tiles", "", median_time(ours_tiles(2), args.repeat)))
    img = rng.normal(1.0, 0.1, shape).astype(np.float32)

    def ours_blot():
        out = np.zeros((n, n), np.float32)
        blot(img, px, py, out, 0, 0, 5, 1.0)

    rows.append(("jwstlazy blot poly5", "", median_time(ours_blot, args.repeat)))
    try:
        from drizzle.resample import Drizzle, blot_image
    except ImportError:
        Drizzle = None
    if Drizzle is not None:
        def theirs(nvar):
            def run():
                d = Drizzle(kernel="square", out_shape=shape, fillval=0.0)
                d.add_image(data, exptime=1.0, pixmap=pixmap, weight_map=wht, pixfrac=pf,
                            data2=var[:nvar] if nvar else None)
            return run

        rows.append(("drizzle 2.x Drizzle.add_image", "", median_time(theirs(0), args.repeat)))
        rows.append(("drizzle 2.x Drizzle.add_image", "+3 var", median_time(theirs(3), args.repeat)))
        rows.append(("drizzle 2.x blot_image poly5", "",
                     median_time(lambda: blot_image(img, pixmap, interp="poly5"), args.repeat)))
    print(f"drizzle square kernel, {n}x{n} -> {nout}x{nout}, pixfrac={pf}, median of {args.repeat}")
    print(f"{'implementation':34s} {'extra':8s} {'seconds':>8s}")
    for name, extra, t in rows:
        print(f"{name:34s} {extra:8s} {t:8.3f}")


if __name__ == "__main__":
    main()
