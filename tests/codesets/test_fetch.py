"""The download path, tested against a loopback HTTP server that serves a copy of the mirror."""

from __future__ import annotations

import http.server
import shutil
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from medcoder.codesets.fetch import fetch_file, fetch_release, sha256_of
from medcoder.codesets.sources import SourceFile, find_release
from medcoder.errors import SourceError
from medcoder.settings import Settings

MCE = find_release("mce")
DX = next(f for f in MCE.files if f.key == "dx_csv")
AGE = next(f for f in MCE.files if f.key == "age_csv")


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves files with HTTP Range support; can cut the first response short to test resuming."""

    cut_first_after: int | None = None
    requests: list[dict[str, str | None]] = []

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        type(self).requests.append({"path": self.path, "range": self.headers.get("Range")})
        if not path.is_file():
            self.send_error(404, "Not Found")
            return
        data = path.read_bytes()
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        cut = type(self).cut_first_after
        if cut is not None:
            type(self).cut_first_after = None
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


Served = tuple[str, Path, type[_Handler]]


@pytest.fixture()
def served(tmp_path: Path, mirror_dir: Path) -> Iterator[tuple[str, Path, type[_Handler]]]:
    """A loopback server over a fresh copy of the MCE part of the mirror."""
    root = tmp_path / "served"
    for source in MCE.files:
        dest = root / source.relpath
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(mirror_dir / source.relpath, dest)

    class Handler(_Handler):
        requests: list[dict[str, str | None]] = []

        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root, Handler
    finally:
        server.shutdown()
        server.server_close()


def _settings(tmp_path: Path, *, mirror: Path | None = None, base_url: str | None = None) -> Settings:
    return Settings(home=tmp_path / "home", mirror=mirror, base_url=base_url)


def _quiet(message: str) -> None:
    pass


@pytest.mark.parametrize("source", [DX, AGE])
def test_fetch_downloads_and_verifies(tmp_path: Path, served: Served, source: SourceFile) -> None:
    url, _, _ = served
    got = fetch_file(source, _settings(tmp_path, base_url=url), progress=_quiet)
    assert got is not None and got.origin == "download"
    assert got.sha256 == source.sha256 == sha256_of(got.path)
    again = fetch_file(source, _settings(tmp_path, base_url=url), progress=_quiet)
    assert again is not None and again.origin == "cache (download)" and again.location.startswith(url)


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_fetch_rejects_corrupted_download(tmp_path: Path, served: Served, damage: str) -> None:
    url, root, _ = served
    target = root / DX.relpath
    data = bytearray(target.read_bytes())
    if damage == "flip":
        data[1000] ^= 0xFF
    else:
        data = data[: len(data) // 2]
    target.write_bytes(bytes(data))
    with pytest.raises(SourceError) as info:
        fetch_file(DX, _settings(tmp_path, base_url=url), progress=_quiet)
    assert info.value.code == ("E103" if damage == "flip" else "E102")
    assert DX.relpath in str(info.value)
    cache_dir = (tmp_path / "home" / "sources" / DX.relpath).parent
    assert not cache_dir.exists() or not any(cache_dir.iterdir()), "nothing half-fetched is left"


@pytest.mark.parametrize("source", [DX])
def test_fetch_reports_missing_file(tmp_path: Path, served: Served, source: SourceFile) -> None:
    url, root, _ = served
    (root / source.relpath).unlink()
    with pytest.raises(SourceError) as info:
        fetch_file(source, _settings(tmp_path, base_url=url), progress=_quiet)
    assert info.value.code == "E105" and "404" in str(info.value)


@pytest.mark.parametrize("cut", [100_000])
def test_fetch_resumes_interrupted_download(tmp_path: Path, served: Served, cut: int) -> None:
    url, _, handler = served
    handler.cut_first_after = cut
    messages: list[str] = []
    got = fetch_file(DX, _settings(tmp_path, base_url=url), progress=messages.append)
    assert got is not None and got.sha256 == DX.sha256
    ranges = [r["range"] for r in handler.requests]
    assert ranges == [None, f"bytes={cut}-"], "the second request resumes where the first stopped"
    assert any("attempt 1/3" in m for m in messages)


@pytest.mark.parametrize("member", ["inner/dir/mce_age_ranges.csv"])
def test_fetch_extracts_member_of_official_archive(tmp_path: Path, served: Served, mirror_dir: Path,
                                                  member: str) -> None:
    url, root, _ = served
    with zipfile.ZipFile(root / "release.zip", "w") as zf:
        zf.write(mirror_dir / AGE.relpath, member)
    source = replace(AGE, url=f"{url}/release.zip", member=Path(member).name)
    got = fetch_file(source, _settings(tmp_path), progress=_quiet)
    assert got is not None and got.origin == "download" and got.sha256 == AGE.sha256


@pytest.mark.parametrize("release", [MCE])
def test_fetch_prefers_mirror(tmp_path: Path, mirror_dir: Path, release: object) -> None:
    got = fetch_release(MCE, _settings(tmp_path, mirror=mirror_dir), progress=_quiet)
    assert {f.origin for f in got.values()} == {"mirror"}
    assert set(got) == {f.key for f in MCE.files}


@pytest.mark.parametrize("key", ["tabular_xml"])
def test_fetch_takes_pinned_pypi_data_from_installed_package(tmp_path: Path, key: str) -> None:
    source = next(f for f in find_release("icd10cm-tabular").files if f.key == key)
    got = fetch_file(source, _settings(tmp_path), progress=_quiet)
    assert got is not None and got.origin == "installed-package" and got.sha256 == source.sha256


@pytest.mark.parametrize("source", [DX])
def test_fetch_mirror_truncated_file_is_named(tmp_path: Path, mirror_dir: Path, source: SourceFile) -> None:
    bad_mirror = tmp_path / "mirror"
    dest = bad_mirror / source.relpath
    dest.parent.mkdir(parents=True)
    dest.write_bytes((mirror_dir / source.relpath).read_bytes()[:5000])
    with pytest.raises(SourceError) as info:
        fetch_file(source, _settings(tmp_path, mirror=bad_mirror), progress=_quiet)
    assert info.value.code == "E102" and "truncated" in str(info.value) and str(dest) in str(info.value)


@pytest.mark.parametrize("source", [DX])
def test_fetch_without_mirror_or_url_says_what_to_do(tmp_path: Path, source: SourceFile) -> None:
    with pytest.raises(SourceError) as info:
        fetch_file(replace(source, url=None), _settings(tmp_path, mirror=tmp_path / "empty"), progress=_quiet)
    assert info.value.code == "E101" and "--mirror" in str(info.value)
