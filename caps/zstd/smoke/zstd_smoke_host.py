"""Host side of zstd_smoke.py.

The host's CPython has no zstd module, so the cross-checks use the `zstd` command-line
tool when it is installed: prepare() compresses the inputs with it (plain, at a fast
level, with a content checksum, with a dictionary it trains and with raw content as
dictionary) for the guest to decompress, and check() decompresses with it every frame
the guest wrote to /smoke/zstd-out/. Frame headers are parsed here by a small
independent reader of RFC 8878 (frame_header/frame_sizes) so the guest's
get_frame_info/get_frame_size answers are compared with something that is not the cap.
Without the CLI the guest still runs all its own checks and check() reports the
cross-check as skipped.
"""
import json
import os
import random
import shutil
import subprocess
import tempfile

DICT_ID = 0x50796C6E  # "Pyln", the ID given to the trained dictionary


def _inputs():
    rng = random.Random(20261126)
    text = "\n".join(
        f"{i:05d} The quick brown fox jumps over the lazy dog; {rng.random():.6f}"
        for i in range(6000)
    ).encode()
    records = "".join(
        f'{{"id": {i}, "name": "user{i}", "email": "user{i}@example.org", '
        f'"score": {rng.random():.4f}, "tags": ["alpha", "beta"], '
        f'"active": {"true" if i % 3 else "false"}}}\n'
        for i in range(60)
    ).encode()
    return {
        "empty": b"",
        "small": b"hello, zstd",
        "text": text,
        "records": records,
        "random": rng.randbytes(65536),
        "zeros": bytes(262144),
    }


def _raw_dict():
    # Raw content: bytes the "records" input keeps repeating, no zstd dictionary header.
    return ('{"id": 0, "name": "user", "email": "user@example.org", "score": 0.5, '
            '"tags": ["alpha", "beta"], "active": true}\n' * 4).encode()


def _training_samples():
    rng = random.Random(7)
    return [
        (f'{{"id": {i}, "name": "user{i}", "email": "user{i}@example.org", '
         f'"score": {rng.random():.4f}, "tags": ["alpha", "beta"], '
         f'"active": {"true" if i % 2 else "false"}}}\n').encode()
        for i in range(2000)
    ]


# --- an independent RFC 8878 frame reader -------------------------------------------------

ZSTD_MAGIC = 0xFD2FB528


def frame_header(data):
    """(content_size or None, dictionary_id, has_checksum) of the frame at data[0]."""
    magic = int.from_bytes(data[:4], "little")
    if magic & 0xFFFFFFF0 == 0x184D2A50:  # skippable frame
        return 0, 0, False
    if magic != ZSTD_MAGIC:
        raise ValueError(f"bad magic {magic:#x}")
    fhd = data[4]
    single_segment = bool(fhd & 0x20)
    has_checksum = bool(fhd & 0x04)
    did_size = (0, 1, 2, 4)[fhd & 3]
    fcs_size = (1 if single_segment else 0, 2, 4, 8)[fhd >> 6]
    pos = 5 if single_segment else 6
    dict_id = int.from_bytes(data[pos:pos + did_size], "little")
    pos += did_size
    if fcs_size == 0:
        content_size = None
    else:
        content_size = int.from_bytes(data[pos:pos + fcs_size], "little")
        if fcs_size == 2:
            content_size += 256
    return content_size, dict_id, has_checksum


def frame_sizes(data):
    """The sizes of the consecutive frames (zstd or skippable) making up data."""
    sizes = []
    start = 0
    while start < len(data):
        magic = int.from_bytes(data[start:start + 4], "little")
        if magic & 0xFFFFFFF0 == 0x184D2A50:
            end = start + 8 + int.from_bytes(data[start + 4:start + 8], "little")
        else:
            fhd = data[start + 4]
            single_segment = bool(fhd & 0x20)
            pos = start + (5 if single_segment else 6)
            pos += (0, 1, 2, 4)[fhd & 3]
            pos += (1 if single_segment else 0, 2, 4, 8)[fhd >> 6]
            while True:
                header = int.from_bytes(data[pos:pos + 3], "little")
                last, btype, bsize = header & 1, (header >> 1) & 3, header >> 3
                pos += 3 + (1 if btype == 1 else bsize)
                if last:
                    break
            end = pos + (4 if fhd & 0x04 else 0)
        if end > len(data):
            raise ValueError("truncated frame")
        sizes.append(end - start)
        start = end
    return sizes


# --- the plugin interface of scripts/smoke.py ------------------------------------------------

def _cli():
    return shutil.which("zstd")


def _run(args, stdin=b""):
    return subprocess.run(args, input=stdin, capture_output=True, check=True).stdout


def _train(cli, tmp):
    sample_dir = os.path.join(tmp, "samples")
    os.makedirs(sample_dir)
    paths = []
    for i, sample in enumerate(_training_samples()):
        path = os.path.join(sample_dir, f"{i:04d}.json")
        with open(path, "wb") as f:
            f.write(sample)
        paths.append(path)
    out = os.path.join(tmp, "trained.dict")
    _run([cli, "-q", "--train", *paths, "-o", out, "--maxdict=2048", f"--dictID={DICT_ID}"])
    with open(out, "rb") as f:
        return f.read()


def prepare(scratch):
    inputs = _inputs()
    cli = _cli()
    shared = {"inputs": {k: v.hex() for k, v in inputs.items()},
              "raw_dict": _raw_dict().hex(), "cli": None}
    if cli is None:
        return shared
    with tempfile.TemporaryDirectory() as tmp:
        trained = _train(cli, tmp)
        dict_path = os.path.join(tmp, "trained.dict")
        raw_path = os.path.join(tmp, "raw.dict")
        with open(raw_path, "wb") as f:
            f.write(_raw_dict())
        frames = {}
        for name, data in inputs.items():
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                f.write(data)
            # From a file the CLI knows the size; --fast=3 is level -3.
            variants = {
                "l3": [cli, "-q", "-c", "-3", "--no-check", path],
                "stdin": [cli, "-q", "-c", "-3", "-"],
                "fast3": [cli, "-q", "-c", "--fast=3", path],
                "l19check": [cli, "-q", "-c", "-19", "--check", path],
            }
            frames[name] = {}
            for variant, args in variants.items():
                frame = _run(args, data if args[-1] == "-" else b"")
                frames[name][variant] = {
                    "frame": frame.hex(),
                    "header": frame_header(frame),
                    "sizes": frame_sizes(frame),
                }
        dict_frames = {
            "trained": _run([cli, "-q", "-c", "-D", dict_path, "-"], inputs["records"]).hex(),
            "raw": _run([cli, "-q", "-c", "-D", raw_path, "-"], inputs["records"]).hex(),
        }
        shared.update({
            "cli": _run([cli, "--version"]).decode().strip(),
            "frames": frames,
            "trained_dict": trained.hex(),
            "trained_dict_id": DICT_ID,
            "dict_frames": dict_frames,
        })
    return shared


def check(scratch):
    cli = _cli()
    if cli is None:
        return [("zstd CLI not installed on the host; cross-check of the guest's frames "
                 "with it skipped", True, "")]
    inputs = _inputs()
    out = os.path.join(scratch, "zstd-out")
    with open(os.path.join(out, "manifest.json")) as f:
        manifest = json.load(f)
    with open(os.path.join(scratch, "host.json")) as f:
        shared = json.load(f)["zstd"]
    dicts = {"trained": bytes.fromhex(shared["trained_dict"]),
             "raw": bytes.fromhex(shared["raw_dict"])}
    bad = []
    header_bad = []
    with tempfile.TemporaryDirectory() as tmp:
        dict_paths = {}
        for name, content in dicts.items():
            dict_paths[name] = os.path.join(tmp, name)
            with open(dict_paths[name], "wb") as f:
                f.write(content)
        for entry in manifest:
            path = os.path.join(out, entry["file"])
            want = b"".join(inputs[n] for n in entry["expect"])
            args = [cli, "-d", "-q", "-c"]
            if entry.get("dict"):
                args += ["-D", dict_paths[entry["dict"]]]
            p = subprocess.run(args + [path], capture_output=True)
            if p.returncode != 0:
                bad.append(f"{entry['file']}: zstd -d failed: {p.stderr.decode().strip()}")
            elif p.stdout != want:
                bad.append(f"{entry['file']}: {len(p.stdout)} bytes, want {len(want)}")
            with open(path, "rb") as f:
                data = f.read()
            try:
                sizes = frame_sizes(data)
                first = frame_header(data)
            except (ValueError, IndexError) as e:
                header_bad.append(f"{entry['file']}: unreadable frames: {e}")
                continue
            if "frames" in entry and len(sizes) != entry["frames"]:
                header_bad.append(f"{entry['file']}: {len(sizes)} frames, want {entry['frames']}")
            if "content_size" in entry and first[0] != entry["content_size"]:
                header_bad.append(f"{entry['file']}: content size {first[0]}, "
                                  f"want {entry['content_size']}")
            if "dict_id" in entry and first[1] != entry["dict_id"]:
                header_bad.append(f"{entry['file']}: dictionary ID {first[1]}, "
                                  f"want {entry['dict_id']}")
            if "checksum" in entry and first[2] != entry["checksum"]:
                header_bad.append(f"{entry['file']}: checksum flag {first[2]}, "
                                  f"want {entry['checksum']}")
    return [
        (f"the host's zstd CLI decompresses the {len(manifest)} files the guest wrote",
         not bad, "\n".join(bad)),
        ("the frame headers the guest wrote (content size, dictionary ID, checksum flag, "
         "frame count) read as intended by an independent parser", not header_bad,
         "\n".join(header_bad)),
    ]
