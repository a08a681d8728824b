"""List the models: the built-in ones and those registered from ``--models FILE.py`` (given before
the subcommand: ``ssldyn --models my_model.py models``), with their forms, parameters and
defaults, conventions and capabilities (:mod:`symbolic.registry`).

The text is one block per model; ``--json`` prints ``{"models": [{"name", "source", "help",
"forms", "parameters", "parameter_help", "conventions", "decay", "critical", "capabilities",
"fingerprint"}]}``, ``source`` being ``built-in`` or ``user``.
"""
NAME = "models"
HELP = "list the built-in and registered user models: forms, parameters and defaults, capabilities"


def add_arguments(p):
    p.add_argument("--json", action="store_true", help="print the list as JSON")


#: the forms in the order of the derivation (matrix -> eigen -> reduced)
FORMS = ("matrix", "eigen", "reduced")


def describe(spec) -> dict:
    """One model's entry of the list (the ``--json`` fields), from its :class:`~symbolic.registry.ModelSpec`."""
    from symbolic.registry import CAPABILITIES

    return {"name": spec.name, "source": "user" if spec.user else "built-in", "help": spec.help,
            "forms": [f for f in FORMS if f in spec.forms], "parameters": dict(spec.defaults),
            "parameter_help": {f: spec.param_help.get(f, "") for f in spec.fields},
            "conventions": list(spec.conventions), "decay": spec.decay, "critical": spec.critical,
            "capabilities": [c for c in CAPABILITIES if c in spec.supports and c not in FORMS],
            "fingerprint": spec.fingerprint}


def lines(entry: dict) -> list:
    """The text block of one entry of :func:`describe`."""
    decay = (f"{entry['decay']} (critical value {entry['critical']})" if entry["decay"] else "none")
    rows = (("forms", ", ".join(entry["forms"])),
            ("parameters", ", ".join(f"{k}={v:g}" for k, v in entry["parameters"].items()) + " (defaults)"),
            ("conventions", ", ".join(entry["conventions"])), ("decay", decay),
            ("capabilities", ", ".join(entry["capabilities"]) or "none"))
    head = f"{entry['name']}  ({entry['source']})" + (f"  {entry['help']}" if entry["help"] else "")
    return [head] + [f"  {k + ':':<14}{v}" for k, v in rows]


def run(args) -> int:
    import json

    from symbolic.registry import get_model, model_names
    from symbolic.results import plain

    entries = [describe(get_model(name)) for name in model_names()]
    if args.json:
        print(json.dumps(plain({"models": entries}), allow_nan=False))
        return 0
    for i, entry in enumerate(entries):
        if i:
            print()
        for line in lines(entry):
            print(line)
    return 0
