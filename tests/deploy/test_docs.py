"""The docs that are generated from code stay in step with it."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_topic_map_in_docs_architecture_matches_the_contracts():
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import gen_topic_map
    finally:
        sys.path.pop(0)
    committed = gen_topic_map.DOC.read_text()
    assert gen_topic_map.render(committed) == committed, (
        "docs/architecture.md's topic map is stale: run "
        "`uv run python docs/gen_topic_map.py` and commit it")


def test_every_topic_of_the_contracts_is_in_the_topic_map():
    from crm_contracts.topics import CORE_TOPICS
    text = (ROOT / "docs" / "architecture.md").read_text()
    for topic in CORE_TOPICS:
        assert f"| `{topic.name}` |" in text
