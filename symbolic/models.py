"""Derivations of the registered models (:mod:`symbolic.registry`), with an on-disk cache.

``derive(model, form)`` returns a :class:`~symbolic.derivation.Derivation`. The first call runs
the SymPy derivation (seconds); the result is stored as ``srepr`` text with its HMAC under the
cache directory, keyed by a hash of this package's source and the SymPy version, so later
processes load it in milliseconds and any edit of a derivation invalidates it. A model from a
user's file (:func:`symbolic.user_models.register_model`) carries its expressions already: it is not
stored, and every cache of it in memory or on disk is keyed by its fingerprint as well. Loading parses the
text into an allowlist of SymPy classes (:func:`parse_srepr`); nothing in the file is evaluated.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ParameterError
from .files import write_text
from .registry import CONVENTIONS, get_model  # noqa: F401  (CONVENTIONS: where callers find it)
from .trust import mac, private_dir, verify

if TYPE_CHECKING:
    from .derivation import Derivation
    from .model import Model
#: files whose edits invalidate cached derivations and kernels: every module of the package (a
#: superset of what models.py and codegen.py import, directly or not: a test checks it), so a new
#: model family's module is covered without an edit here
DERIVATION_SOURCES = tuple(sorted(p.name for p in Path(__file__).parent.glob("*.py")))


#: the cache root's tag (https://bford.info/cachedir/): backup tools skip the folder, and
#: ``ssldyn cache clear`` deletes nothing in a folder without it
CACHE_TAG = "CACHEDIR.TAG"
CACHE_TAG_TEXT = ("Signature: 8a477f597d28d172789f06886806bc55\n"
                  "# This file is a cache directory tag created by ssldyn (derivations and kernels).\n")
#: what the tool puts in the cache root; only these may be there when the tag is first written
CACHE_ENTRIES = (CACHE_TAG, "derivations", "kernels")


def cache_root() -> Path:
    """``$SSLDYN_CACHE_DIR``, else ``$XDG_CACHE_HOME/ssldyn``, else ``~/.cache/ssldyn`` (not created)."""
    root = os.environ.get("SSLDYN_CACHE_DIR")
    if not root:
        root = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "ssldyn")
    return Path(os.path.abspath(root))


def is_tool_cache(root) -> bool:
    """Whether ``root`` holds the tag this tool writes (a regular file, ssldyn's text)."""
    tag = Path(root) / CACHE_TAG
    try:
        return tag.is_file() and not tag.is_symlink() and tag.read_text() == CACHE_TAG_TEXT
    except (OSError, UnicodeDecodeError):
        return False


def cache_dir() -> Path:
    """:func:`cache_root`, created (mode 0700), and tagged as ssldyn's when it is new (or holds only
    what the tool puts there); a folder that already held other files is used but never tagged.
    A folder not owned by the user, or writable by group or others, is refused
    (:func:`symbolic.trust.private_dir`), as is a path that is not a folder."""
    path = private_dir(cache_root())
    if not is_tool_cache(path) and all(e.name in CACHE_ENTRIES for e in path.iterdir()):
        write_text(path / CACHE_TAG, CACHE_TAG_TEXT, name="cache tag")
    return path


#: files the tool writes under the cache root, by folder (temporaries and numba's caches included)
_CACHE_FILES = {
    "derivations": re.compile(r"[a-z0-9-]+-(matrix|eigen|reduced)-[a-z-]+-[0-9a-f]{16}"
                              r"(\.json|\.json\.[0-9a-f]{8}\.tmp|\.tmp\d+)"),
    "kernels": re.compile(r"ssldyn_[a-z]_\w+(\.py|\.py\.[0-9a-f]{8}\.tmp|\.tmp\d+)"),
    "kernels/__pycache__": re.compile(r"ssldyn_[a-z]_\w+\.[\w.-]+\.(nbi|nbc|pyc)"),
}


def clear_cache(root=None) -> tuple[int, list]:
    """Delete the files the tool made under the cache ``root`` (default :func:`cache_root`);
    returns (number removed, names of what was kept).

    Only a tagged folder (see :func:`cache_dir`) is touched, and in it only regular files whose
    names the tool writes (:data:`_CACHE_FILES`) in its own sub-folders (not followed when they
    are links); folders left empty, and then the tag and the root, are removed.
    """
    root = Path(root) if root is not None else cache_root()
    if not root.exists():
        return 0, []
    if not is_tool_cache(root):
        raise ParameterError(f"cache directory must be one ssldyn made (it holds {CACHE_TAG}); got {str(root)!r}: "
                             "nothing deleted, remove it by hand or point SSLDYN_CACHE_DIR elsewhere")
    removed = 0
    for sub in sorted(_CACHE_FILES, key=len, reverse=True):      # __pycache__ before kernels
        folder = root / sub
        if folder.is_symlink() or not folder.is_dir():
            continue
        for f in folder.iterdir():
            if _CACHE_FILES[sub].fullmatch(f.name) and f.is_file() and not f.is_symlink():
                f.unlink()
                removed += 1
        try:
            folder.rmdir()
        except OSError:
            pass
    if [e.name for e in root.iterdir()] == [CACHE_TAG]:
        (root / CACHE_TAG).unlink()
        root.rmdir()
        return removed, []
    kept = sorted(str(f.relative_to(root)) for f in root.rglob("*") if f.name != CACHE_TAG and not f.is_dir())
    return removed, kept


@lru_cache(maxsize=1)
def source_hash() -> str:
    """Hash of the symbolic package's source files and the SymPy version."""
    from importlib.metadata import version   # the installed SymPy's version without importing it

    h = hashlib.sha256(version("sympy").encode())
    for name in DERIVATION_SOURCES:
        f = Path(__file__).parent / name
        h.update(name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def resolve(model: str | Model, form: str | None = None, convention: str | None = None) -> tuple[Any, str, str]:
    """``(spec, form, convention)`` of ``model``, checked: a :class:`~symbolic.model.Model` gives
    its spec and (as defaults) its form and convention without a lookup; a name is looked up
    once (defaults 'reduced', 'frobenius')."""
    spec = getattr(model, "spec", None)
    if spec is None:
        spec = get_model(model)
        form = "reduced" if form is None else form
        convention = "frobenius" if convention is None else convention
    else:
        form = model.form if form is None else form
        convention = model.convention if convention is None else convention
    spec.check(form, convention)
    return spec, form, convention


def fingerprint_hash(fingerprint: str) -> str:
    """The hash that names a model's cached derivations and kernels: :func:`source_hash`, and for
    a user model (a non-empty ``fingerprint``) the fingerprint too (an edited model file gets new
    entries)."""
    if not fingerprint:
        return source_hash()
    return hashlib.sha256((source_hash() + fingerprint).encode()).hexdigest()[:16]


def _srepr(e) -> str:
    import sympy as sp

    # order='none': the arguments in SymPy's internal order, which rebuilding unevaluated keeps,
    # so the loaded expression is structurally (==) the derived one; the default sorts for printing
    return sp.srepr(e, order="none")


def _to_disk(d: Derivation) -> dict:
    return {"model": d.model, "form": d.form, "state": list(d.state), "params": list(d.params),
            "rhs": {k: _srepr(v) for k, v in d.rhs.items()},
            "invariants": {k: [_srepr(e), _srepr(r)] for k, (e, r) in d.invariants.items()},
            "equilibrium_polynomial": None if d.equilibrium_polynomial is None
            else _srepr(d.equilibrium_polynomial),
            "definitions": d.definitions, "notes": d.notes}


#: SymPy classes a cached expression may name; leaves take only literal arguments, every other
#: node only expressions (so no string ever reaches sympify, which would eval it)
#: (built on first use: SymPy is imported only when an expression is read)
@lru_cache(maxsize=1)
def _classes() -> tuple:
    """``(leaves, nodes)``: name -> SymPy class, the two tables above."""
    import sympy as sp

    leaves = {"Integer": sp.Integer, "Rational": sp.Rational, "Float": sp.Float, "Symbol": sp.Symbol,
              "Str": sp.core.symbol.Str}
    nodes = {c.__name__: c for c in (sp.Add, sp.Mul, sp.Pow, sp.exp, sp.log, sp.Abs, sp.MatrixSymbol, sp.MatAdd,
                                     sp.MatMul, sp.MatPow, sp.Transpose, sp.Identity, sp.ZeroMatrix, sp.Trace,
                                     sp.Inverse)}
    return leaves, nodes


#: keyword arguments allowed, by leaf: Symbol's assumptions (booleans), Float's precision
_KEYWORDS = {"Symbol": {"positive", "negative", "nonnegative", "nonpositive", "real", "integer", "nonzero",
                        "finite", "commutative"}, "Float": {"precision"}}
_LITERALS = {"Integer": (int,), "Rational": (int,), "Float": (str,), "Symbol": (str,), "Str": (str,)}


def parse_srepr(text: str):
    """The SymPy expression of ``srepr`` text, built only from the classes above (no ``eval``).

    A bare integer (``srepr`` of a Python int) comes back as that int. Raises ``ValueError`` for
    anything else (another name, an attribute, a lambda, a string
    where an expression belongs, ...). Nodes are rebuilt unevaluated, arguments in the order given.
    """
    import sympy as sp

    from .derivation import check_names

    _LEAVES, _NODES = _classes()

    def literal(node, types):
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            v = literal(node.operand, types)
            if isinstance(v, int) and not isinstance(v, bool):
                return -v
        elif isinstance(node, ast.Constant) and type(node.value) in types:
            return node.value
        raise ValueError(f"unexpected literal {ast.dump(node)[:80]}")

    def build(node):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            raise ValueError(f"unexpected node {type(node).__name__}")
        name = node.func.id
        if name in _LEAVES:
            args = [literal(a, _LITERALS[name]) for a in node.args]
            kw = {}
            for k in node.keywords:
                if k.arg not in _KEYWORDS.get(name, ()):
                    raise ValueError(f"unexpected keyword {k.arg!r} of {name}")
                kw[k.arg] = literal(k.value, (int,) if name == "Float" else (bool,))
            if name in ("Symbol", "Str"):
                check_names(name, args[:1])
            return _LEAVES[name](*args, **kw)
        if name not in _NODES or node.keywords:
            raise ValueError(f"unexpected call of {name}")
        return _NODES[name](*[build(a) for a in node.args])

    body = ast.parse(text, mode="eval").body
    if isinstance(body, (ast.Constant, ast.UnaryOp)):      # a plain int stored as such (a decay rate 0)
        return literal(body, (int,))
    with sp.evaluate(False):
        return build(body)


def _from_disk(obj: dict) -> Derivation:
    from .derivation import Derivation

    ev = parse_srepr
    return Derivation(obj["model"], obj["form"], tuple(obj["state"]), tuple(obj["params"]),
                      {k: ev(v) for k, v in obj["rhs"].items()},
                      {k: (ev(e), ev(r)) for k, (e, r) in obj["invariants"].items()},
                      None if obj["equilibrium_polynomial"] is None else ev(obj["equilibrium_polynomial"]),
                      obj["definitions"], obj["notes"])


def _payload_hash(payload: dict, name: str) -> str:
    """The HMAC (per-user key, :mod:`symbolic.trust`) of an entry's payload and its file name."""
    return mac("derivation:" + name, json.dumps(payload, sort_keys=True).encode())


def _read_entry(path: Path) -> Derivation:
    """A cache entry: ``{"hmac": <of the payload and file name>, "payload": <_to_disk>}``;
    ValueError unless the HMAC holds and the payload parses (an entry whose checksum anyone
    could recompute is refused)."""
    obj = json.loads(path.read_text())
    if not isinstance(obj, dict) or not verify("derivation:" + path.name,
                                               json.dumps(obj.get("payload"), sort_keys=True).encode(),
                                               obj.get("hmac")):
        raise ValueError("checksum mismatch (HMAC)")
    return _from_disk(obj["payload"])


def derive(model: str | Model, form: str | None = None, convention: str | None = None, use_cache: bool = True) -> Derivation:
    r"""Derivation of ``model`` in ``form`` ('matrix', 'eigen', 'reduced').

    With ``use_cache`` the result is read from (or written to) ``derivations/`` in the cache: JSON
    holding the ``srepr`` text and its HMAC-SHA256 under a per-user key kept outside the cache
    (:mod:`symbolic.trust`), keyed by :func:`source_hash`. An entry whose
    HMAC fails or that names anything outside :func:`parse_srepr`'s classes is re-derived.
    In memory the result is kept per model fingerprint (:func:`fingerprint_hash`).

    For the cosine model (Bao 2023 eqs. 4-7) the reduced form is
    :math:`\dot p=-pQ(p)/(aN_\Phi N_\Psi^3)`, :math:`Q(p)=2p^5+Tp^2-N_\Psi^2p+\rho aN_\Phi N_\Psi^3`,
    :math:`a=1+\sigma^2`; for the L2 model Tian et al. 2021 eqs. 11-16.

    Parameters
    ----------
    model : str or symbolic.model.Model
        A registered model's name (:func:`symbolic.registry.model_names`), resolved here once, or
        the model object.
    form : {'matrix', 'eigen', 'reduced'}, optional
        The form, one the model has (default: the object's form; for a name, 'reduced').
    convention : {'frobenius', 'feature-norm'}, optional
        The cosine models' normalisers ('feature-norm' only for the models that have it; default:
        the object's, for a name 'frobenius').
    use_cache : bool, optional
        Read and write the on-disk cache and use the shipped derivations (:mod:`symbolic.shipped`);
        False derives now (the in-memory cache is always used).

    Returns
    -------
    Derivation
        The state and parameter names, the right-hand sides as SymPy expressions, invariants, the
        equilibrium polynomial (scalar forms) and notes.

    Raises
    ------
    ParameterError
        For an unknown model, a form or convention the model does not have (listing the allowed).

    Examples
    --------
    >>> import sympy as sp
    >>> from symbolic import derive
    >>> d = derive("cosine-simsiam", "reduced")
    >>> d.state, d.params
    (('p',), ('rho', 'sigma2', 'N_Phi', 'N_Psi', 'T'))
    >>> p, rho, sigma2, N_Phi, N_Psi, T = (d.symbol(n) for n in ("p", *d.params))   # with their assumptions
    >>> a = 1 + sigma2
    >>> Q = 2 * p**5 + T * p**2 - N_Psi**2 * p + rho * a * N_Phi * N_Psi**3
    >>> sp.simplify(d.rhs["p"] + p * Q / (a * N_Phi * N_Psi**3))
    0
    >>> derive("two-layer", "reduced", convention="feature-norm")
    Traceback (most recent call last):
    ...
    symbolic.errors.ParameterError: convention must be frobenius for model two-layer (...); got 'feature-norm'
    """
    return derive_spec(*resolve(model, form, convention), use_cache=use_cache)


def derive_spec(spec, form: str, convention: str, use_cache: bool = True) -> Derivation:
    """:func:`derive` for a looked-up spec and a checked form and convention (no lookup)."""
    key = (spec.name, form, convention, use_cache, fingerprint_hash(spec.fingerprint))
    if key not in _DERIVED:
        _DERIVED[key] = _derive(spec, form, convention, use_cache, key[-1])
    return _DERIVED[key]


#: (model, form, convention, use_cache, hash) -> Derivation, this process's derivations
_DERIVED: dict = {}


def _with_decay(d: Derivation, decay) -> Derivation:
    """``d`` knowing its model's decay parameter (its LaTeX splits the decay term off)."""
    return d if d.decay == decay else replace(d, decay=decay)


def _derive(spec, form: str, convention: str, use_cache: bool, key: str) -> Derivation:
    model = spec.name
    if spec.user:                       # given as expressions: nothing to derive or store
        return _with_decay(spec.forms[form](), spec.decay)
    path = private_dir(cache_dir() / "derivations") / f"{model}-{form}-{convention}-{key}.json" if use_cache else None
    if use_cache and path.is_file():
        try:
            return _with_decay(_read_entry(path), spec.decay)
        except Exception:  # a corrupt or edited entry is re-derived, never trusted
            pass
    from . import shipped                # lazy: the built-in derivations shipped as data (cold start)
    shipped_payload = shipped.payload(model, form, convention) if use_cache else None
    if shipped_payload is not None:
        d = _from_disk(shipped_payload)
    else:
        d = spec.forms[form]()
        if convention == "feature-norm":
            from .cosine_simsiam import feature_norm_convention

            d = feature_norm_convention(d)
    if use_cache:
        payload = _to_disk(d)
        write_text(path, json.dumps({"hmac": _payload_hash(payload, path.name), "payload": payload}),
                   name="derivation cache")
    return _with_decay(d, spec.decay)


derive.cache_clear = _DERIVED.clear     # forget the in-memory derivations (tests point the cache elsewhere)
