"""World coordinate systems: imaging gwcs from SIAF geometry and pointing, footprints, output grids.

Frames of an exposure's WCS: ``detector`` (0-based pixels) → ``v2v3`` (arcsec) → ``v2v3vacorr``
(arcsec, velocity aberration corrected) → ``world`` (ICRS, deg).
"""

from jwstlazy.wcs.asdf_in_fits import wcs_from_asdf_hdu, wcs_from_fits, wcs_to_asdf_hdu
from jwstlazy.wcs.distortion import (
    read_distortion_reference,
    siaf_distortion,
    write_distortion_reference,
)
from jwstlazy.wcs.footprint import footprint, footprint_from_s_region, s_region
from jwstlazy.wcs.grid import OutputGrid, output_grid
from jwstlazy.wcs.imaging import detector_to_v2v3, imaging_wcs
from jwstlazy.wcs.pointing import v2v3_to_sky, velocity_aberration
from jwstlazy.wcs.siaf import ApertureGeometry, aperture_geometry, detector_geometry

__all__ = [
    "ApertureGeometry",
    "OutputGrid",
    "aperture_geometry",
    "detector_geometry",
    "detector_to_v2v3",
    "footprint",
    "footprint_from_s_region",
    "imaging_wcs",
    "output_grid",
    "read_distortion_reference",
    "s_region",
    "siaf_distortion",
    "v2v3_to_sky",
    "velocity_aberration",
    "wcs_from_asdf_hdu",
    "wcs_from_fits",
    "wcs_to_asdf_hdu",
    "write_distortion_reference",
]
