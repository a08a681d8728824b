"""Manage the on-disk cache of derivations and compiled kernels.

warm: derive and compile every model (run once on a new machine or before a sweep);
info: where the cache is, what it holds and where the key that signs it is kept; clear: delete
the files the tool made there (they are rebuilt on demand), only in a folder the tool made
(tagged with CACHEDIR.TAG). A cache folder that others can write is refused (symbolic.trust).
"""
NAME = "cache"
HELP = "warm, inspect or clear the cache of derivations and compiled kernels"


def add_arguments(p):
    p.add_argument("action", help="warm, info or clear")


def run(args) -> int:
    from symbolic.errors import check_choice
    from symbolic.models import cache_dir, cache_root, clear_cache, source_hash

    check_choice("action", args.action, ("warm", "info", "clear"))
    if args.action == "clear":
        root = cache_root()
        removed, kept = clear_cache(root)
        print(f"removed {removed} files from {root}" + (f"; kept {len(kept)} not made by ssldyn" if kept else ""))
        return 0
    root = cache_dir()
    if args.action == "warm":
        from symbolic.codegen import warm_all

        times = warm_all(progress=print)
        print(f"total {sum(times.values()):.1f} s; cache {root}")
    elif args.action == "info":
        files = [f for f in root.rglob("*") if f.is_file()]
        size = sum(f.stat().st_size for f in files)
        current = [f for f in files if source_hash() in f.name]
        from symbolic.trust import key_path

        print(f"cache {root}: {len(files)} files, {size / 1e6:.1f} MB; "
              f"{len(current)} for the current source hash {source_hash()}; signed with the key in {key_path()}")
    return 0
