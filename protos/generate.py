"""Generate Python protobuf/gRPC code (with .pyi type stubs) from protos/ into one package tree.

Run through `make proto`. The output folder is replaced wholesale so removed
protos never leave stale modules behind.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

PROTO_ROOT = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--out", required=True, type=Path, help="folder that receives the `oms` package (libs)"
    )
    args = parser.parse_args()
    out: Path = args.out.resolve()
    protos = sorted(PROTO_ROOT.rglob("*.proto"))
    if not protos:
        print(f"no .proto files under {PROTO_ROOT}", file=sys.stderr)
        return 1
    package = out / "oms"
    if package.exists():
        shutil.rmtree(package)
    out.mkdir(parents=True, exist_ok=True)
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    # The mypy-protobuf plugins live next to this interpreter, which may not be on PATH.
    bin_dir = Path(sys.executable).parent
    rc = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"-I{well_known}",
            f"--plugin=protoc-gen-mypy={bin_dir / 'protoc-gen-mypy'}",
            f"--plugin=protoc-gen-mypy_grpc={bin_dir / 'protoc-gen-mypy_grpc'}",
            f"--python_out={out}",
            f"--mypy_out=quiet:{out}",
            f"--grpc_python_out={out}",
            f"--mypy_grpc_out=quiet:{out}",
            *[str(p.relative_to(PROTO_ROOT)) for p in protos],
        ]
    )
    if rc != 0:
        print("protoc failed; see the messages above", file=sys.stderr)
        return rc
    # Regular packages (with __init__.py) so mypy and importlib resolve them plainly.
    for folder in [package, *(p for p in package.rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()
    (package / "py.typed").touch()
    print(f"generated {len(protos)} protos into {package}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
