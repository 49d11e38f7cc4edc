#!/usr/bin/env python3
"""Fail when packages of edge_agent import each other in a cycle.

Nodes are the sub-packages of edge_agent (edge_agent/<name>/) and its loose modules; an edge
A -> B means some module in A imports something from B (at module level or inside a
function: a lazy import still couples the packages). Prints each cycle found (strongly
connected components of more than one node) with one import per edge as evidence, and exits 1;
exits 0 when the package graph is acyclic.

Usage: scripts/check_import_cycles.py [PACKAGE_DIR]   (default: edge_agent next to this script)
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Dict, List, Set, Tuple

Edge = Tuple[str, str]


def node_of(module: str, root: str) -> str:
    """'edge_agent.runtime.worker' -> 'runtime'; 'edge_agent.errors' -> 'errors'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == root else root


def module_name(path: Path, package_dir: Path) -> str:
    rel = path.relative_to(package_dir.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path, module: str) -> List[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: List[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append(target)
            found.extend(f"{target}.{alias.name}" for alias in node.names)
    return found


def package_graph(package_dir: Path) -> Dict[str, Dict[str, Edge]]:
    """node -> {imported node: (importing module, imported module)}."""
    root = package_dir.name
    graph: Dict[str, Dict[str, Edge]] = {}
    modules = {module_name(p, package_dir): p for p in sorted(package_dir.rglob("*.py"))}
    for module, path in modules.items():
        source = node_of(module, root)
        graph.setdefault(source, {})
        for target in imports_of(path, module):
            if not target.startswith(root + ".") or target not in modules and (
                    target.rsplit(".", 1)[0] not in modules):
                continue
            dest = node_of(target, root)
            if dest != source and dest != root:
                graph[source].setdefault(dest, (module, target))
    return graph


def cycles(graph: Dict[str, Dict[str, Edge]]) -> List[List[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    out: List[List[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, {}):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


def main(argv: List[str]) -> int:
    package_dir = Path(argv[1]) if len(argv) > 1 else Path(__file__).parent.parent / "edge_agent"
    graph = package_graph(package_dir)
    found = cycles(graph)
    for component in found:
        print(f"import cycle between packages: {', '.join(component)}")
        members = set(component)
        for source in component:
            for dest, (module, target) in sorted(graph[source].items()):
                if dest in members:
                    print(f"  {source} -> {dest}: {module} imports {target}")
    if found:
        print(f"{len(found)} cycle(s); move the shared code down a layer or invert the "
              "dependency (a protocol in the lower package)")
        return 1
    print(f"no import cycle between the {len(graph)} packages of {package_dir.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
