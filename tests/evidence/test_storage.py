"""The evidence store's contract, held by both implementations: local disk and an
S3-compatible bucket (moto's server mode over real HTTP on loopback)."""

from __future__ import annotations

import io
import os

import pytest

from app.evidence.storage import CHUNK_SIZE, LocalStore, NotStored, S3Store, StoreError, new_key

BIG = os.urandom(CHUNK_SIZE) + os.urandom(1000)


def upload(store, key: str, data: bytes) -> None:
    state = store.begin(key)
    for offset in range(0, len(data), CHUNK_SIZE):
        state = store.write(key, state, offset, data[offset : offset + CHUNK_SIZE])
    store.complete(key, state)


def test_a_file_uploaded_in_chunks_reads_back_whole(store):
    key = new_key()
    upload(store, key, BIG)
    assert store.exists(key)
    assert b"".join(store.read(key)) == BIG


def test_a_byte_range_reads_only_those_bytes(store):
    key = new_key()
    upload(store, key, BIG)
    assert b"".join(store.read(key, 10, 19)) == BIG[10:20]
    assert b"".join(store.read(key, CHUNK_SIZE - 5)) == BIG[CHUNK_SIZE - 5 :]


def test_a_chunk_sent_twice_replaces_itself(store):
    key = new_key()
    state = store.begin(key)
    state = store.write(key, state, 0, BIG[:CHUNK_SIZE])
    state = store.write(key, state, 0, BIG[:CHUNK_SIZE])
    state = store.write(key, state, CHUNK_SIZE, BIG[CHUNK_SIZE:])
    store.complete(key, state)
    assert b"".join(store.read(key)) == BIG


def test_an_unfinished_upload_is_not_a_file(store):
    key = new_key()
    state = store.begin(key)
    store.write(key, state, 0, b"%PDF-1.7 partial")
    assert not store.exists(key)


def test_aborting_an_upload_leaves_nothing(store):
    key = new_key()
    state = store.begin(key)
    state = store.write(key, state, 0, b"%PDF-1.7 partial")
    store.abort(key, state)
    assert not store.exists(key)
    with pytest.raises(StoreError):
        store.complete(key, state)


def test_deleting_a_file_removes_it_and_is_idempotent(store):
    key = new_key()
    upload(store, key, b"hello")
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)


def test_reading_a_missing_file_is_a_store_error_that_says_so(store):
    with pytest.raises(NotStored):
        b"".join(store.read(new_key()))


def test_the_keys_are_those_of_complete_files_only(store):
    first, second, unfinished = new_key(), new_key(), new_key()
    upload(store, first, b"one")
    upload(store, second, b"two")
    store.write(unfinished, store.begin(unfinished), 0, b"%PDF-1.7 partial")
    assert sorted(store.keys()) == sorted([first, second])


def test_an_empty_store_has_no_keys(store):
    assert list(store.keys()) == []


@pytest.mark.parametrize("size", [5, CHUNK_SIZE, CHUNK_SIZE + 1000])  # never empty
def test_a_file_put_from_a_stream_reads_back_whole(store, size):  # restoring a backup
    key = new_key()
    data = BIG[:size] if size <= len(BIG) else os.urandom(size)
    store.put(key, io.BytesIO(data))
    assert store.exists(key)
    assert b"".join(store.read(key)) == data


def test_a_file_put_again_replaces_the_first(store):
    key = new_key()
    store.put(key, io.BytesIO(b"first version, longer"))
    store.put(key, io.BytesIO(b"second"))
    assert b"".join(store.read(key)) == b"second"


def test_keys_that_are_not_ours_are_refused(store):
    with pytest.raises(ValueError):
        store.exists("../../etc/passwd")


def test_local_files_live_in_sharded_folders_under_the_root(tmp_path):
    store = LocalStore(tmp_path)
    key = new_key()
    upload(store, key, b"hello")
    assert (tmp_path / key[:2] / key[2:4] / key).read_bytes() == b"hello"


def test_a_store_that_can_take_files_passes_its_check(store):  # readiness (app.health)
    store.check()


def test_a_missing_bucket_fails_the_check(s3_server):
    with pytest.raises(StoreError):
        S3Store(s3_server.client(), "no-such-bucket").check()


def test_a_folder_that_cannot_be_made_fails_the_check(tmp_path):
    (tmp_path / "file").write_text("in the way")
    with pytest.raises(StoreError):
        LocalStore(tmp_path / "file" / "evidence").check()
