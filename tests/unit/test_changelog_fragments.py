"""Every changelog fragment is what antsibull-changelog accepts: a mapping of known sections to
lists of strings. A ``: `` inside an unquoted item makes it a mapping, which only ``make release``
and sanity's changelog check would otherwise notice, twenty minutes into ``make test``."""

from __future__ import annotations

import glob
import os

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FRAGMENTS = sorted(glob.glob(os.path.join(REPO, "changelogs", "fragments", "*.y*ml")))


def sections():
    with open(os.path.join(REPO, "changelogs", "config.yaml"), encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    return {name for name, _title in config["sections"]} | {config.get("trivial_section_name", "trivial"), "release_summary"}


@pytest.mark.parametrize("path", FRAGMENTS, ids=[os.path.basename(p) for p in FRAGMENTS])
def test_fragment_is_a_mapping_of_known_sections_to_lists_of_strings(path):
    with open(path, encoding="utf-8") as handle:
        fragment = yaml.safe_load(handle)
    assert isinstance(fragment, dict) and fragment, path
    known = sections()
    for section, items in fragment.items():
        assert section in known, f"{path}: unknown section {section!r}"
        if section == "release_summary":
            assert isinstance(items, str), path
            continue
        assert isinstance(items, list) and items, f"{path}: {section} must be a list"
        for item in items:
            assert isinstance(item, str), f"{path}: {section} item is {type(item).__name__}, not a string (quote it): {item!r}"


def test_a_colon_in_an_unquoted_item_is_caught(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("bugfixes:\n  - app model - said ``out of range: 0..100``.\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="not a string"):
        test_fragment_is_a_mapping_of_known_sections_to_lists_of_strings(str(bad))
