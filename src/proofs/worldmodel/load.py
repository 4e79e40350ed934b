"""Reading a world-model file of any supported format into a validated `Mdp`.

TRUSTED (reading base). The format is chosen by the file's extension or named explicitly; each
format has one reader module, and all of them build through `proofs.worldmodel.build`, so every
model is validated by the same rules (SPEC §3) whatever its format.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Mapping
from pathlib import Path

from proofs.core.errors import InputError, InputErrors, Location, file_error
from proofs.core.model import Mdp

__all__ = ["FORMATS", "format_of", "load_mdp", "parse_constants"]

FORMATS = ("toml", "json", "explicit", "drn", "prism")
_EXTENSIONS = {
    ".toml": "toml",
    ".json": "json",
    ".tra": "explicit",
    ".drn": "drn",
    ".prism": "prism",
    ".nm": "prism",
    ".pm": "prism",
}


def format_of(path: Path, format: str | None = None) -> str:
    """The format name for `path`: `format` if given (checked), else from the extension.

    >>> format_of(Path("worldmodels/cliff.toml"))
    'toml'
    >>> format_of(Path("big.tra"))
    'explicit'
    """
    if format is not None:
        if format not in FORMATS:
            raise InputError(
                Location(path), f"unknown format {format!r}", f"Use one of: {', '.join(FORMATS)}"
            )
        return format
    found = _EXTENSIONS.get(path.suffix.lower())
    if found is None:
        known = ", ".join(sorted(_EXTENSIONS))
        raise InputError(
            Location(path),
            f"cannot tell the model format from the extension {path.suffix!r}",
            f"Use one of the extensions {known}, or name the format ({', '.join(FORMATS)})",
        )
    return found


def load_mdp(path: str | Path, format: str | None = None,
             constants: Mapping[str, str] | None = None) -> Mdp:
    """Read and validate a world model.

    Parameters
    ----------
    path
        The model file (for the explicit format, the ``.tra`` file; its siblings are read too).
    format
        One of ``"toml"``, ``"json"``, ``"explicit"``, ``"drn"``, ``"prism"``; by default chosen by
        the extension (``.toml``, ``.json``, ``.tra``, ``.drn``, ``.prism``/``.nm``/``.pm``).
    constants
        Values of a PRISM program's undefined constants, as text (``{"N": "4", "p": "1/10"}``), as
        `--const N=4,p=1/10` or an obligation's ``[worldmodel] constants`` give them. Only
        PRISM-language models have such constants; for other formats a non-empty mapping is an
        input error.

    Returns
    -------
    Mdp
        The frozen model, every number exact.

    Raises
    ------
    InputError, InputErrors
        A missing or unreadable file, an unknown format, or every problem found in the file, each
        naming the file, the line or key, what is wrong and how to fix it.
    """
    path = Path(path)
    reader = _reader(format_of(path, format))
    if not path.is_file():
        if path.is_symlink() and not path.exists():
            loop = _is_link_loop(path)
            raise InputError(Location(path), "the path is a loop of symbolic links" if loop else
                             "the path is a symbolic link to a missing file", "Point the link at a real file")
        raise InputError(
            Location(path),
            "the model file does not exist" if not path.exists() else "not a file",
            "Check the path (relative paths are relative to the file that names them)",
        )
    try:
        if constants:
            if format_of(path, format) != "prism":
                raise InputError(Location(path), "constants are given, but only a PRISM-language model has "
                                 "undefined constants", "Remove the constants (--const or [worldmodel] constants)")
            from proofs.worldmodel.prism import read_prism

            return read_prism(path, constants)
        return reader(path)
    except UnicodeDecodeError as exc:
        raise InputError(
            Location(path), f"the file is not UTF-8 text ({exc.reason})", "Save it as UTF-8"
        ) from None
    except OSError as exc:  # the model file or a sibling file (.lab, .srew, ...) named in the error
        where = Location(exc.filename if isinstance(exc.filename, str) else path)
        if exc.errno in (errno.ELOOP, errno.EISDIR, errno.ENOSPC):
            raise file_error(exc, "the model file") from None
        raise InputError(where, f"cannot read the file ({exc.strerror or exc})",
                         "Check that it exists and is readable") from None
    except (MemoryError, RecursionError) as exc:
        raise InputError(Location(path), f"the file is too large or nested too deeply to read ({type(exc).__name__})",
                         "Split the model, or simplify its nested tables and expressions") from None
    except (InputError, InputErrors):
        raise
    except ValueError as exc:  # Python's int <-> str limit, e.g. a 5,000-digit integer in a JSON file
        if "integer string conversion" not in str(exc):
            raise
        raise InputError(Location(path), "a number in the file has more than 4,300 digits",
                         "Write every number with at most 4,000 digits") from None


def _is_link_loop(path: Path) -> bool:
    try:
        path.stat()
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def _reader(format: str) -> Callable[[Path], Mdp]:
    if format == "toml":
        from proofs.worldmodel.structured import read_toml

        return read_toml
    if format == "json":
        from proofs.worldmodel.structured import read_json

        return read_json
    if format == "explicit":
        from proofs.worldmodel.explicit import read_explicit

        return read_explicit
    if format == "drn":
        from proofs.worldmodel.drn import read_drn

        return read_drn
    from proofs.worldmodel.prism import read_prism

    return read_prism


def parse_constants(texts: list[str] | tuple[str, ...], where: Location) -> dict[str, str]:
    """``--const N=4,p=1/10`` (repeatable) as ``{"N": "4", "p": "1/10"}``, the values still text.

    >>> parse_constants(["N=4,p=1/10", "flag=true"], Location("--const"))
    {'N': '4', 'p': '1/10', 'flag': 'true'}
    """
    out: dict[str, str] = {}
    for text in texts:
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            name, sep, value = part.partition("=")
            name, value = name.strip(), value.strip()
            if not sep or not name.isidentifier() or not value:
                raise InputError(where, f"{part[:80]!r} is not NAME=VALUE",
                                 "Write constants as --const N=4,p=1/10")
            if name in out:
                raise InputError(where, f"constant {name!r} is given twice", "Give each constant once")
            out[name] = value
    return out
