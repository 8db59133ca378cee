"""`make bench`: runs every bench/bench_*.py against the running platform (the
same servers and services `make test` starts), prints one table of figures and
ratios, and writes the same figures to .local/bench.json.

Each module has `async def run() -> list[Figure]`. Benchmarks print figures;
they never assert a time.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from figures import Figure  # noqa: E402


def modules(selected: list[str]) -> list[Path]:
    found = sorted(HERE.glob("bench_*.py"))
    return [m for m in found if not selected or any(s in m.stem for s in selected)]


async def main(selected: list[str]) -> None:
    results: dict[str, list[dict]] = {}
    for path in modules(selected):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        print(f"\n== {path.stem}: {module.__doc__.strip().splitlines()[0]}", flush=True)
        started = time.perf_counter()
        figures: list[Figure] = await module.run()
        for f in figures:
            print(f"  {f.name:<58} {f.render():>22}  {f.note}")
        print(f"  ({time.perf_counter() - started:.1f} s)")
        results[path.stem] = [f.as_dict() for f in figures]
    out = HERE.parent / ".local" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                               "results": results}, indent=2))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
