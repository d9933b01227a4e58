"""Registry figures: what reading studio/models.toml costs at import, on the first build and on each rerun.

``python -m bench.registry_bench`` prints milliseconds/microseconds; nothing is judged (figures only).
The studio asks for the catalogue several times per script run (``services.get_catalogue()``), so the cached
path must stay in microseconds.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

from bench.common import median_time


def main() -> None:
    code = "import time; t=time.perf_counter(); import studio.catalogue; print(time.perf_counter()-t)"
    imports = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
                     .stdout) for _ in range(5)]
    from studio import registry
    from studio.catalogue import _BUILT, Catalogue

    def fresh() -> None:
        _BUILT.clear()
        Catalogue.from_config({"pro": "bench-id"})

    print(f"import studio.catalogue (parse + check + build, new interpreter): {statistics.median(imports) * 1000:.1f} ms")
    print(f"registry.load (file cached, overrides merged and checked): {median_time(lambda: registry.load({}), 200) * 1000:.2f} ms")
    print(f"Catalogue.from_config, first build: {median_time(fresh, 50) * 1000:.2f} ms")
    Catalogue.from_config({"pro": "bench-id"})
    print(f"Catalogue.from_config, cached (each rerun): {median_time(lambda: Catalogue.from_config({'pro': 'bench-id'}), 2000) * 1e6:.1f} us")


if __name__ == "__main__":
    main()
