"""The package version, kept in the bottom layer so that any layer can read it without importing the package root."""

import functools
import hashlib
from pathlib import Path

VERSION = "0.1.0"


@functools.cache
def build_id() -> str:
    """VERSION plus a digest of the package's own files (its code, grammar and standard library):
    what a pickled policy and a compile cache entry are tied to, since the generated code calls the
    runtime of the build that generated it and a checkout changes without VERSION changing.
    Hashing the files once per process takes a few milliseconds."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(VERSION.encode())
    files = [p for p in package.rglob("*") if p.suffix in (".py", ".lark", ".policy") and p.is_file()]
    for path in sorted(files):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{VERSION}+{digest.hexdigest()[:16]}"
