"""Tests for jwstlazy.datamodels.asdf_extension: the ASDF extension of our FITS products."""

import io
import warnings

import asdf
import numpy as np

from jwstlazy.datamodels.asdf_extension import ASDF_COLUMN_NAME, ASDF_EXTENSION_NAME, asdf_extension_hdu


def _tree(hdu):
    document = np.asarray(hdu.data[ASDF_COLUMN_NAME][0], dtype=np.uint8).tobytes()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # asdf warns about anything malformed
        with asdf.open(io.BytesIO(document)) as af:
            return {key: value for key, value in af.tree.items()}


def test_empty_tree_is_a_valid_asdf_file_written_without_asdf():
    hdu = asdf_extension_hdu()
    assert hdu.name == ASDF_EXTENSION_NAME
    tree = _tree(hdu)
    assert tree["asdf_library"]["name"] == "jwstlazy"
    assert set(tree) == {"asdf_library"}


def test_tree_with_content_round_trips():
    tree = _tree(asdf_extension_hdu({"meta": {"answer": 42, "name": "x"}}))
    assert tree["meta"] == {"answer": 42, "name": "x"}
