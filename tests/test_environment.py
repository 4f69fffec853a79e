"""environment.yml (conda users) and pyproject.toml must ask for the same things."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def normalise(req: str) -> tuple[str, str]:
    name, spec = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req).groups()
    return re.sub(r"[-_.]+", "-", name).lower(), ",".join(sorted(s.strip() for s in spec.split(",") if s.strip()))


def pip_section(text: str) -> list[str]:
    lines, inside = [], False
    for line in text.splitlines():
        if re.match(r"^\s*-\s*pip:\s*$", line):
            inside = True
        elif inside and re.match(r"^\s+-\s+", line):
            lines.append(re.sub(r"^\s+-\s+", "", line).strip())
        elif inside and line.strip() and not line.strip().startswith("#"):
            inside = False
    return lines


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"])
    for extra in ("book", "test"):
        wanted |= set(project["optional-dependencies"][extra])
    env = [r for r in pip_section((ROOT / "environment.yml").read_text()) if not r.startswith("-e")]
    assert env, "environment.yml has no pip section"
    # a package may appear twice with different specs (a range for the book, a pin for the tests)
    assert sorted(set(map(normalise, env))) == sorted(set(map(normalise, wanted)))


def test_python_floor_agrees():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert f"python{project['requires-python']}" in (ROOT / "environment.yml").read_text()
