"""The house's layering, checked on the source (`ast`, imports inside functions included), so that it stays true.

    6  entry points: train.py run.py eval.py viz.py options.py demo.py (the repository root)
    5  action              action recognition from pose sequences and the multitask pose + action network
    4  stitched            the joined network; may use everything below, the prior included
    3  generative_models   the pose prior, over the stages' data
    3  bottom_up           many people per image: the hourglass with associative embedding, COCO keypoint AP
    2  stacked_hourglass, twod_threed   the stages: independent of each other
    1  synthetic           the embedded dataset generator; others use only its package API (`data_root`, ...)
    0  utils               shared by all, imports no package of ours

A module imports only from lower layers or from its own package. Command modules (every package's train.py and
run.py, and the other modules the entry points take whole: viz.py, evaluate.py, ...) are leaves: only the entry
points import them; what several commands need lives in library modules (inference.py, inputs.py, checkpoint.py,
utils/metrics.py, ...).
tests/ and bench/ are clients on top and are not checked.
"""
from __future__ import annotations

import ast
from pathlib import Path

import synthetic

REPO_ROOT = Path(__file__).resolve().parents[1]
ENTRY_POINTS = ("train", "run", "eval", "viz", "options", "demo")
ENTRY_LAYER = 6
LAYERS = {"utils": 0, "synthetic": 1, "stacked_hourglass": 2, "twod_threed": 2, "generative_models": 3, "bottom_up": 3,
          "stitched": 4, "action": 5, **{name: ENTRY_LAYER for name in ENTRY_POINTS}}
CLIENTS = ("tests", "bench")


def our_modules() -> dict[str, Path]:
    """Dotted name -> file of every module of the project (packages and root modules, not tests or benchmarks)."""
    modules = {}
    for path in sorted(REPO_ROOT.rglob("*.py")):
        parts = path.relative_to(REPO_ROOT).with_suffix("").parts
        if parts[0] in CLIENTS or parts[0].startswith(".") or (len(parts) > 1 and parts[0] not in LAYERS):
            continue
        modules[".".join(parts).removesuffix(".__init__")] = path
    return modules


def imported(path: Path) -> list[tuple[int, str, tuple[str, ...]]]:
    """(line, module, names) of every absolute import in the file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import; the house uses absolute imports"
            found.append((node.lineno, node.module, tuple(alias.name for alias in node.names)))
    return found


def targets(module: str, names: tuple[str, ...], modules: dict[str, Path]) -> list[str]:
    """The project modules an import statement reaches (`from pkg import sub` reaches pkg.sub)."""
    reached = [module] if module in modules else []
    return reached + [f"{module}.{name}" for name in names if f"{module}.{name}" in modules]


def command_modules(modules: dict[str, Path]) -> set[str]:
    """The leaves of the house: every package's train.py and run.py, and each module the command-line entry points
    take whole (`from stacked_hourglass import viz as hourglass_viz`), as opposed to the names they take from
    library modules (`from generative_models.prior import with_prior`)."""
    commands = {name for name in modules if name.count(".") == 1 and name.split(".")[1] in ("train", "run")}
    for entry in ("train", "run", "eval", "viz"):
        for _, module, names in imported(modules[entry]):
            commands |= {f"{module}.{name}" for name in names if f"{module}.{name}" in modules}
    return commands


def violations() -> list[str]:
    modules = our_modules()
    commands = command_modules(modules)
    problems = []
    for name, path in modules.items():
        package, layer = name.split(".")[0], LAYERS[name.split(".")[0]]
        where = path.relative_to(REPO_ROOT)
        for line, module, names in imported(path):
            for target in targets(module, names, modules):
                other = target.split(".")[0]
                if other != package and LAYERS[other] >= layer and layer < ENTRY_LAYER:
                    problems.append(f"{where}:{line} imports {target}: layer {LAYERS[other]} ({other}) is not below "
                                    f"layer {layer} ({package})")
                if target in commands and layer < ENTRY_LAYER:
                    problems.append(f"{where}:{line} imports the command module {target}; move what it needs into a "
                                    f"library module")
            if module.split(".")[0] == "synthetic" and package != "synthetic" and (
                    module != "synthetic" or not set(names) <= set(synthetic.__all__)):
                problems.append(f"{where}:{line} imports {module} {names}: outside synthetic, use only its package "
                                f"API {synthetic.__all__}")
    return problems


def test_every_package_has_a_layer():
    packages = {p.parent.name for p in REPO_ROOT.glob("*/__init__.py")} - set(CLIENTS)
    assert packages <= set(LAYERS), f"place the new package(s) {sorted(packages - set(LAYERS))} in LAYERS"


def test_imports_point_down_and_command_modules_are_leaves():
    problems = violations()
    assert not problems, "layering broken:\n" + "\n".join(problems)


def test_the_checker_sees_the_entry_points_command_modules():
    commands = command_modules(our_modules())
    assert {"stacked_hourglass.train", "twod_threed.run", "stitched.viz", "generative_models.train"} <= commands
    assert "stacked_hourglass.inference" not in commands and "utils.training" not in commands
