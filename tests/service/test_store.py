"""The shared data store over a local folder and a real S3-compatible server (moto)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from talos.config import StoreSettings
from talos.store import Store, StoreError, StoreKeyError, StoreNotFoundError


@pytest.fixture(params=["file", pytest.param("s3", marks=pytest.mark.e2e)])  # s3: moto server
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "file":
        return Store.from_settings(StoreSettings(url=f"file://{tmp_path}/store"))
    s3 = request.getfixturevalue("moto_s3")
    prefix = tmp_path.name
    return Store.from_settings(
        StoreSettings(
            url=f"s3://{s3['bucket']}/{prefix}",
            endpoint_url=s3["endpoint_url"],
            access_key_id=s3["access_key_id"],
            secret_access_key=s3["secret_access_key"],
        )
    )


def test_put_get_exists_list_and_url(store: Store) -> None:
    url = store.put_bytes("job1/axis/lines.json", b'{"a": 1}')
    store.put_bytes("job1/axis/frames/000000.json", b"{}")
    store.put_bytes("job2/axis/lines.json", b"{}")
    assert store.get_bytes("job1/axis/lines.json") == b'{"a": 1}'
    assert store.exists("job1/axis/lines.json")
    assert not store.exists("job1/axis/missing.json")
    assert store.list("job1") == ["job1/axis/frames/000000.json", "job1/axis/lines.json"]
    assert store.list("nothing-here") == []
    assert url == store.url_for("job1/axis/lines.json")
    assert url.startswith(f"{store.protocol}://") and url.endswith("/job1/axis/lines.json")
    store.put_bytes("job1/axis/lines.json", b"v2")  # overwrite
    assert store.get_bytes("job1/axis/lines.json") == b"v2"
    store.delete("job2/axis/lines.json")
    assert not store.exists("job2/axis/lines.json")


def test_missing_object_is_a_clear_error(store: Store) -> None:
    with pytest.raises(StoreNotFoundError, match="no such object in the store: nope/x.json"):
        store.get_bytes("nope/x.json")


@pytest.mark.parametrize(
    "key", ["../etc/passwd", "a/../../b", "/abs/path", "a//b", "a/./b", "a\\b", "", "a b"]
)
def test_unsafe_keys_are_refused(tmp_path: Path, key: str) -> None:
    store = Store(f"file://{tmp_path}")
    with pytest.raises(StoreKeyError):
        store.put_bytes(key, b"x")
    with pytest.raises(StoreKeyError):
        store.get_bytes(key)


def test_upload_dir_and_download(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "frames").mkdir(parents=True)
    (out / "lines.json").write_text("{}")
    (out / "frames" / "000000.svg").write_text("<svg/>")
    keys = store.upload_dir(out, "j/axis")
    assert keys == ["j/axis/frames/000000.svg", "j/axis/lines.json"]
    local = store.download("j/axis/frames/000000.svg", tmp_path / "dl" / "f.svg")
    assert local.read_text() == "<svg/>"


def test_local_writes_are_atomic_for_concurrent_readers(tmp_path: Path) -> None:
    """A reader racing many rewrites only ever sees one whole version or the other."""
    store = Store(f"file://{tmp_path}")
    versions = [bytes([65 + i]) * 200_000 for i in range(2)]
    store.put_bytes("j/axis/big.bin", versions[0])
    seen: set[bytes] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.add(store.get_bytes("j/axis/big.bin")[:1] + store.get_bytes("j/axis/big.bin")[-1:])

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(60):
        data = versions[i % 2]
        store.put_bytes("j/axis/big.bin", data)
        whole = store.get_bytes("j/axis/big.bin")
        assert len(whole) == 200_000 and len(set(whole)) == 1
    done.set()
    reader.join()
    assert seen <= {b"AA", b"BB", b"AB", b"BA"}
    assert store.list("j") == ["j/axis/big.bin"]  # no temp files left behind


def test_bad_urls_and_unreachable_stores(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="unsupported store URL scheme 'ftp'"):
        Store("ftp://example.com/x")
    with pytest.raises(StoreError, match="names no bucket"):
        Store("s3://")
    unreachable = Store(
        "s3://bucket/x", endpoint_url="http://127.0.0.1:9", access_key_id="k", secret_access_key="s"
    )
    with pytest.raises(StoreError, match="unreachable"):
        unreachable.ping()
    Store(f"file://{tmp_path}/ok").ping()


def test_bare_and_relative_paths_are_local_folders(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = Store("file://./data/store")
    assert store.root == str(tmp_path / "data" / "store")
    store.put_bytes("a/b.txt", b"x")
    assert (tmp_path / "data" / "store" / "a" / "b.txt").read_bytes() == b"x"
    assert Store(str(tmp_path / "plain")).protocol == "file"
