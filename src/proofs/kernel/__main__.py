"""``python -m proofs.kernel CERTIFICATES... --models DIR``: the kernel on its own.

TRUSTED. Needs the standard library, numpy, and the `proofs.core` and `proofs.kernel` packages,
nothing else: copy those two folders (and ``proofs/__init__.py``) into a virtual environment that
holds only numpy, and it runs. Each certificate is judged against the canonical models in DIR
(``SHA.model`` files, as ``proofs prove`` and ``proofs check`` leave them in ``.proofs/models/``);
a composition's premises are found beside it. Exit code 0: every certificate accepted; 1: some
rejected; 2: bad arguments or a file that cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from proofs.core.errors import CheckFailure
from proofs.kernel.check import Kernel, UnreadableCertificate


def _certificates(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.glob("*.json") if p.is_file())
        else:
            found.append(path)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m proofs.kernel", description=__doc__.split("\n\n")[0])
    parser.add_argument("certificates", nargs="+", type=Path, help="certificate files, or folders of them")
    parser.add_argument("--models", type=Path, required=True, help="folder of canonical models (SHA.model)")
    args = parser.parse_args(argv)
    if not args.models.is_dir():
        print(f"error: --models {args.models}: not a folder", file=sys.stderr)
        return 2
    kernel = Kernel(args.models)
    rejected = unreadable = 0
    files = _certificates(args.certificates)
    if not files:
        print("error: no certificate files given", file=sys.stderr)
        return 2
    for path in files:
        try:
            doc = kernel.check_file(path)
            print(f"accepted  {doc['lemma']['id']} ({doc['status']})")
        except UnreadableCertificate as exc:
            unreadable += 1
            print(f"UNREADABLE {exc}")
        except CheckFailure as exc:
            rejected += 1
            print(f"REJECTED  {exc}")
    print(f"{len(files) - rejected - unreadable} accepted, {rejected} rejected"
          + (f", {unreadable} unreadable" if unreadable else ""))
    return 2 if unreadable else 1 if rejected else 0


if __name__ == "__main__":
    sys.exit(main())
