"""Product names and writers' temporary files."""

from pathlib import Path

from jwstlazy.graphs.naming import product_path, temporary_files_for, temporary_target


def test_temporary_files_of_a_product_only(tmp_path):
    product = product_path(tmp_path / "jw01_nrca1_uncal.fits", "rate", tmp_path)
    mine = tmp_path / f".{product.name}.{'a' * 32}.tmp"
    other = tmp_path / f".{product.name.replace('rate', 'rateints')}.{'b' * 32}.tmp"
    not_temporary = tmp_path / f".{product.name}.notahash.tmp"
    for path in (mine, other, not_temporary, product):
        path.write_bytes(b"")
    assert temporary_target(mine) == product and temporary_target(product) is None
    assert temporary_files_for(product) == [mine]
    assert temporary_files_for(tmp_path / "missing" / "x_rate.fits") == []
    assert isinstance(temporary_files_for(product)[0], Path)
