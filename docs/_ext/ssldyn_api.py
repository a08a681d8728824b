"""The API reference, one page per public function or class, built from the packages' ``EXPORTS``.

* At ``builder-inited`` (after sphinx-gallery has written its backreferences) each exported function
  or class gets a page ``generated/<public name>.rst``: its autodoc entry at the path where it is
  defined, the public names it is exported under, and the gallery examples that use it
  (sphinx-gallery's ``minigallery``, "Examples using ..."). A page is rewritten only when its text
  changes, so incremental builds stay incremental.
* ``.. ssldyn-exports:: PACKAGE`` a table of ``PACKAGE.EXPORTS`` linking to those pages, each with
  the first sentence of its docstring (constants documented in place).
* ``.. ssldyn-modules::`` every module of the four packages with its one-line summary, as
  ``py:module`` targets, so ``:mod:`` references resolve.
* ``missing-reference``: a reference to a public alias (``dynamics.find_equilibria``) or to a name
  imported into a module (``save`` in a figures module) resolves to the object's documented
  definition (``dynamics.equilibria.find_equilibria``); one to an object without a page (a helper of
  a module) to its highlighted source (``viewcode``).
"""
from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles
from ssldyn_docs import escape_bars

from symbolic.files import write_text

PACKAGES = ("dynamics", "symbolic", "figures", "sims")
GENERATED = "generated"


# --- pure functions of the code -------------------------------------------------------------------
def defined_at(obj, export: str | None = None) -> str:
    """``module.qualname`` where a function or class is defined (where autodoc documents it), or its
    ``EXPORTS`` path ``export`` (``"module:attribute"``) where that name does not lead back to it (a
    function made by a decorator)."""
    path = f"{obj.__module__}.{obj.__qualname__}"
    try:
        found = importlib.import_module(obj.__module__)
        for part in obj.__qualname__.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        found = None
    return path if found is obj or export is None else export.replace(":", ".")


def public_objects(packages=PACKAGES) -> list:
    """``[(public name, object, [aliases], documented path), ...]``: each exported function or class
    once, named by the first package that exports it (in ``packages`` order), with its other public
    names and the path autodoc documents it at (:func:`defined_at`); an export
    whose module cannot be imported (the torch extra missing) is skipped."""
    out, index = [], {}
    for pkg_name in packages:
        pkg = importlib.import_module(pkg_name)
        for name in pkg.EXPORTS:
            try:
                obj = getattr(pkg, name)
            except ImportError:
                continue
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            public = f"{pkg_name}.{name}"
            if id(obj) in index:
                index[id(obj)][2].append(public)
                continue
            index[id(obj)] = (public, obj, [], defined_at(obj, pkg.EXPORTS[name]))
            out.append(index[id(obj)])
    return out


def aliases(packages=PACKAGES) -> dict:
    """``{name: documented path}`` for every public name, every ``EXPORTS`` path and every defining
    path of an exported object (constants: their ``EXPORTS`` path)."""
    out = {}
    for pkg_name in packages:
        pkg = importlib.import_module(pkg_name)
        for name, path in pkg.EXPORTS.items():
            module, _, attr = path.partition(":")
            try:
                obj = getattr(pkg, name)
            except ImportError:
                continue
            target = defined_at(obj, path) if inspect.isfunction(obj) or inspect.isclass(obj) else f"{module}.{attr}"
            out[f"{pkg_name}.{name}"] = out[f"{module}.{attr}"] = target
    return out


def modules(packages=PACKAGES) -> list:
    """``[(module name, one-line summary), ...]`` of every importable module of ``packages``."""
    out = []
    for pkg_name in packages:
        pkg = importlib.import_module(pkg_name)
        names = [pkg_name] + sorted(m.name for m in pkgutil.walk_packages(pkg.__path__, f"{pkg_name}."))
        for name in names:
            try:
                mod = importlib.import_module(name)
            except ImportError:          # an optional dependency (torch) missing
                continue
            doc = inspect.getdoc(mod) or ""
            first = " ".join(doc.split("\n\n")[0].split())
            out.append((name, first[:-1] if first.endswith("::") else first))
    return out


def page_text(public: str, obj, others: list, path: str, examples: list) -> str:
    """The reStructuredText of the page of one public object, documented at ``path``."""
    kind = "autoclass" if inspect.isclass(obj) else "autofunction"
    module = path.rsplit(".", 1)[0]
    lines = [public, "=" * len(public), "",
             f"Defined in :mod:`{module}`" + (f"; also exported as {', '.join(f'``{o}``' for o in others)}"
                                              if others else "") + ".", "",
             f".. {kind}:: {path}", ""]
    if kind == "autoclass":
        lines += ["   :members:", ""]
    if examples:
        lines += [f".. minigallery:: {' '.join(examples)}", f"   :add-heading: Examples using ``{public}``", ""]
    return "\n".join(lines)


def used_in_gallery(backrefs: Path, names: list) -> list:
    """The names among ``names`` that some gallery example uses (sphinx-gallery's
    ``backreferences_all.json``)."""
    try:
        known = json.loads(backrefs.read_text())
    except (OSError, ValueError):
        return []
    return [n for n in names if known.get(n)]


# --- Sphinx hooks -------------------------------------------------------------------------------
def write_pages(app) -> None:
    """``generated/<public name>.rst`` for every public object (unchanged pages left untouched)."""
    conf = getattr(app.config, "sphinx_gallery_conf", None) or {}     # without sphinx-gallery: no examples
    backrefs = Path(app.srcdir, conf.get("backreferences_dir") or "-", "backreferences_all.json")
    out = Path(app.srcdir, GENERATED)
    out.mkdir(exist_ok=True)
    wanted = set()
    for public, obj, others, documented in public_objects(tuple(app.config.ssldyn_api_packages)):
        path = out / f"{public}.rst"
        wanted.add(path.name)
        text = page_text(public, obj, others, documented, used_in_gallery(backrefs, [public] + others + [documented]))
        if not path.is_file() or path.read_text() != text:
            write_text(path, text, name="API page")
    for stale in out.glob("*.rst"):
        if stale.name not in wanted:
            stale.unlink()


def locate(path: str):
    """``(module, qualified name, object)`` of the object at the dotted ``path`` in one of
    :data:`PACKAGES`, named where it is defined (for a function, class or method whose
    ``__module__``/``__qualname__`` lead back to it), else where ``path`` found it; a module gives
    ``(module, "", module)``; None where ``path`` names nothing."""
    parts = path.split(".")
    if parts[0] not in PACKAGES:
        return None
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for k, part in enumerate(parts[i:]):
            try:
                obj = getattr(obj, part)
            except (AttributeError, ImportError):
                fields = getattr(obj, "__dataclass_fields__", {})
                if part in fields and i + k == len(parts) - 1:   # a dataclass field: its class
                    break
                return None
        break
    else:
        return None
    if inspect.ismodule(obj):
        return obj.__name__, "", obj
    home, qual = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if isinstance(home, str) and isinstance(qual, str) and "<" not in qual and locate_exact(home, qual) is obj:
        return home, qual, obj
    return ".".join(parts[:i]), ".".join(parts[i:]), obj


def locate_exact(module: str, qual: str):
    """The object ``module.qual`` (attributes followed from the module), or None."""
    try:
        obj = importlib.import_module(module)
        for part in qual.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None
    return obj


_ALIASES: dict = {}


def referenced(node):
    """:func:`locate` of what a Python cross-reference names: its target as written, behind a public
    alias, or seen from the class and module it was written in."""
    if not _ALIASES:
        _ALIASES.update(aliases())
    target = node["reftarget"].lstrip("~.")
    module, cls = node.get("py:module"), node.get("py:class")
    names = [f"{module}.{cls}.{target}"] if module and cls else []
    names += [f"{module}.{target}"] if module else []
    for name in names + [target]:
        found = locate(_ALIASES.get(name, name))
        if found is not None:
            return found
    return None


def resolve_reference(app, env, node, contnode):
    """A Python reference Sphinx did not resolve: to the documented definition of what it names
    (:func:`referenced`), else to the object in its highlighted source (``viewcode``), else, for a
    name that exists but has no page (a constant of a module without one), its text unlinked. A
    name that names nothing stays unresolved (``-n`` reports it)."""
    if node.get("refdomain") != "py":
        return None
    domain = env.get_domain("py")
    found = referenced(node)
    if found is None:
        return None
    home, qual, _ = found
    path = f"{home}.{qual}" if qual else home
    path = _ALIASES.get(path, path)
    if path in domain.objects or path in domain.modules:
        return domain.resolve_xref(env, node["refdoc"], app.builder, "obj" if path in domain.objects else "mod",
                                   path, node, contnode)
    entry = getattr(env, "_viewcode_modules", {}).get(home)
    if entry and app.builder.format == "html":
        page = app.builder.get_relative_uri(node["refdoc"], "_modules/" + home.replace(".", "/"))
        anchor = f"#{qual}" if qual in entry[2] else ""
        return nodes.reference("", "", contnode, internal=True, refuri=page + anchor,
                               reftitle=f"{path} (source)")
    return contnode


def tag_sources(app, doctree) -> None:
    """Register each function, class or method that a page refers to with ``viewcode``, so that its
    highlighted source carries an anchor to link to (:func:`resolve_reference`)."""
    from sphinx import addnodes
    from sphinx.pycode import ModuleAnalyzer

    env = app.env
    modules_ = env.__dict__.setdefault("_viewcode_modules", {})
    for node in doctree.findall(addnodes.pending_xref):
        if node.get("refdomain") != "py":
            continue
        found = referenced(node)
        if found is None or not found[1]:
            continue
        home, qual, _ = found
        entry = modules_.get(home)
        if entry is None:
            try:
                analyzer = ModuleAnalyzer.for_module(home)
                analyzer.find_tags()
            except Exception:                      # no source (a compiled module): nothing to link
                modules_[home] = False
                continue
            entry = modules_[home] = (analyzer.code, analyzer.tags, {}, home)
        if entry and qual in entry[1]:
            entry[2].setdefault(qual, env.current_document.docname if hasattr(env, "current_document") else env.docname)


ROLE = re.compile(r":(?:py:)?(func|class|meth|attr|data|obj|mod|exc):`(~?)([\w.]+)`")


def absolute_roles(text: str, module: str) -> str:
    """``text`` (written in ``module``) with each Python role's target made absolute, so that it
    resolves wherever the text is shown (``:func:`save``` in ``figures.validation`` ->
    ``:func:`~figures.style.save```)."""
    def absolute(m):
        role, tilde, target = m.groups()
        for name in (f"{module}.{target}", target):
            found = locate(_ALIASES.get(name, name))
            if found is not None:
                path = f"{found[0]}.{found[1]}" if found[1] else found[0]
                return f":{role}:`{'~' if tilde or path != target else ''}{_ALIASES.get(path, path)}`"
        return m.group(0)

    if not _ALIASES:
        _ALIASES.update(aliases())
    return ROLE.sub(absolute, text)


def summary_line(obj) -> str:
    """The first sentence of ``obj``'s docstring (its first paragraph if no sentence ends there)."""
    para = " ".join((inspect.getdoc(obj) or "").split("\n\n")[0].split())
    m = re.match(r"(.+?\.)(\s|$)", para)
    return m.group(1) if m else para


BACKLINK = re.compile(r'<a class="viewcode-back" href="[^"#]*#([^"]+)">[^<]*</a>\n?')


def drop_dead_backlinks(app, pagename, templatename, context, doctree) -> None:
    """In a highlighted source page, the "[docs]" link of an object that has no documentation of its
    own (a helper tagged by :func:`tag_sources` so that references can point at its source) is
    dropped: it would lead to an anchor that does not exist."""
    if not pagename.startswith("_modules/") or "body" not in context:
        return
    documented = app.env.get_domain("py").objects
    context["body"] = BACKLINK.sub(lambda m: m.group(0) if m.group(1) in documented else "", context["body"])


class ExportsDirective(SphinxDirective):
    """A table of ``PACKAGE.EXPORTS``: each function or class linking to its page, with the first
    sentence of its docstring; then the exported constants in place."""

    required_arguments = 1

    def run(self):
        package = importlib.import_module(self.arguments[0])
        pages = {public for public, _, _, _ in public_objects(tuple(self.config.ssldyn_api_packages))}
        rows, constants, toc = [], [], []
        for name, path in package.EXPORTS.items():
            public = f"{package.__name__}.{name}"
            try:
                obj = getattr(package, name)
            except ImportError:
                continue
            module, _, attr = path.partition(":")
            if inspect.isfunction(obj) or inspect.isclass(obj):
                role = "class" if inspect.isclass(obj) else "func"
                summary = escape_bars(absolute_roles(summary_line(obj), obj.__module__))
                rows += [f"   * - :{role}:`{name} <{defined_at(obj, path)}>`", f"     - {summary}"]
                if public in pages:
                    toc.append(f"   {GENERATED}/{public}")
            else:
                constants += [f".. autodata:: {module}.{attr}", "   :annotation:", "",
                              f"   Exported as ``{public}``.", ""]
        lines = [".. list-table::", "   :widths: 1 3", ""] + rows + [""]
        if toc:
            lines += [".. toctree::", "   :hidden:", ""] + toc + [""]
        lines += constants
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source=f"<{package.__name__}.EXPORTS>"), node)
        return node.children


class ModulesDirective(SphinxDirective):
    """Every module with its one-line summary, each a ``py:module`` target (the packages, documented
    on the API page, are linked rather than declared again)."""

    def run(self):
        declared = set()                   # modules that other pages document with automodule
        for docname in self.env.found_docs:
            if not docname.startswith(GENERATED + "/"):
                text = Path(self.env.doc2path(docname)).read_text(errors="replace")
                declared.update(re.findall(r"automodule::\s*([\w.]+)", text))
        lines = []
        for name, summary in modules():
            item = f"* :mod:`{name}`" + (f": {escape_bars(summary)}" if summary else "")
            if name not in declared:
                lines += [f".. py:module:: {name}", "   :no-typesetting:", ""]
            lines += [item, ""]
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source="<modules>"), node)
        return node.children


def setup(app):
    app.add_config_value("ssldyn_api_packages", list(PACKAGES), "env")   # the packages that get API pages
    app.add_directive("ssldyn-exports", ExportsDirective)
    app.add_directive("ssldyn-modules", ModulesDirective)
    app.connect("builder-inited", write_pages, priority=900)       # after sphinx-gallery's backreferences
    app.connect("doctree-read", tag_sources, priority=600)        # after viewcode's own tags
    app.connect("missing-reference", resolve_reference)
    app.connect("html-page-context", drop_dead_backlinks)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
