"""Reading association JSON files: members resolved against the JSON's folder; clear errors."""

import json

import pytest

from jwstlazy.associations.reader import read_association
from jwstlazy.errors import JwstLazyInputError


def _write(path, document):
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


def test_reads_type_products_and_resolves_members(tmp_path):
    (tmp_path / "sub").mkdir()
    asn = _write(tmp_path / "sub" / "jw01_image3_asn.json", {
        "asn_type": "image3", "asn_id": "a3001",
        "products": [
            {"name": "jw01-o001_nircam_f200w", "members": [
                {"expname": "a_cal.fits", "exptype": "science"},
                {"expname": "../b_cal.fits", "exptype": "SCIENCE"},
                {"expname": str(tmp_path / "c_cal.fits"), "exptype": "background"},
            ]},
            {"name": "second", "members": [{"expname": "a_cal.fits", "exptype": "science"}]},
        ],
    })  # fmt: skip
    association = read_association(asn)
    assert (association.asn_type, association.asn_id, len(association.products)) == ("image3", "a3001", 2)
    names = [m.expname for m in association.members]
    assert names == [tmp_path / "sub" / "a_cal.fits", tmp_path / "sub" / ".." / "b_cal.fits", tmp_path / "c_cal.fits"]
    assert [m.exptype for m in association.members] == ["science", "science", "background"]


@pytest.mark.parametrize(
    "document, where",
    [
        ("{not json", "not valid JSON"),
        ([1, 2], "JSON object"),
        ({"asn_type": "image2"}, "[products]"),
        ({"products": []}, "no products"),
        ({"products": [{"name": "p"}]}, "[products[0].members]"),
        ({"products": [{"members": [{"exptype": "science"}]}]}, "[products[0].members[0].expname]"),
        ({"products": [{"members": [{"expname": 3}]}]}, "'expname' is a int"),
        ({"products": [{"members": ["x.fits"]}]}, "[products[0].members[0]]"),
    ],
)
def test_bad_associations_name_file_and_place(tmp_path, document, where):
    asn = _write(tmp_path / "bad_asn.json", document)
    with pytest.raises(JwstLazyInputError) as info:
        read_association(asn)
    assert str(asn) in str(info.value) and where in str(info.value)


def test_missing_association_file(tmp_path):
    with pytest.raises(JwstLazyInputError, match="no such association"):
        read_association(tmp_path / "missing_asn.json")
