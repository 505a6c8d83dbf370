"""One settings object with safe defaults, read from the environment.

Why environment variables: the same install runs on a laptop, in CI and on a batch node; each sets
``MEDCODER_HOME`` (where built knowledge bases live) and ``MEDCODER_MIRROR`` (a local copy of the official
files) without editing code. Nothing here reaches the network.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

_PACKAGE_ROOT = Path(__file__).resolve().parent


def _default_mirror() -> Path | None:
    """``../shared/cms`` beside the checkout (or the working directory), when it exists."""
    candidates = [Path.cwd().parent / "shared" / "cms", _PACKAGE_ROOT.parents[2] / "shared" / "cms"]
    for candidate in candidates:
        if (candidate / "README.md").exists():
            return candidate.resolve()
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    home: Path
    """Cache directory: verified source copies in ``sources/``, knowledge bases in ``kb/``."""
    mirror: Path | None
    """Local mirror of official files, tried before any download."""
    base_url: str | None
    """An HTTP mirror laid out like the local mirror; replaces the official URLs when set."""

    @property
    def sources_dir(self) -> Path:
        return self.home / "sources"

    @property
    def kb_dir(self) -> Path:
        return self.home / "kb"


def get_settings(*, home: Path | None = None, mirror: Path | None = None,
                 base_url: str | None = None) -> Settings:
    """Explicit arguments win over ``MEDCODER_*`` environment variables, which win over defaults."""
    env_home = os.environ.get("MEDCODER_HOME")
    env_mirror = os.environ.get("MEDCODER_MIRROR")
    resolved_home = home or (Path(env_home) if env_home else Path(platformdirs.user_data_dir("medcoder")))
    resolved_mirror = mirror or (Path(env_mirror) if env_mirror else _default_mirror())
    return Settings(
        home=resolved_home.expanduser(),
        mirror=resolved_mirror.expanduser() if resolved_mirror else None,
        base_url=base_url or os.environ.get("MEDCODER_BASE_URL") or None,
    )
