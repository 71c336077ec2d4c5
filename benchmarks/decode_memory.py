"""Peak memory of decoding a huge photo at the size it is needed, against a full-size decode.

    python benchmarks/decode_memory.py [--megapixels 169] [--runs 3] [--ground]

Writes a JPEG and a PNG of about N megapixels, then measures, each in a fresh child process, the
growth of the peak resident memory (VmHWM from /proc, Linux) while decoding:

  full    the full-size path (open, load, EXIF transpose, RGB, downscale): the baseline
  model   io.images.decode_image(path, 1024), what `ground` and the model ask for
  app     io.images.decode_image(path, 4096), what the desktop app shows

and prints the medians and each one's ratio to `full`, measured in the same run. With --ground,
also the median peak memory of a whole `grounding-desktop ground` run (the model included).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import textwrap
import warnings
from pathlib import Path

from PIL import Image

PEAK = 'int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))'

DECODE = textwrap.dedent(f"""
    import re, sys, warnings
    from PIL import Image, ImageOps
    from grounding_desktop.io.images import decode_image
    path, how = sys.argv[1], sys.argv[2]
    before = {PEAK}
    if how == "full":
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(path) as img:
            img.load()
            out = ImageOps.exif_transpose(img).convert("RGB")
        out.thumbnail((1024, 1024), Image.Resampling.BILINEAR)
    else:
        out, _ = decode_image(path, int(how))
    print(({PEAK} - before) / 1024)
""")

GROUND = textwrap.dedent(f"""
    import re, sys
    from grounding_desktop.cli import main
    status = main(["ground", sys.argv[1], "the cup", "--device", "cpu", "--json"])
    print({PEAK} / 1024, file=sys.stderr)
    sys.exit(status)
""")


def make_photos(folder: Path, megapixels: float) -> list[Path]:
    """A smooth synthetic scene of about ``megapixels``, as JPEG and PNG (quick to write)."""
    side = round((megapixels * 1e6) ** 0.5)
    small = Image.merge("RGB", [Image.linear_gradient("L"), Image.radial_gradient("L"),
                                Image.linear_gradient("L").rotate(90)])
    big = small.resize((side, side), Image.Resampling.BILINEAR)
    paths = [folder / "huge.jpg", folder / "huge.png"]
    big.save(paths[0], quality=90)
    big.save(paths[1], compress_level=1)
    return paths


def child_mb(code: str, *args: str, stderr_line: bool = False) -> float:
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"child failed: {r.stderr.strip().splitlines()[-1:]}")
    return float((r.stderr if stderr_line else r.stdout).strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--megapixels", type=float, default=169.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ground", action="store_true", help="also one `ground` run per file (loads the model)")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the point is a huge image
    with tempfile.TemporaryDirectory() as tmp:
        photos = make_photos(Path(tmp), args.megapixels)
        for photo in photos:
            with Image.open(photo) as img:
                w, h = img.size
            print(f"{photo.suffix[1:].upper()} {w}x{h} ({w * h / 1e6:.0f} MP, {photo.stat().st_size / 1e6:.0f} MB "
                  f"on disk; one RGB frame in Pillow = {w * h * 4 / 2**20:.0f} MB)")
            medians = {how: statistics.median(child_mb(DECODE, str(photo), how) for _ in range(args.runs))
                       for how in ("full", "1024", "4096")}
            for how, label in (("full", "full-size decode (baseline)"), ("1024", "decode_image(max_side=1024)"),
                               ("4096", "decode_image(max_side=4096)")):
                print(f"  {label:<30} peak growth {medians[how]:7.0f} MB  "
                      f"({medians[how] / medians['full']:.2f}x the baseline)")
            if args.ground:
                peak = statistics.median(child_mb(GROUND, str(photo), stderr_line=True) for _ in range(args.runs))
                print(f"  one `grounding-desktop ground` run: peak {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
