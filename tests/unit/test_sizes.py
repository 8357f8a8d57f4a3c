"""Sizes a newcomer can read: every module under 500 lines, every function under 80.

Outside migrations and generated data. Run as a script for the figures:
`python tests/unit/test_sizes.py`.
"""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
SKIPPED_DIRS = {".git", ".venv", "node_modules", "var", "static", "staticfiles", "migrations", "__pycache__"}
UNCHECKED: tuple[str, ...] = ()  # paths held to no limit (none)


def python_files():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if not SKIPPED_DIRS & set(relative.parts):
            yield relative.as_posix(), path.read_text(encoding="utf-8")


def module_sizes() -> list[tuple[int, str]]:
    return sorted(((len(text.splitlines()), name) for name, text in python_files()), reverse=True)


def function_sizes() -> list[tuple[int, str]]:
    sizes = []
    for name, text in python_files():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                sizes.append((node.end_lineno - start + 1, f"{name}:{node.lineno} {node.name}"))
    return sorted(sizes, reverse=True)


def checked(rows):
    return [(size, where) for size, where in rows if not where.startswith(UNCHECKED)]


def test_every_module_is_under_500_lines():
    too_long = [f"{where} ({size})" for size, where in checked(module_sizes()) if size >= MAX_MODULE_LINES]
    assert not too_long, "modules of 500 lines or more: " + ", ".join(too_long)


def test_every_function_is_under_80_lines():
    too_long = [f"{where} ({size})" for size, where in checked(function_sizes()) if size >= MAX_FUNCTION_LINES]
    assert not too_long, "functions of 80 lines or more: " + ", ".join(too_long)


def test_the_measure_counts_what_it_should():
    sizes = dict((where.split(" ")[0].split(":")[0], size) for size, where in module_sizes())
    assert sizes["tests/unit/test_sizes.py"] == len(Path(__file__).read_text().splitlines())
    assert not any("/migrations/" in where for _, where in module_sizes())


if __name__ == "__main__":
    modules, functions = module_sizes(), function_sizes()
    print("largest modules:", *(f"  {size:4} {where}" for size, where in modules[:5]), sep="\n")
    print("largest functions:", *(f"  {size:4} {where}" for size, where in functions[:5]), sep="\n")
    print("largest checked:", checked(modules)[0], checked(functions)[0])
    sys.exit(0)
