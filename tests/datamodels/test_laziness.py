"""Opening never reads pixels; each chunk task reads only its block; tasks are picklable."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap

import dask
import numpy as np
from astropy.io import fits

from jwstlazy.datamodels import describe
from jwstlazy.datamodels import open as open_product
from jwstlazy.datamodels.fits_io import FitsImageData


def write_sparse_uncal(path, keywords, nints=1, ngroups=10, ny=2048, nx=2048) -> None:
    """Headers written for real, pixels left as a sparse hole (stored zeros, i.e. 32768 DN)."""
    primary = fits.PrimaryHDU().header
    primary.update({k: v for k, v in keywords.items() if k not in ("NINTS", "NGROUPS")})
    primary.update(NINTS=nints, NGROUPS=ngroups, SUBSIZE1=nx, SUBSIZE2=ny)
    sci = fits.ImageHDU(data=np.zeros((1, 1, 1, 1), np.uint16), name="SCI").header
    for axis, size in enumerate((nx, ny, ngroups, nints), start=1):
        sci[f"NAXIS{axis}"] = size
    with open(path, "wb") as handle:
        handle.write(primary.tostring().encode())
        handle.write(sci.tostring().encode())
        data_bytes = nints * ngroups * ny * nx * 2
        handle.truncate(handle.tell() + -(-data_bytes // 2880) * 2880)


def test_open_reads_no_pixels_and_a_chunk_reads_only_itself(tmp_path, monkeypatch, uncal):
    path = tmp_path / "big_uncal.fits"
    write_sparse_uncal(path, uncal.attrs)
    reads = []
    original = FitsImageData.__getitem__
    monkeypatch.setattr(FitsImageData, "__getitem__", lambda self, key: reads.append(key) or original(self, key))
    ds = open_product(path)
    describe(ds)
    assert reads == []
    sci = ds["SCI"].data
    assert sci.chunksize == (1, 10, 256, 2048)  # ~10 MB uint16 chunks, whole ramps of a pixel block
    block = sci.blocks[0, 0, 1, 0].compute(scheduler="synchronous")
    assert len(reads) == 1 and block.shape == (1, 10, 256, 2048)
    assert reads[0][2] == slice(256, 512)
    assert block.dtype == np.uint16 and block.max() == 32768  # stored zeros decode to BZERO


def test_chunks_are_overridable_by_dim_name(tmp_path, uncal):
    path = tmp_path / "big_uncal.fits"
    write_sparse_uncal(path, uncal.attrs, ngroups=4, ny=256, nx=256)
    ds = open_product(path, chunks={"y": 64, "x": 128, "nonexistent": 3})
    assert ds["SCI"].data.chunks == ((1,), (4,), (64,) * 4, (128, 128))


def test_chunk_tasks_survive_pickling(tmp_path, uncal):
    """What a distributed worker receives: the pickled graph, run elsewhere, gives the pixels."""
    from jwstlazy.datamodels import write_fits

    path = write_fits(uncal, tmp_path / "p_uncal.fits")
    sci = open_product(path, chunks={"y": 4})["SCI"].data
    graph = pickle.loads(pickle.dumps(dict(sci.__dask_graph__())))
    keys = sci.__dask_keys__()
    blocks = dask.get(graph, keys)

    def as_lists(nested):
        return [as_lists(item) for item in nested] if isinstance(nested, (list, tuple)) else nested

    np.testing.assert_array_equal(np.block(as_lists(blocks)), uncal["SCI"].values)


def test_peak_rss_opening_2048x2048x10_uncal(tmp_path, uncal):
    path = tmp_path / "rss_uncal.fits"
    write_sparse_uncal(path, uncal.attrs)
    script = textwrap.dedent(
        f"""
        import resource
        import jwstlazy
        from jwstlazy.datamodels import describe
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        ds = jwstlazy.open({str(path)!r})
        describe(ds)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((after - before) / 1024)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, PYTHONWARNINGS="ignore"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    growth_mb = float(result.stdout.strip().splitlines()[-1])
    file_mb = path.stat().st_size / 2**20
    print(f"peak RSS growth opening a 2048x2048x10 uncal: {growth_mb:.1f} MB (file {file_mb:.0f} MB)")
    assert growth_mb < 50
