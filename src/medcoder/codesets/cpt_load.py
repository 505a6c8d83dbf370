"""Load the user's licensed CPT file into its own knowledge base (``kb/cpt/user.sqlite``).

Why a separate path from the catalog: CPT descriptors are AMA-licensed, so medcoder has no URL and no
checksum for them; the user brings the file they are licensed to use, and we record its checksum.
"""

from __future__ import annotations

import os
from pathlib import Path

from medcoder.codesets.cpt import build
from medcoder.codesets.fetch import sha256_of
from medcoder.codesets.kbfile import Progress, create_kb, write_meta
from medcoder.errors import SourceError
from medcoder.settings import Settings


def load_cpt_file(file: Path, *, settings: Settings, progress: Progress) -> tuple[Path, int]:
    if not file.is_file():
        raise SourceError(f"CPT file {file} does not exist", code="E101", where=str(file),
                          fix="Give the path of your licensed CPT descriptor file")
    dest = settings.kb_dir / "cpt" / "user.sqlite"
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + f".building{os.getpid()}")
    conn = create_kb(tmp)
    try:
        counts = build(conn, {"cpt_file": file}, progress=progress)
        write_meta(conn, {"kind": "cpt", "release": "user-supplied", "source": str(file),
                          "sha256": sha256_of(file), "counts": counts})
        conn.commit()
        conn.close()
        os.replace(tmp, dest)
    finally:
        conn.close()
        tmp.unlink(missing_ok=True)
    return dest, counts["cpt_codes"]
