"""The `proofs` command line. Parses arguments, calls library functions, maps errors to exit codes.

Exit codes (SPEC §7): 0 all as expected, 1 a decided verdict other than expected or a rejected
certificate, 2 bad input (never a traceback), 3 a lemma left unknown.
"""

from __future__ import annotations

import json
import sys
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from proofs.errors import InputError, InputErrors, Location, ProofsError

__all__ = ["app", "main", "parse_objective"]

app = typer.Typer(
    help="Machine-checked safety arguments for learned policies over finite MDPs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(help="Convert environments from other libraries into world models.", no_args_is_help=True)
app.add_typer(import_app, name="import")

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_UNKNOWN = 0, 1, 2, 3


def parse_objective(text: str, where: Location) -> Any:
    """``REWARD[,horizon=H|geometric][,discount=D]`` -> `Objective` (horizon defaults to none: required)."""
    from proofs.kernel.rational import ExpressionError, parse_rational
    from proofs.spec.objective import Objective

    parts = [p.strip() for p in text.replace(" ", ",").split(",") if p.strip()]
    if not parts or "=" in parts[0]:
        raise InputError(where, f"objective {text!r} does not start with a reward name",
                         "Write it as REWARD,horizon=H[,discount=D] or REWARD,horizon=geometric,discount=G")
    fields = {"reward": parts[0]}
    for part in parts[1:]:
        key, sep, value = part.partition("=")
        if not sep or key not in ("horizon", "discount"):
            raise InputError(where, f"unknown objective field {part!r}", "Use horizon=… and discount=…")
        fields[key] = value
    if "horizon" not in fields:
        raise InputError(where, "the objective has no horizon", "Add horizon=H (an integer) or horizon=geometric")
    try:
        horizon = None if fields["horizon"] == "geometric" else int(fields["horizon"])
        discount = parse_rational(fields.get("discount", "1"))
        return Objective(fields["reward"], horizon, discount)
    except (ValueError, ExpressionError) as exc:
        raise InputError(where, f"bad objective {text!r}: {exc}",
                         "A finite horizon is an integer >= 1 with discount in (0, 1]; "
                         "a geometric horizon needs discount in (0, 1)") from None


@app.command()
def show(
    model: Annotated[Path, typer.Argument(help="World-model file (.toml, .json, .tra, .drn, .prism).")],
    format: Annotated[Optional[str], typer.Option("--format", help="Override the format chosen by extension.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Size, labels, rewards, reachability and the validation report of a world model."""
    from proofs.report.show import model_summary, render_summary
    from proofs.worldmodel.load import load_mdp

    summary = model_summary(load_mdp(model, format))
    typer.echo(json.dumps(summary, indent=2) if as_json else render_summary(summary))


@app.command("eval")
def evaluate(
    model: Annotated[Path, typer.Argument(help="World-model file.")],
    objective: Annotated[str, typer.Option(help="J as REWARD,horizon=H[,discount=D] or REWARD,horizon=geometric,discount=G.")],
    policy: Annotated[Optional[str], typer.Option(help="Policy file (.json, .csv, .npy) or module:function; default: an optimal policy.")] = None,
    property: Annotated[Optional[list[str]], typer.Option("--property", help="A constraint of Φ, e.g. 'P<=0.01 [ F \"fatal\" ]' (repeatable).")] = None,
    allow_code: Annotated[bool, typer.Option("--allow-code", help="Allow a module:function policy (runs user code).")] = False,
    format: Annotated[Optional[str], typer.Option("--format", help="Override the model format.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Evaluate one policy on a world model: J(π), J*, and each property's value. No proof."""
    from proofs.report.evaluation import evaluate_model, render_evaluation

    result = evaluate_model(model, objective, policy, property or [], allow_code=allow_code, format=format)
    typer.echo(json.dumps(result, indent=2) if as_json else render_evaluation(result))


@import_app.command("gym")
def import_gym(
    env_id: Annotated[str, typer.Argument(help="Gymnasium environment id, e.g. FrozenLake-v1.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="World-model file to write (.json).")],
    kw: Annotated[Optional[list[str]], typer.Option("--kw", help="Environment keyword key=value (repeatable).")] = None,
) -> None:
    """Write a Gymnasium toy-text environment as a world model."""
    from proofs.worldmodel.gym import import_gym as convert, parse_kwargs, write_model_json

    doc = convert(env_id, parse_kwargs(kw or []))
    write_model_json(doc, output)
    typer.echo(f"wrote {output}: {len(doc['states'])} states")


def _report_input_error(exc: ProofsError) -> None:
    errors = exc.errors if isinstance(exc, InputErrors) else (exc,)
    for e in errors:
        typer.echo(f"error: {e}", err=True)
    if len(errors) > 1:
        typer.echo(f"{len(errors)} problems found.", err=True)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry: run the app, print `ProofsError`s without a traceback."""
    try:
        app(args=argv, standalone_mode=False)
    except (InputError, InputErrors) as exc:
        _report_input_error(exc)
        sys.exit(EXIT_INPUT)
    except ProofsError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(EXIT_INPUT)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(130)
        raise
    sys.exit(EXIT_OK)
