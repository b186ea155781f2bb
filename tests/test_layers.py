"""The layers in DESIGN.md hold: arrows only point down, and the core runs without Textual."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "fieldkit"

# What each layer may import from inside fieldkit. errors, locations and msgids (the
# no-op N_ marker) are leaves every layer may use; only cli and ui translate (i18n).
ALLOWED: dict[str, set[str]] = {
    "crypto": {"crypto", "errors", "msgids"},
    "formats": {"formats", "crypto", "errors", "msgids"},
    "store": {"store", "formats", "crypto", "errors", "msgids"},
    "services": {"services", "store", "formats", "crypto", "errors", "locations", "msgids"},
    "cli": {
        "cli",
        "ui",
        "services",
        "store",
        "formats",
        "crypto",
        "errors",
        "locations",
        "msgids",
        "i18n",
        "__init__",
    },
    "ui": {
        "ui",
        "services",
        "formats",
        "crypto",
        "errors",
        "locations",
        "msgids",
        "i18n",
        "__init__",
    },
}
FORBIDDEN_THIRD_PARTY: dict[str, set[str]] = {
    "crypto": {"textual", "sqlcipher3", "msgpack"},
    "formats": {"textual", "sqlcipher3"},
    "store": {"textual"},
    "services": {"textual"},
}
CORE = ("crypto", "formats", "store", "services")


def _modules(layer: str) -> list[Path]:
    return sorted((PKG / layer).rglob("*.py"))


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_imports_point_down(layer: str) -> None:
    bad: list[str] = []
    for path in _modules(layer):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "fieldkit" and len(parts) > 1 and parts[1] not in ALLOWED[layer]:
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
            if parts[0] in FORBIDDEN_THIRD_PARTY.get(layer, set()):
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, "layer violations:\n" + "\n".join(bad)


def test_every_package_is_a_known_layer() -> None:
    layers = {p.name for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert layers <= set(ALLOWED), f"unknown layer(s): {layers - set(ALLOWED)}"


def test_core_runs_without_textual() -> None:
    """Import every core module in a fresh interpreter; textual must not get loaded."""
    modules = [
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for layer in CORE
        for p in _modules(layer)
    ]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = [m for m in ('textual', 'rich') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_crypto_and_formats_run_without_sqlcipher() -> None:
    modules = [
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for layer in ("crypto", "formats")
        for p in _modules(layer)
    ]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print('sqlcipher3' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
