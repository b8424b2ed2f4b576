"""`graph`: the layer graph as Mermaid or Graphviz DOT."""

from typing import List, Optional

import typer

from .options import DimOpt, MaxLayersOpt, SpecArg, VarOpt, check_choice, fail, parse_pairs

GRAPH_FORMATS = ("mermaid", "markdown", "dot")

GRAPH_HELP = """The layer graph as a diagram: Mermaid (GitHub and GitLab render it in markdown) or Graphviz DOT.

Boxes are layers, inputs and outputs; edges carry the shape that flows along them, and an
edge that passes over other layers (a skip connection) is dotted. Block instances are drawn
as subgraphs; --depth N folds the block instances and repeats at nesting level N into one box
each, as --depth folds the rows of the reports (top-level entries are level 1; a repeat is one
level and its copies the next). Repeated entries are folded into one box (`Block x12`) when the
diagram would have more than --max-nodes boxes, and then levels are folded too; the first
line of the output says what was folded.

Examples:

  layercalc graph specs/resnet18.yaml > resnet18.mmd

  layercalc graph specs/gpt2-small.yaml --format markdown   # a ```mermaid block for a PR

  layercalc graph specs/resnet50.yaml --format dot --depth 1 | dot -Tsvg > resnet50.svg
"""


def register(app) -> None:
    @app.command(help=GRAPH_HELP)
    def graph(spec: str = SpecArg,
              fmt: str = typer.Option("mermaid", "--format", "-f", help="mermaid, markdown (a ```mermaid block) or dot."),
              depth: Optional[int] = typer.Option(None, "--depth", min=1, help="Fold the block instances and repeats at "
                                                  "this nesting level into one box each (1: one box per top-level "
                                                  "entry)."),
              max_nodes: int = typer.Option(150, "--max-nodes", min=1, help="Fold repeats, then levels, until the "
                                            "diagram has at most this many boxes."),
              fold_repeats: Optional[bool] = typer.Option(None, "--fold-repeats/--no-fold-repeats",
                                                          help="Always / never fold the copies of a repeated entry "
                                                               "into one box (default: when over --max-nodes)."),
              direction: str = typer.Option("TD", "--direction", help="TD (top-down) or LR (left-right)."),
              dim: Optional[List[str]] = DimOpt, var: Optional[List[str]] = VarOpt,
              max_layers: int = MaxLayersOpt):
        check_choice(fmt, GRAPH_FORMATS, "--format")
        check_choice(direction, ("TD", "LR"), "--direction")
        from ..errors import SpecError
        from ..graph import diagram_of

        dims, vars_ = parse_pairs(dim, "--dim", True), parse_pairs(var, "--var", False)
        try:
            d = diagram_of(spec, dims=dims, vars=vars_, depth=depth, max_nodes=max_nodes,
                           fold_repeats=fold_repeats, max_layers=max_layers)
        except SpecError as exc:
            fail(str(exc))
        if fmt == "dot":
            from ..graph.dot import to_dot

            typer.echo(to_dot(d, "TB" if direction == "TD" else "LR"), nl=False)
            return
        from ..graph.mermaid import limits_exceeded, to_mermaid

        text = to_mermaid(d, direction)
        for problem in limits_exceeded(text):
            typer.echo(f"layercalc graph: warning: the diagram has {problem}; GitHub and GitLab will not render "
                       "it. Fold it with --depth or a lower --max-nodes.", err=True)
        typer.echo(f"```mermaid\n{text}```" if fmt == "markdown" else text, nl=fmt == "markdown")
