"""Known vulnerabilities in the pinned runtime dependencies (what the image installs), by pip-audit,
with PyPI's project JSON as a second source for what pip-audit cannot reach.

    python -m benchmarks.audit            # prints the table; exit 1 on a known vulnerability

The pins: every runtime dependency of pyproject.toml and everything it pulls in, at the version
installed in this environment (the Dockerfile installs the same requirements). pip-audit asks
PyPI's per-release JSON API (or OSV); where a release's record cannot be reached (some mirrors serve
only the project JSON), the project JSON is asked: its `vulnerabilities` list describes the latest
release, so it audits a pin only when the pin is that release. A pin neither source covers is
reported as not audited, never as clean.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import tomllib
import urllib.request
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent

def _project_url(name: str) -> str:
    from pip._internal.models.index import PyPI  # the index pip itself uses, not a copy of its address

    return f"{PyPI.pypi_url}/{name}/json"


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_runtime() -> dict[str, str]:
    """{name: installed version} for the runtime dependencies and their own, recursively."""
    with open(ROOT / "pyproject.toml", "rb") as handle:
        todo = [Requirement(d) for d in tomllib.load(handle)["project"]["dependencies"]]
    pins: dict[str, str] = {}
    seen: set[tuple[str, frozenset]] = set()
    while todo:
        requirement = todo.pop()
        name = _normal(requirement.name)
        if (name, frozenset(requirement.extras)) in seen:
            continue
        seen.add((name, frozenset(requirement.extras)))
        try:
            distribution = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            continue
        pins[name] = distribution.version
        for line in distribution.requires or []:
            needed = Requirement(line)
            extras = requirement.extras or {""}
            if needed.marker is None or any(needed.marker.evaluate({"extra": e}) for e in extras):
                todo.append(needed)
    return dict(sorted(pins.items()))


def pip_audit(pins: dict[str, str]) -> tuple[dict[str, list], set[str]]:
    """({name: [vulnerability ids]}, names pip-audit could not audit)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("".join(f"{n}=={v}\n" for n, v in pins.items()))
    done = subprocess.run([str(Path(sys.executable).parent / "pip-audit"), "-r", handle.name, "--no-deps",
                           "--disable-pip", "--format", "json", "--progress-spinner", "off"],
                          capture_output=True, text=True, timeout=300)
    Path(handle.name).unlink()
    report = json.loads(done.stdout or "{}")
    found, skipped = {}, set()
    for dependency in report.get("dependencies", []):
        name = _normal(dependency["name"])
        if "skip_reason" in dependency:
            skipped.add(name)
        elif dependency.get("vulns"):
            found[name] = [v["id"] for v in dependency["vulns"]]
    if not report:
        raise RuntimeError(f"pip-audit gave no report:\n{done.stderr[-2000:]}")
    return found, skipped


def project_json(name: str, version: str) -> list[str] | None:
    """Vulnerability ids of `version` from PyPI's project JSON, or None if it cannot tell."""
    try:
        with urllib.request.urlopen(_project_url(name), timeout=30) as answer:  # nosec B310: pip's https URL
            record = json.load(answer)
    except (OSError, ValueError):
        return None
    if record.get("info", {}).get("version") != version or "vulnerabilities" not in record:
        return None
    return [v.get("id") for v in record["vulnerabilities"] if not v.get("withdrawn")]


def audit() -> dict:
    pins = pinned_runtime()
    found, skipped = pip_audit(pins)
    rows = {}
    for name, version in pins.items():
        if name not in skipped:
            rows[name] = {"version": version, "source": "pip-audit", "vulnerabilities": found.get(name, [])}
            continue
        ids = project_json(name, version)
        rows[name] = {"version": version, "source": "PyPI project JSON" if ids is not None else "not audited",
                      "vulnerabilities": ids or []}
    return rows


def main() -> int:
    rows = audit()
    print("| package | pinned | audited by | known vulnerabilities |\n|---|---|---|---|")
    for name, row in rows.items():
        print(f"| {name} | {row['version']} | {row['source']} | {', '.join(row['vulnerabilities']) or 'none'} |")
    vulnerable = {n: r["vulnerabilities"] for n, r in rows.items() if r["vulnerabilities"]}
    missing = [n for n, r in rows.items() if r["source"] == "not audited"]
    print(f"\n{len(rows)} pins; {len(rows) - len(missing)} audited; not audited: {', '.join(missing) or 'none'}; "
          f"vulnerable: {vulnerable or 'none'}")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
