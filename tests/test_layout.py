"""The package layout: imports flow one way and form no circles; root names stay functions.

The import graph is read from the source with ``ast`` (every ``import`` statement, also those
inside functions), so a lazy import cannot hide a circle.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("mazegen", "agents", "steering")
#: Each package may import only the packages after it.
LAYERS = {"steering": {"agents", "mazegen"}, "agents": {"mazegen"}, "mazegen": set()}


def _modules() -> dict[str, Path]:
    mods = {}
    for pkg in PACKAGES:
        for f in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(f.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            mods[".".join(parts)] = f
    return mods


def _graph() -> dict[str, set[str]]:
    """``{module: {modules it imports}}`` over the three packages' own modules."""
    mods = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                # `from pkg import sub` imports the submodule pkg.sub when there is one
                targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in mods else mod for a in node.names]
            else:
                continue
            for t in targets:
                while t and t not in mods:  # `import a.b.c` of a name inside a module
                    t = t.rpartition(".")[0]
                if t and t != name:
                    deps.add(t)
        graph[name] = deps
    return graph


def test_graph_sees_the_modules():
    g = _graph()
    assert {"mazegen.env", "agents.eval.rollout", "steering.patches.base"} <= set(g)
    assert "agents.eval.rollout" in g["agents.eval.sweep"]  # a relative import
    assert "mazegen.procgen.generate" in g["agents.eval.sweep"]  # a lazy one inside a function


def test_no_package_imports_upward():
    bad = [
        f"{mod} imports {dep}"
        for mod, deps in _graph().items()
        for dep in deps
        if dep.split(".")[0] != mod.split(".")[0] and dep.split(".")[0] not in LAYERS[mod.split(".")[0]]
    ]
    assert not bad, bad


def test_no_import_circles():
    g = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(g[m]):
            if state.get(d) == 1:
                circles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m)
    assert not circles, [" -> ".join(c) for c in circles]


def _import_everything() -> None:
    for pkg in PACKAGES:
        mod = importlib.import_module(pkg)
        for info in pkgutil.walk_packages(mod.__path__, f"{pkg}."):
            importlib.import_module(info.name)


@pytest.mark.parametrize("pkg", PACKAGES)
def test_root_names_stay_what_they_are_after_importing_every_submodule(pkg):
    """A submodule named like a root function would replace it once imported
    (``import steering.hooks`` used to turn ``steering.hooks`` into a module)."""
    _import_everything()
    root = importlib.import_module(pkg)
    modules = [n for n in root.__all__ if isinstance(getattr(root, n), types.ModuleType)]
    assert not modules, f"{pkg}: {modules} are modules, not the documented functions/classes"


def test_steering_hooks_is_the_context_manager(tiny_model):
    import torch

    import steering

    _import_everything()
    with steering.hooks(tiny_model, {"embedder.fc": lambda act, name: act * 0}):
        _, value = tiny_model(torch.zeros(1, 3, 5, 5))
    assert torch.allclose(value, tiny_model.fc_value.bias)


@pytest.fixture
def tiny_model():
    from agents.model import ImpalaModel

    return ImpalaModel(obs_size=5, channels=(4, 8, 8))


def test_readme_architecture_names_every_subpackage():
    readme = (ROOT / "README.md").read_text()
    arch = readme[readme.index("## Architecture") : readme.index("\n## ", readme.index("## Architecture") + 1)]
    subs = sorted(
        str(p.parent.relative_to(ROOT)) for pkg in PACKAGES for p in (ROOT / pkg).glob("*/__init__.py")
    )
    assert subs and all(f"`{s}/`" in arch for s in subs), [s for s in subs if f"`{s}/`" not in arch]
