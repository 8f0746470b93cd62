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
from google.protobuf import descriptor_pb2
from grpc_tools import protoc

PROTO_ROOT = Path(__file__).resolve().parent
# The protovalidate rules our protos annotate their fields with (docs/security.md).
VALIDATE_PROTO = "buf/validate/validate.proto"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", type=Path, help="folder that receives the `oms` package (libs)")
    target.add_argument(
        "--image",
        type=Path,
        help="write a descriptor-set image (imports and comments included) for buf lint/breaking",
    )
    parser.add_argument(
        "--root", type=Path, default=PROTO_ROOT, help="the protos folder (default: this one)"
    )
    args = parser.parse_args()
    root: Path = args.root.resolve()
    protos = sorted(root.rglob("*.proto"))
    if not protos:
        print(f"no .proto files under {root}", file=sys.stderr)
        return 1
    if args.image is not None:
        return write_image(root, protos, args.image.resolve())
    out: Path = args.out.resolve()
    package = out / "oms"
    validate_package = out / "buf"
    for folder in (package, validate_package):
        if folder.exists():
            shutil.rmtree(folder)
    out.mkdir(parents=True, exist_ok=True)
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    # The mypy-protobuf plugins live next to this interpreter, which may not be on PATH.
    bin_dir = Path(sys.executable).parent
    validate_set = out / ".buf-validate.binpb"
    validate_set.write_bytes(validate_descriptor_set())
    rc = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{root}",
            f"-I{well_known}",
            f"--descriptor_set_in={validate_set}",
            f"--plugin=protoc-gen-mypy={bin_dir / 'protoc-gen-mypy'}",
            f"--plugin=protoc-gen-mypy_grpc={bin_dir / 'protoc-gen-mypy_grpc'}",
            f"--python_out={out}",
            f"--mypy_out=quiet:{out}",
            f"--grpc_python_out={out}",
            f"--mypy_grpc_out=quiet:{out}",
            VALIDATE_PROTO,
            *[str(p.relative_to(root)) for p in protos],
        ]
    )
    validate_set.unlink()
    if rc != 0:
        print("protoc failed; see the messages above", file=sys.stderr)
        return rc
    # Regular packages (with __init__.py) so mypy and importlib resolve them plainly.
    for root in (package, validate_package):
        for folder in [root, *(p for p in root.rglob("*") if p.is_dir())]:
            (folder / "__init__.py").touch()
    (package / "py.typed").touch()
    print(f"generated {len(protos)} protos (and {VALIDATE_PROTO}) into {out}")
    return 0


def write_image(root: Path, protos: list[Path], image: Path) -> int:
    """All protos under ``root`` as one image (with imports and source info), so buf can
    lint and compare them although buf/validate comes from the wheel, not a registry."""
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    image.parent.mkdir(parents=True, exist_ok=True)
    validate_set = image.with_suffix(".validate.binpb")
    validate_set.write_bytes(validate_descriptor_set())
    try:
        rc = protoc.main(
            [
                "grpc_tools.protoc",
                f"-I{root}",
                f"-I{well_known}",
                f"--descriptor_set_in={validate_set}",
                "--include_imports",
                "--include_source_info",
                f"--descriptor_set_out={image}",
                *[str(p.relative_to(root)) for p in protos],
            ]
        )
    finally:
        validate_set.unlink()
    if rc != 0:
        print("protoc failed; see the messages above", file=sys.stderr)
    return rc


def validate_descriptor_set() -> bytes:
    """``buf/validate/validate.proto`` as a FileDescriptorSet, taken from the installed engine.

    The protovalidate wheel (Apache-2.0) ships the compiled descriptor of the rules it
    enforces but not the .proto source; compiling our protos against that very
    descriptor keeps the annotations and the engine on one version, with nothing vendored.
    """
    from protovalidate._gen.buf.validate import validate_pb

    files = descriptor_pb2.FileDescriptorSet()
    files.file.add().MergeFromString(validate_pb._DESC.proto.to_binary())
    return files.SerializeToString()


if __name__ == "__main__":
    sys.exit(main())
