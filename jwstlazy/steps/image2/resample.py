"""The ``resample`` step (single exposure): drizzle a cal image onto a north-up TAN grid → product ``i2d``.

Lazy, tile by tile: one task evaluates the pixel map (every input pixel centre in output pixels, float64)
from a verified bicubic spline of the exposure's gwcs (attr ``wcs``, set by assign_wcs) composed with the
output grid (:class:`jwstlazy.wcs.pixmap.PixelMap`, ~1e-8 pixel from the exact transform) and finds, for
every output tile and input row, the input columns that can land on the tile
(:func:`jwstlazy.kernels.drizzle.input_rows_for_tiles`); each output tile is one task that drizzles just
those pixels with :func:`jwstlazy.kernels.drizzle.drizzle_add` (square kernel, exact overlap areas; the
kernel releases the GIL, so tiles run in parallel on the threads scheduler). As ``jwst.resample``
(jwst 3.0, stcal 1.20) for one image:
weights ``ivm`` = 1/VAR_RNOISE (or ``exptime``, or 1) times the DQ mask from ``good_bits``; SCI is the
weighted mean of the drops; WHT the summed weight; CON one int32 plane with bit 0 set where the image
contributes; ``fillval`` (NaN) where WHT is 0. Deliberate differences:

* the grid is north up by default (``rotation = 0``; ``None`` keeps the detector's orientation, jwst's default);
* variances are propagated as ``Σ (w a)² v / (Σ w a)²`` (exact for independent pixels), where jwst
  drizzles σ = sqrt(v) and squares the result, and divides by the pixel-scale ratio squared.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import dask
import dask.array as da
import numpy as np
import xarray as xr
from astropy import coordinates as coord
from astropy.nddata.bitmask import bitfield_to_boolean_mask
from gwcs import WCS

from jwstlazy.datamodels import dqflags
from jwstlazy.errors import JwstLazyInputError
from jwstlazy.kernels.drizzle import drizzle_add, input_rows_for_tiles
from jwstlazy.steps.base import Step, StepParameters
from jwstlazy.steps.image2.assign_wcs import WCS_ATTR
from jwstlazy.steps.image2.image_product import pixel_array, require_image
from jwstlazy.wcs import OutputGrid, footprint, output_grid, s_region
from jwstlazy.wcs.pixmap import PixelMap

VARIANCES = ("VAR_POISSON", "VAR_RNOISE", "VAR_FLAT")

#: Keywords of the input that describe the detector array or its WCS, not the resampled image.
_DETECTOR_KEYWORDS = ("S_REGION", "SUBSTRT1", "SUBSTRT2", "SUBSIZE1", "SUBSIZE2", "PIXAR_SR", "PIXAR_A2")


def input_pixel_scale(wcs: WCS, ra_ref: float, dec_ref: float) -> float:
    """Pixel scale (arcsec) of ``wcs`` at (ra_ref, dec_ref) deg: sqrt of the x and y steps of one pixel.

    As ``stcal.alignment.util.compute_scale`` (what jwst's resample uses for the output pixel scale).
    """
    x0, y0 = wcs.invert(ra_ref, dec_ref, with_bounding_box=False)
    ra, dec = wcs(np.array([x0, x0 + 1, x0]), np.array([y0, y0, y0 + 1]), with_bounding_box=False)
    points = coord.SkyCoord(ra=ra, dec=dec, unit="deg")
    x_step = points[0].separation(points[1]).arcsec
    y_step = points[0].separation(points[2]).arcsec
    return float(np.sqrt(x_step * y_step))


def detector_position_angle(wcs: WCS, shape: tuple[int, int]) -> float:
    """Position angle (deg east of north) of the detector's +y axis at the array centre."""
    ny, nx = shape
    ra, dec = wcs(np.array([(nx - 1) / 2] * 2), np.array([(ny - 1) / 2, (ny - 1) / 2 + 1]), with_bounding_box=False)
    start = coord.SkyCoord(ra[0], dec[0], unit="deg")
    return float(start.position_angle(coord.SkyCoord(ra[1], dec[1], unit="deg")).deg)


def _pixel_map_block(block: np.ndarray, pixmap: PixelMap, block_info=None) -> np.ndarray:
    """(2, by, bx) float64: output (x, y) of the centres of the input pixels of this block."""
    (y0, y1), (x0, x1) = block_info[None]["array-location"][-2:]
    return pixmap.block(y0, y1, x0, x1)


def fit_pixel_map(wcs: WCS, grid: OutputGrid, shape: tuple[int, int]) -> PixelMap:
    """The (verified, coarse-grid spline) map of input pixel centres of ``wcs`` → pixels of ``grid``."""
    return PixelMap.fit(wcs.forward_transform | grid.pixel_to_sky().inverse, shape)


def pixel_map(wcs: WCS, grid: OutputGrid, like: da.Array, pixmap: PixelMap | None = None) -> tuple[da.Array, da.Array]:
    """Lazy (ny, nx) float64 maps of input pixel centres → output pixels, chunked like ``like``."""
    pixmap = fit_pixel_map(wcs, grid, like.shape[-2:]) if pixmap is None else pixmap
    template = da.zeros(like.shape[-2:], dtype=np.float64, chunks=like.chunks[-2:])
    stacked = template.map_blocks(_pixel_map_block, pixmap, new_axis=0, chunks=((2,),) + template.chunks,
                                  dtype=np.float64, meta=np.empty((0, 0, 0)))
    return stacked[0], stacked[1]


def _weight_block(dq: np.ndarray, var_rnoise: np.ndarray, weight_type: str | None, good_bits: str,
                  exposure_time: float) -> np.ndarray:
    """Drizzle weight (float32) of one block: the DQ mask times 1/VAR_RNOISE, the exposure time, or 1."""
    good = bitfield_to_boolean_mask(dq, good_bits, good_mask_value=True, dtype=bool, flag_name_map=dqflags.PIXEL)
    if weight_type == "ivm":
        with np.errstate(divide="ignore", invalid="ignore"):
            usable = np.isfinite(var_rnoise) & (var_rnoise > 0)
            weight = np.where(usable, 1.0 / np.where(usable, var_rnoise, 1.0), 0.0)
    elif weight_type == "exptime":
        weight = np.full(dq.shape, exposure_time)
    else:
        weight = np.ones(dq.shape)
    return (weight * good).astype(np.float32)


def _map_and_rows(pixmap, y_edges, x_edges, margin):
    """Task (needs no pixels, so it runs while the cal data are computed): the whole pixel map and the row
    ranges of every tile, ``(map_x, map_y, rows)`` (:func:`input_rows_for_tiles`)."""
    map_x, map_y = pixmap.block(0, pixmap.shape[0], 0, pixmap.shape[1])
    return map_x, map_y, input_rows_for_tiles(map_x, map_y, y_edges, x_edges, margin)


def _gather_input(sci, weight, variances):
    """Task: the whole input as contiguous numpy arrays. Every tile task depends on this one result (passing
    the dask arrays to each tile's ``delayed`` instead would re-run their graph once per tile)."""
    return np.ascontiguousarray(sci), np.ascontiguousarray(weight), np.ascontiguousarray(variances)


def _drizzle_tile(inputs, mapped, index, origin, tile_shape, pixfrac, fillval):
    """Drizzle the input pixels of ``rows[index]`` onto one output tile; returns (SCI, WHT, CON, VAR) numpy arrays."""
    sci, weight, variances = inputs
    map_x, map_y, rows = mapped
    nty, ntx = tile_shape
    out_sci = np.zeros(tile_shape, np.float32)
    out_wht = np.zeros(tile_shape, np.float32)
    out_con = np.zeros((1, nty, ntx), np.int32)
    nvar = variances.shape[0]
    out_var = np.zeros((nvar, nty, ntx), np.float32)
    start, stop = rows[index][0], rows[index][1]
    if (stop > start).any():
        drizzle_add(sci, weight, map_x, map_y, out_sci, out_wht, out_con, 0, pixfrac,
                    variances if nvar else (), out_var if nvar else (), 1.0, origin, input_rows=(start, stop))
    empty = out_wht == 0
    out_sci[empty] = fillval
    out_var[:, empty] = np.nan
    return out_sci, out_wht, out_con, out_var


def _tiles(shape: tuple[int, int], tile: int) -> list[list[tuple[int, int, int, int]]]:
    """Rows of (y0, x0, nty, ntx) tiles covering ``shape`` (ny, nx)."""
    ny, nx = shape
    return [[(y0, x0, min(tile, ny - y0), min(tile, nx - x0)) for x0 in range(0, nx, tile)]
            for y0 in range(0, ny, tile)]


class ResampleStep(Step):
    """Drizzle one calibrated image onto a north-up grid; returns the ``i2d`` product (lazy)."""

    name = "resample"
    keyword = "RESAMP"
    reference_types = ()

    @dataclasses.dataclass
    class Parameters(StepParameters):
        pixfrac: float = 1.0  #: linear drop size relative to an input pixel, in (0, 1]
        kernel: str = "square"  #: only "square" (exact overlap) is implemented
        fillval: str = "NAN"  #: SCI value where no input contributes
        weight_type: str | None = "ivm"  #: "ivm" (1/VAR_RNOISE), "exptime", or None (1)
        good_bits: str = "~DO_NOT_USE+NON_SCIENCE"  #: DQ bits that do NOT exclude a pixel (astropy bitmask syntax)
        pixel_scale_ratio: float = 1.0  #: output / input pixel scale (ignored when pixel_scale is set)
        pixel_scale: float | None = None  #: output pixel scale, arcsec
        rotation: float | None = 0.0  #: PA of the output +y axis, deg (None: detector orientation)
        output_shape: tuple[int, ...] | None = None  #: (nx, ny) as jwst; default: the footprint's box
        crval: tuple[float, ...] | None = None  #: (RA, Dec) deg of the grid's reference point
        tile_size: int = 1024  #: output pixels per tile side (one task per tile; each visits only the input pixels landing on it)

    def process(self, data: xr.Dataset, references: Mapping[str, xr.Dataset | None]) -> xr.Dataset:
        require_image(data, self.name, ("SCI", "DQ"))
        p = self.parameters
        wcs = data.attrs.get(WCS_ATTR)
        if not isinstance(wcs, WCS):
            raise JwstLazyInputError("no gwcs on the exposure", path=data.attrs.get("filename"), where="wcs attr",
                                     expected="an exposure that went through assign_wcs")
        if data["SCI"].ndim != 2:
            raise JwstLazyInputError("resample needs a 2-D image", path=data.attrs.get("filename"), where="SCI",
                                     expected="a cal product (y, x), not calints")
        if p.kernel != "square" or not 0 < p.pixfrac <= 1:
            raise JwstLazyInputError(f"kernel {p.kernel!r}, pixfrac {p.pixfrac}", where="steps.resample",
                                     expected="kernel 'square' and 0 < pixfrac <= 1")
        grid = self.grid(data, wcs)
        return self.drizzle(data, wcs, grid)

    def grid(self, data: xr.Dataset, wcs: WCS) -> OutputGrid:
        """The output grid: the exposure's footprint at the requested scale and orientation."""
        p = self.parameters
        shape = data.sizes["y"], data.sizes["x"]
        scale = p.pixel_scale
        if scale is None:
            centre = wcs((shape[1] - 1) / 2, (shape[0] - 1) / 2, with_bounding_box=False)
            ra_ref = float(data.attrs.get("RA_REF", centre[0]))
            dec_ref = float(data.attrs.get("DEC_REF", centre[1]))
            scale = input_pixel_scale(wcs, ra_ref, dec_ref) * p.pixel_scale_ratio
        rotation = detector_position_angle(wcs, shape) if p.rotation is None else p.rotation
        out_shape = tuple(p.output_shape[::-1]) if p.output_shape else None
        return output_grid([footprint(wcs, shape)], scale, rotation, crval=p.crval, shape=out_shape)

    def drizzle(self, data: xr.Dataset, wcs: WCS, grid: OutputGrid) -> xr.Dataset:
        """The lazy i2d Dataset of ``data`` drizzled onto ``grid``."""
        p = self.parameters
        sci = pixel_array(data, "SCI")
        pixmap = fit_pixel_map(wcs, grid, sci.shape[-2:])
        var_rnoise = pixel_array(data, "VAR_RNOISE") if "VAR_RNOISE" in data else da.ones_like(sci)
        exposure_time = float(next((data.attrs[k] for k in ("TMEASURE", "XPOSURE", "EFFEXPTM") if data.attrs.get(k)), 1.0))
        weight = da.map_blocks(_weight_block, pixel_array(data, "DQ"), var_rnoise.rechunk(sci.chunks),
                               p.weight_type, p.good_bits, exposure_time, dtype=np.float32)
        variance_names = [name for name in VARIANCES if name in data]
        variances = (da.stack([pixel_array(data, name).rechunk(sci.chunks) for name in variance_names])
                     if variance_names else np.zeros((0,) + sci.shape[-2:], np.float32))
        fillval = float(p.fillval) if p.fillval.upper() not in ("NAN", "INDEF") else np.nan
        # margin (output pixels) beyond a tile for input centres: more than half of any drop
        margin = 2.0 + 2.0 * p.pixfrac
        if np.isfinite(pixmap.max_output_step):
            margin = max(margin, 1.0 + p.pixfrac * pixmap.max_output_step)
        tiles = _tiles(grid.shape, p.tile_size)
        y_edges = np.array([row[0][0] for row in tiles] + [grid.shape[0]], dtype=np.int64)
        x_edges = np.array([t[1] for t in tiles[0]] + [grid.shape[1]], dtype=np.int64)
        mapped = dask.delayed(_map_and_rows, pure=True)(pixmap, y_edges, x_edges, margin)
        inputs = dask.delayed(_gather_input, pure=True)(sci, weight, variances)
        rows = []
        for ty, row in enumerate(tiles):
            blocks = []
            for tx, (y0, x0, nty, ntx) in enumerate(row):
                tile = dask.delayed(_drizzle_tile, nout=4, pure=True)(
                    inputs, mapped, (ty, tx), (y0, x0), (nty, ntx), p.pixfrac, fillval)
                blocks.append([
                    da.from_delayed(tile[0], (nty, ntx), np.float32),
                    da.from_delayed(tile[1], (nty, ntx), np.float32),
                    da.from_delayed(tile[2], (1, nty, ntx), np.int32),
                    da.from_delayed(tile[3], (len(variance_names), nty, ntx), np.float32),
                ])
            rows.append(blocks)
        out_sci, out_wht = (da.block([[b[k] for b in row] for row in rows]) for k in (0, 1))
        out_con, out_var = (da.block([[[b[k] for b in row] for row in rows]]) for k in (2, 3))
        return self._i2d(data, grid, out_sci, out_wht, out_con, dict(zip(variance_names, out_var)))

    def _i2d(self, data: xr.Dataset, grid: OutputGrid, sci: da.Array, wht: da.Array, con: da.Array,
             variances: dict[str, da.Array]) -> xr.Dataset:
        unit = data["SCI"].attrs.get("BUNIT") or data.attrs.get("BUNIT", "MJy/sr")
        dims = ("y", "x")
        i2d = xr.Dataset({"SCI": (dims, sci, {"BUNIT": unit})})
        if variances:
            stacked = da.stack(list(variances.values()))
            err = da.sqrt(da.nansum(stacked, axis=0))
            err = da.where(da.all(da.isnan(stacked), axis=0), np.nan, err).astype(np.float32)
            i2d["ERR"] = (dims, err, {"BUNIT": unit})
        i2d["CON"] = (("plane", "y", "x"), con)
        i2d["WHT"] = (dims, wht)
        for name, variance in variances.items():
            i2d[name] = (dims, variance, {"BUNIT": f"({unit})^2"})
        pixel_area_sr = math.radians(grid.pixel_scale / 3600.0) ** 2
        attrs = {k: v for k, v in data.attrs.items() if k not in _DETECTOR_KEYWORDS and k != WCS_ATTR}
        attrs.update(grid.fits_keywords())
        attrs.update(
            product="i2d", BUNIT=unit, PIXAR_SR=pixel_area_sr, PIXAR_A2=grid.pixel_scale**2,
            S_REGION=s_region(footprint(grid.wcs)), NDRIZ=1, PIXFRAC=self.parameters.pixfrac,
            **{WCS_ATTR: grid.wcs},
        )
        attrs.pop("filename", None)
        i2d.attrs = attrs
        return i2d
