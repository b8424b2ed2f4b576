"""Diagrams of a spec's layer graph: Mermaid, Graphviz DOT and inline SVG.

``diagram_of(spec)`` builds a :class:`~.diagram.Diagram` (boxes, clusters of open block
instances, edges with shapes, folded repeats); ``to_mermaid``, ``to_dot`` and ``to_svg`` draw it.
"""

from .diagram import Box, Cluster, Diagram, Edge, build_diagram, diagram_of

__all__ = ["Box", "Cluster", "Diagram", "Edge", "build_diagram", "diagram_of"]
