"""Summarise pip-audit's JSON: audited, not auditable, vulnerable; exit 1 on a vulnerability."""

from __future__ import annotations

import json
import sys


def main(path: str) -> int:
    deps = json.load(open(path, encoding="utf-8"))["dependencies"]
    skipped = [d for d in deps if "skip_reason" in d]
    vulnerable = [d for d in deps if d.get("vulns")]
    print(f"pip-audit: {len(deps)} packages, {len(deps) - len(skipped)} audited, "
          f"{len(skipped)} could not be audited, {len(vulnerable)} with known vulnerabilities")
    for dep in vulnerable:
        ids = ", ".join(v["id"] for v in dep["vulns"])
        print(f"  {dep['name']} {dep['version']}: {ids}")
    if skipped:
        print("  not audited (first 5): " + ", ".join(
            d["name"] for d in skipped[:5]))
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
