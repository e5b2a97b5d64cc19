"""Time `tonghop validate` on one commune CSV, wall clock including interpreter start.

    python bench/validate_one.py [FILE] [--runs 10] [--json]

Target (issue 2): under 1.5 s. Runs the installed console script in a fresh process each time,
exactly as a submitter's officer would, and reports min / median / max. Also checks that the
submitter path imports neither Prefect nor Great Expectations.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "sample_submissions" / "valid" / "2024-06" / "105" / "03386_2024-06.csv"
TARGET_S = 1.5


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("file", nargs="?", default=str(DEFAULT))
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    exe = shutil.which("tonghop", path=str(Path(sys.executable).parent)) or "tonghop"
    cmd = [exe, "validate", args.file]
    subprocess.run(cmd, capture_output=True, check=False)  # warm the OS file cache once
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, check=False)
        times.append(time.perf_counter() - t0)
    probe_code = (
        "import sys\n"
        f"sys.argv = ['tonghop', 'validate', {args.file!r}]\n"
        "import tonghop.cli as cli\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "print('IMPORTS', 'prefect' in sys.modules, 'great_expectations' in sys.modules)\n"
    )
    probe = subprocess.run(
        [sys.executable, "-c", probe_code], capture_output=True, text=True, check=False
    )
    imports = [ln for ln in probe.stdout.splitlines() if ln.startswith("IMPORTS")]
    out = {
        "file": args.file,
        "exit_code": proc.returncode,
        "runs": args.runs,
        "min_s": round(min(times), 3),
        "median_s": round(statistics.median(times), 3),
        "max_s": round(max(times), 3),
        "target_s": TARGET_S,
        "meets_target": statistics.median(times) < TARGET_S,
        "imports_prefect": imports[-1].split()[1] == "True" if imports else None,
        "imports_great_expectations": imports[-1].split()[2] == "True" if imports else None,
        "machine": f"{platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, {__import__('os').cpu_count()} cores",
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for k, v in out.items():
            print(f"{k:>22}: {v}")
    return 0 if out["meets_target"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
