"""Rows travel to the database as JSON array chunks within the Data API's request limit."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from service.repositories.bank_ingestion import json_chunks

_DOCS = st.lists(
    st.fixed_dictionaries({"pid": st.text(max_size=30), "amount": st.integers(-10**6, 10**6),
                           "note": st.none() | st.text(max_size=200)}),
    max_size=60,
)


@given(_DOCS, st.integers(60, 2_000), st.integers(1, 8))
def test_chunks_hold_every_document_in_order_within_the_bound(
    docs: list[dict[str, object]], max_bytes: int, batch: int
) -> None:
    chunks = list(json_chunks(docs, max_bytes=max_bytes, batch=batch))
    assert [doc for chunk in chunks for doc in json.loads(chunk)] == docs
    single = [len(json.dumps(d, separators=(",", ":"))) + 2 for d in docs]
    for chunk in chunks:
        # Within the bound, unless one document alone is larger (it then travels alone).
        assert len(chunk) <= max_bytes or len(json.loads(chunk)) == 1
    assert all(json.loads(chunk) for chunk in chunks)  # no empty chunk
    if docs and max(single) <= max_bytes:
        assert all(len(chunk) <= max_bytes for chunk in chunks)


def test_no_documents_no_chunks() -> None:
    assert list(json_chunks([])) == []
