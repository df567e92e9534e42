"""Problems in the files an import writes are placed from the rendered text (one record per
line) instead of composing YAML; the places must be the ones composing gives."""

from __future__ import annotations

import yaml

from govcloud.interchange.importer import _LinesIndex
from govcloud.base.reader import GovLoader, locate_in_node
from govcloud.inventory.writer import render_document


def test_lines_index_agrees_with_composed_yaml():
    text = render_document(
        {"servers": [{"id": f"s{i}", "hostname": f"主机{i}", "ips": ["198.18.0.1"], "observed": {"a": 1, "b": {"c": 2}}}
                     for i in range(40)],
         "observations": [{"server": "x", "facts": {"cores": 2}}]},
        style="lines", header="written by a test\nsecond line")
    node = yaml.compose(text, Loader=GovLoader)
    idx = _LinesIndex(text)
    paths = [("servers", 0), ("servers", 7, "hostname"), ("servers", 39, "ips"), ("servers", 3, "observed", "a"),
             ("servers", 3, "observed", "b", "c"), ("observations", 0, "facts"), ("observations", 0, "facts", "cores"),
             ("servers", 3, "no-such-key")]
    for path in paths:
        assert idx.locate(path) == locate_in_node(node, path), path
    # a path the lines shape cannot answer is left to composing
    assert idx.locate(("servers", 40)) == (None, None)
    assert idx.locate(("systems", 0)) == (None, None)
    block = render_document({"servers": [{"id": "s1"}]}, style="block")
    assert _LinesIndex(block).locate(("servers", 0)) == (None, None)


def test_a_header_comment_above_json_is_read_as_json(tmp_path):
    """Importers write one record per line under a comment header: still JSON for the reader
    (the C parser, ~50× faster than libyaml), and positions still come from the text."""
    from govcloud.base.reader import read_document

    text = render_document({"servers": [{"id": "s1", "hostname": "h1"}]}, style="lines", header="written by a test")
    assert text.startswith("# written by a test\n{")
    p = tmp_path / "imported.yaml"
    p.write_text(text, encoding="utf-8")
    doc = read_document(p)
    assert doc.via == "json" and doc.data["servers"] == [{"id": "s1", "hostname": "h1"}]
    assert doc.text == text
    # a YAML file that merely starts with a comment is still YAML
    q = tmp_path / "hand.yaml"
    q.write_text("# hand-written\nservers:\n  - id: s2\n", encoding="utf-8")
    doc = read_document(q)
    assert doc.via == "yaml" and doc.data["servers"] == [{"id": "s2"}]
    # a comment header above something that is not JSON falls back to YAML (and its errors)
    r = tmp_path / "flow.yaml"
    r.write_text("# header\n{servers: [{id: s3}]}\n", encoding="utf-8")
    doc = read_document(r)
    assert doc.via == "yaml" and doc.data["servers"] == [{"id": "s3"}]
