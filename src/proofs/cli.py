"""The `proofs` command line. Parses arguments, calls library functions, maps errors to exit codes.

Exit codes (SPEC §7): 0 all as expected, 1 a decided verdict other than expected or a rejected
certificate, 2 bad input (never a traceback), 3 a lemma left unknown.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from proofs.core.errors import InputError, InputErrors, Location, ProofsError

__all__ = ["app", "main"]

app = typer.Typer(
    help="Machine-checked safety arguments for learned policies over finite MDPs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(help="Convert environments from other libraries into world models.", no_args_is_help=True)
app.add_typer(import_app, name="import")

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_UNKNOWN = 0, 1, 2, 3


_CONST_HELP = "Values of a PRISM program's undefined constants, e.g. --const N=4,p=1/10 (repeatable)."


_MAX_STATES_HELP = ("At most this many states in a PRISM program (default: $PROOFS_MAX_STATES, else 5,000,000); "
                    "Storm's build of a larger one is refused before it can exhaust memory.")


@app.command()
def show(
    model: Annotated[Path, typer.Argument(help="World-model file (.toml, .json, .tra, .drn, .prism).")],
    format: Annotated[str | None, typer.Option("--format", help="Override the format chosen by extension.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    const: Annotated[list[str] | None, typer.Option("--const", help=_CONST_HELP)] = None,
    max_states: Annotated[int | None, typer.Option("--max-states", min=1, help=_MAX_STATES_HELP)] = None,
) -> None:
    """Size, labels, rewards, reachability and the validation report of a world model."""
    from proofs.report.show import model_summary, render_summary
    from proofs.worldmodel.load import load_mdp, parse_constants
    from proofs.worldmodel.prism_limit import state_limit

    constants = parse_constants(const or [], Location("command line", None, "--const"))
    with state_limit(max_states):
        summary = model_summary(load_mdp(model, format, constants))
    typer.echo(json.dumps(summary, indent=2) if as_json else render_summary(summary))


@app.command("eval")
def evaluate(
    model: Annotated[Path, typer.Argument(help="World-model file.")],
    objective: Annotated[str | None, typer.Option(help="J as REWARD,horizon=H[,discount=D] or REWARD,horizon=geometric,discount=G (optional).")] = None,
    policy: Annotated[str | None, typer.Option(help="Policy file (.json, .csv, .npy) or module:function; default: an optimal policy.")] = None,
    property: Annotated[list[str] | None, typer.Option("--property", help="A constraint of Φ, e.g. 'P<=0.01 [ F \"fatal\" ]', or a query such as 'Pmax=? [ F<=10 \"goal\" ]', 'R{\"c\"}min=? [ F \"goal\" ]' (repeatable).")] = None,
    horizon: Annotated[str | None, typer.Option("--horizon", help="H: judge properties on the episode s0..s_H (default: the objective's horizon, else each formula's own bound); 'unbounded': Storm's reading of F, U, G and R[F] over all policies.")] = None,
    const: Annotated[list[str] | None, typer.Option("--const", help=_CONST_HELP)] = None,
    save_policy: Annotated[Path | None, typer.Option("--save-policy", help="Write the optimal policy of the one optimised query (Pmax=?, ...) as a policy JSON file.")] = None,
    allow_code: Annotated[bool, typer.Option("--allow-code", help="Allow a module:function policy (runs user code).")] = False,
    format: Annotated[str | None, typer.Option("--format", help="Override the model format.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Evaluate a policy, or optimise over all policies: J(π), J*, constraints and PRISM queries. No proof."""
    from proofs.report.evaluation import evaluate_model, render_evaluation
    from proofs.worldmodel.load import parse_constants

    constants = parse_constants(const or [], Location("command line", None, "--const"))
    result = evaluate_model(model, objective, policy, property or [], allow_code=allow_code, format=format,
                            horizon=horizon, constants=constants, save_policy=save_policy)
    typer.echo(json.dumps(result, indent=2) if as_json else render_evaluation(result))


def _version(value: bool) -> None:
    if value:
        from proofs import __version__

        typer.echo(f"proofs {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version of proofs and exit.")] = False,
) -> None:
    """Machine-checked safety arguments for learned policies over finite MDPs."""


def _check_limits(jobs: int, timeout: float | None) -> None:
    """``--jobs`` is at least 1; ``--timeout`` is a positive finite number of seconds."""
    import math

    if jobs < 1:
        raise InputError(Location("command line", None, "--jobs"), f"--jobs must be at least 1, got {jobs}",
                         "Give the number of lemmas to discharge at once, e.g. --jobs 2")
    if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
        raise InputError(Location("command line", None, "--timeout"),
                         f"--timeout must be a positive number of seconds, got {timeout:g}",
                         "Give the seconds allowed per lemma, e.g. --timeout 600, or leave it out for no limit")


@app.command()
def prove(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Obligation files or folders of them (default: all under obligations/). Premises are found "
             "in the whole project; only the named lemmas and the premises they need are proved.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Re-prove even lemmas whose certificate still checks.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Independent lemmas discharged in parallel.")] = 1,
    timeout: Annotated[float | None, typer.Option(help="Seconds per lemma; past it the lemma is unknown.")] = None,
    allow_code: Annotated[bool, typer.Option("--allow-code", help="Allow module:function policies (runs user code).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document and nothing else on stdout.")] = False,
    engine: Annotated[str | None, typer.Option(
        help="Engine for every lemma: auto, lagrangian, lp or smt (alignment), bellman (policy). "
             "Default: each lemma's engine key, else the project's \\[tool.proofs] engine, else auto.")] = None,
) -> None:
    """Discharge obligations in dependency order and write certificates (re-using unchanged ones)."""
    from proofs.core.errors import InputError, Location
    from proofs.engines.select import ENGINE_NAMES
    from proofs.prooftree.plan import find_root, make_plan
    from proofs.prooftree.prove import prove as run
    from proofs.report.render import exit_code, results_json, summary_table

    if engine is not None and engine not in ENGINE_NAMES:
        raise InputError(Location("command line", None, "--engine"), f"unknown engine {engine!r}",
                         "Use one of " + ", ".join(ENGINE_NAMES))
    _check_limits(jobs, timeout)
    root = find_root(Path.cwd())
    plan = make_plan(root, list(paths or []), allow_code=allow_code)
    outcomes = _with_progress(plan, lambda progress: run(
        plan, force=force, jobs=jobs, timeout=timeout if timeout is not None else plan.settings.timeout,
        progress=progress, engine=engine), quiet=as_json)
    if as_json:
        typer.echo(json.dumps(results_json(outcomes), indent=2))
    else:
        from rich.console import Console

        Console().print(summary_table(outcomes))
    raise typer.Exit(exit_code(outcomes))


def _with_progress(plan: Any, work: Any, quiet: bool) -> Any:
    if quiet:
        return work(None)
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("proving", total=len(plan.order))

        def progress(lemma_id: str, action: str) -> None:
            bar.update(task, advance=1, description=f"{lemma_id}: {action}")

        return work(progress)


@app.command()
def check(
    certificates: Annotated[list[Path] | None, typer.Argument(
        help="Certificate files or folders of them (default: the project: every certificate, and a "
             "certificate for every declared lemma).")] = None,
    allow_code: Annotated[bool, typer.Option("--allow-code", help="Accepted for compatibility: check never runs "
                                             "user code (a module:function policy is checked through the table "
                                             "its certificate wrote).")] = False,
    kernel_only: Annotated[bool, typer.Option("--kernel-only", help="Skip the translation step: judge the "
                                              "certificates against the canonical models in .proofs/models/ "
                                              "with the kernel alone.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Re-verify certificates in two steps, and say which is which.

    1. translation (untrusted readers; Storm for .nm): each certificate's obligation, world-model
    source files and policy file still translate to the statement, canonical model and policy
    table it names (a mismatch is STALE);
    2. kernel (trusted, about 2,000 lines, numpy only): each certificate is right about them.
    """
    from proofs.core.certificate import relative
    from proofs.core.errors import CheckFailure
    from proofs.prooftree.verify import Checker, UnreadableInput
    from proofs.prooftree.inventory import take_inventory
    from proofs.prooftree.plan import find_root
    from proofs.spec.obligation import read_settings

    root = find_root(Path.cwd())
    settings = read_settings(root / "pyproject.toml")
    found = take_inventory(root, settings, list(certificates or []))
    checker = Checker(root, settings.certificates, allow_code=allow_code, kernel_only=kernel_only)
    results: list[dict[str, Any]] = []
    unreadable = False
    for f in found.files:
        try:
            doc = checker.check_file(f.resolve())
            steps = "skipped (--kernel-only)" if kernel_only else checker.notes.get(str(f.resolve()), [])
            results.append({"certificate": str(f), "accepted": True, "id": doc["lemma"]["id"], "status": doc["status"],
                            "translation": steps, "kernel": "accepted"})
        except CheckFailure as exc:
            unreadable = unreadable or isinstance(exc, UnreadableInput)
            results.append({"certificate": str(f), "accepted": False, "reason": str(exc),
                            **({"unreadable": True} if isinstance(exc, UnreadableInput) else {})})
    for lemma_id, obligation, path in found.missing:
        results.append({"certificate": relative(path, root), "accepted": False, "id": lemma_id, "missing": True,
                        "reason": f"{relative(path, root)}: lemma {lemma_id!r} of {relative(obligation, root)} "
                                  "has no certificate. Run `proofs prove`"})
    for path in found.undeclared:
        results.append({"certificate": relative(path, root), "accepted": False, "id": path.stem, "undeclared": True,
                        "reason": f"{relative(path, root)}: no obligation file declares lemma {path.stem!r} "
                                  "(renamed or removed?). Delete the certificate, or declare the lemma"})
    counts = {"accepted": sum(r["accepted"] for r in results), "missing": len(found.missing),
              "undeclared": len(found.undeclared)}
    counts["rejected"] = len(results) - sum(counts.values())
    if as_json:
        typer.echo(json.dumps({"checked": results, **counts}, indent=2))
    else:
        for path in found.ignored:
            typer.echo(f"ignored   {relative(path, root)}: a log an earlier version kept there (`proofs prove` removes it)")
        typer.echo("translation step skipped (--kernel-only): the kernel judges the canonical models in "
                   ".proofs/models/" if kernel_only else
                   "step 1, translation: sources -> canonical models and tables; step 2, kernel: the certificates")
        for r in results:
            label = ("accepted" if r["accepted"] else "MISSING" if r.get("missing") else "UNREADABLE" if r.get("unreadable")
                     else "UNDECLARED" if r.get("undeclared") else "REJECTED")
            typer.echo(f"{label:<9} {r['id']} ({r['status']})" if r["accepted"] else f"{label:<9} {r['reason']}")
            if r["accepted"] and not kernel_only:
                for note in r["translation"]:
                    typer.echo(f"            translation: {note}")
                typer.echo("            kernel: accepted")
        summary = f"{counts['accepted']} accepted, {counts['rejected']} rejected"
        summary += "".join(f", {counts[k]} {k}" for k in ("missing", "undeclared") if counts[k])
        typer.echo(summary)
    if unreadable:  # an input that cannot be read is bad input, whatever else was found
        typer.echo("error: some inputs cannot be read (see UNREADABLE above); nothing was judged for them",
                   err=True)
        raise typer.Exit(EXIT_INPUT)
    raise typer.Exit(EXIT_FAILED if counts["accepted"] < len(results) else EXIT_OK)


@app.command()
def explain(
    lemma_id: Annotated[str, typer.Argument(metavar="ID", help="The lemma id.")],
    allow_code: Annotated[bool, typer.Option("--allow-code", help="Allow module:function policies (runs user code).")] = False,
    plot: Annotated[Path | None, typer.Option(
        "--plot", metavar="FILE.png",
        help="Also draw the reward hack (refuted alignment lemma) or the policy (policy lemma, safety "
             "certificate) over a grid-shaped model: visits as a heat map, moves as arrows, fatal and goal "
             "cells marked. PNG, SVG or PDF by the suffix. The world file's [plot] table says where each "
             "state is drawn (docs/worldmodel-format.md).")] = None,
) -> None:
    """What was proved or refuted, in words: values, the counterexample or diagnosis, the margin.

    The kernel checks the certificate against the current inputs first: a certificate made for
    other inputs is reported STALE (exit code 1), one it rejects REJECTED (exit code 1).
    """
    from proofs.core.certificate import read_certificate
    from proofs.core.errors import CheckFailure
    from proofs.prooftree.verify import Checker, StaleCertificate, UnreadableInput, certificate_path
    from proofs.prooftree.plan import find_root
    from proofs.report.explain import explain as words
    from proofs.report.explain import not_accepted
    from proofs.spec.obligation import read_settings

    root = find_root(Path.cwd())
    settings = read_settings(root / "pyproject.toml")
    path = certificate_path(root, settings.certificates, lemma_id)
    if not path.is_file():
        raise InputError(Location(path), f"no certificate for lemma {lemma_id!r}", "Run `proofs prove` first")
    checker = Checker(root, settings.certificates, allow_code=allow_code)
    try:
        doc = checker.check_file(path)
    except UnreadableInput as exc:  # bad input (exit 2), not a verdict on the certificate
        raise InputError(Location(path), f"an input cannot be read: {exc}",
                         "Make the files of the project readable") from None
    except CheckFailure as exc:
        try:
            claimed = read_certificate(path).get("status")
        except (CheckFailure, OSError):
            claimed = None
        typer.echo(not_accepted(lemma_id, claimed, str(exc), isinstance(exc, StaleCertificate)))
        raise typer.Exit(EXIT_FAILED) from None
    if plot is not None:
        _check_output_folder(plot, "--plot")
    typer.echo(words(doc, _explain_context(checker, path, doc)))
    if plot is not None:
        _plot_lemma(checker, path, doc, plot)
        typer.echo(f"picture: {plot}")


def _plot_lemma(checker: Any, path: Path, doc: dict[str, Any], output: Path) -> None:
    """Draw what an accepted certificate is about (`proofs.report.plot.certificate_drawing`)."""
    from proofs.report.plot import NothingToDraw, certificate_drawing, plot_policy

    try:
        drawing = certificate_drawing(checker, path, doc)
    except NothingToDraw as exc:
        raise InputError(Location(path), str(exc),
                         "Plot a refuted alignment lemma, a policy lemma or a safety certificate") from None
    try:
        plot_policy(drawing.model, drawing.policy, drawing.horizon, title=drawing.title, path=output)
    except ValueError as exc:   # not grid-shaped, or a state without a cell
        raise InputError(Location(drawing.world), f"cannot draw the model: {exc}",
                         "Add a [plot] table with grid = [rows, columns] (and cells) to the world file; "
                         "see docs/worldmodel-format.md") from None


def _explain_context(checker: Any, path: Path, doc: dict[str, Any]) -> Any:
    """What an (accepted) alignment certificate or composition is about, as the kernel read it (else None)."""
    from proofs.kernel.check import witness_arrays
    from proofs.kernel.horizon import restrict
    from proofs.report.explain import Context
    from proofs.spec.obligation import AlignmentLemma

    lemma, obligation, mdp = checker.inputs(doc)
    if lemma.kind == "certificate":
        return _composition_context(checker.kernel, path, doc)
    if lemma.kind == "policy" and mdp.is_credal and obligation.objective is not None:   # nature's worst case
        from proofs.core.certificates import Certificate

        return Context(mdp, obligation.objective, (), policy=checker.kernel.policy(path, Certificate.from_json(doc), mdp))
    if not isinstance(lemma, AlignmentLemma) or obligation.objective is None:
        return None
    if obligation.objective.horizon is not None:
        mdp = restrict(mdp, obligation.objective.horizon)
    return Context(mdp, obligation.objective, lemma.desirable, witness_arrays(path, doc))


def _composition_context(kernel: Any, path: Path, doc: dict[str, Any]) -> Any:
    """What an (accepted) composition is about, from its premises as the kernel read them: the
    policy premise's model, J and policy, with the alignment premise's Φ (None when the premises
    were not checked: an unknown composition)."""
    from proofs.core.certificates import Certificate
    from proofs.report.explain import Context

    premises = {}
    for pid in Certificate.from_json(doc).statement.premises:
        where = path.with_name(f"{pid}.json")
        premise = kernel.parsed.get(str(where.resolve()))
        if premise is not None:
            premises[premise.statement.kind] = (where, premise)
    if set(premises) != {"alignment", "policy"}:
        return None
    where, premise = premises["policy"]
    mdp = kernel.model(premise)
    return Context(mdp, premise.statement.objective, premises["alignment"][1].statement.phi,
                   policy=kernel.policy(where, premise, mdp))


def _check_output_folder(output: Path, option: str) -> None:
    """The folder of an output file must exist: a mistyped folder is an input error, never created silently."""
    folder = output.parent
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "does not exist"
        raise InputError(Location(output), f"the output folder {str(folder)!r} {problem}",
                         f"Create the folder first (mkdir -p {folder}), or give {option} a file in an existing folder")


@app.command()
def graph(
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="Write the tree here, in the format its extension names: .png, .svg, .pdf "
                               "(a drawing) or .dot/.gv (Graphviz DOT).")] = None,
) -> None:
    """The proof tree with each lemma's recorded verdict: DOT on stdout, or a drawing or DOT file with -o."""
    from proofs.prooftree.plan import find_root, proof_graph
    from proofs.report.graph import lemma_nodes, to_dot, write_graph
    from proofs.spec.obligation import discover, load_obligations, read_settings

    if output is not None:
        _check_output_folder(output, "-o")
    root = find_root(Path.cwd())
    settings = read_settings(root / "pyproject.toml")
    files = load_obligations(discover(root, settings))
    g = proof_graph(files)
    nodes = lemma_nodes(g, files, root / settings.certificates)
    if output is None:
        typer.echo(to_dot(g, nodes), nl=False)
    else:
        write_graph(g, nodes, output)
        typer.echo(f"wrote {output}: {g.number_of_nodes()} lemmas")


@app.command()
def report(
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", metavar="DIR",
        help="The report folder (default: report/ under the project root): index.html, the proof tree, "
             "one picture per lemma and a copy of the certificates; open index.html in a browser.")] = None,
) -> None:
    """A static HTML page of the whole proof tree: each lemma's statement, verdict, numbers, margin and picture.

    Every certificate is checked by the kernel first (as `proofs explain` does): only an accepted
    one shows its numbers and picture; a stale, rejected or missing one says so.
    """
    from proofs.prooftree.plan import find_root
    from proofs.report.html import write_report

    root = find_root(Path.cwd())
    index = write_report(root, output if output is not None else root / "report")
    typer.echo(f"wrote {index}")


@import_app.command("gym")
def import_gym(
    env_id: Annotated[str, typer.Argument(help="Gymnasium environment id, e.g. FrozenLake-v1.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="World-model file to write (.json).")],
    kw: Annotated[list[str] | None, typer.Option("--kw", help="Environment keyword key=value (repeatable).")] = None,
) -> None:
    """Write a Gymnasium toy-text environment as a world model."""
    from proofs.worldmodel.gym import import_gym as convert
    from proofs.worldmodel.gym import parse_kwargs, write_model_json

    _check_output_folder(output, "-o")
    doc = convert(env_id, parse_kwargs(kw or []))
    write_model_json(doc, output)
    typer.echo(f"wrote {output}: {len(doc['states'])} states")


def _report_input_error(exc: ProofsError) -> None:
    errors = exc.errors if isinstance(exc, InputErrors) else (exc,)
    for e in errors:
        typer.echo(f"error: {e}", err=True)
    total = exc.total if isinstance(exc, InputErrors) else 1
    if total > 1:
        typer.echo(f"{total} problems found.", err=True)


def _report_os_error(exc: OSError) -> int:
    """Print an `OSError` as an input error naming its file; the exit code."""
    from proofs.core.errors import file_error

    if isinstance(exc, BrokenPipeError):  # the reader of our output went away (``proofs check | head``)
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    if exc.filename is None:
        typer.echo(f"error: cannot read or write a file: {exc.strerror or exc}. Check free disk space and "
                   "permissions, then run again", err=True)
        return EXIT_INPUT
    _report_input_error(file_error(exc))
    return EXIT_INPUT


def main(argv: list[str] | None = None) -> None:
    """Console-script entry: run the app, print `ProofsError`s without a traceback."""
    try:
        code = app(args=argv, standalone_mode=False)
    except (InputError, InputErrors) as exc:
        _report_input_error(exc)
        sys.exit(EXIT_INPUT)
    except ProofsError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except OSError as exc:  # a file that cannot be read or written: permissions, a link loop, a full disk
        sys.exit(_report_os_error(exc))
    except (MemoryError, RecursionError) as exc:
        typer.echo(f"error: an input is too large or nested too deeply to process ({type(exc).__name__}). "
                   "Reduce the model, or simplify the nested expression or table", err=True)
        sys.exit(EXIT_INPUT)
    except RuntimeError as exc:
        loop = str(exc).partition("Symlink loop from ")[2]  # pathlib's resolve() on Python 3.11
        if not loop:
            raise
        _report_input_error(InputError(Location(loop.strip("'\"")), "the path is a loop of symbolic links",
                                       "Point the link at a real file"))
        sys.exit(EXIT_INPUT)
    except Exception as exc:  # usage errors of the argument parser (click's ClickException)
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(EXIT_INPUT)
        if type(exc).__name__ == "Abort":
            sys.exit(130)
        raise
    sys.exit(code if isinstance(code, int) else EXIT_OK)
