"""The cache's trust boundary: private folders and a per-user key that the cache cannot forge.

Everything the tool reads back from its cache (derivations, generated kernels, numba's index and
machine-code files) may run or shape code, so it is used only when

* its folder is owned by the user and not writable by the group or others (:func:`private_dir`,
  as ssh checks ``~/.ssh``); a folder that fails is refused with one line;
* it carries an HMAC-SHA256 under a per-user secret kept **outside** the cache
  (:func:`key`): ``$XDG_CONFIG_HOME/ssldyn/cache.key`` (default ``~/.config/ssldyn``), 32 random
  bytes, mode 0600 in a 0700 folder. A checksum anyone can recompute (the SHA-256 of the text)
  only catches accidents; a copied, planted or edited entry fails the HMAC and is regenerated.

Where the key cannot be kept (no writable configuration folder), a random key lives for the
process only: the cache is then rebuilt by each process, never trusted blindly.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from functools import lru_cache
from pathlib import Path

from .errors import ParameterError


def key_path() -> Path:
    """``$XDG_CONFIG_HOME/ssldyn/cache.key``, else ``~/.config/ssldyn/cache.key`` (not created)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(os.path.abspath(base)) / "ssldyn" / "cache.key"


def _check_private(path: Path, st, what: str) -> None:
    if st.st_uid != os.getuid():
        raise ParameterError(f"{what} must be owned by you (uid {os.getuid()}); got {str(path)!r}, "
                             f"owned by uid {st.st_uid}")
    if st.st_mode & 0o022:
        raise ParameterError(f"{what} must not be writable by group or others (chmod go-w); got {str(path)!r} "
                             f"(mode {stat.S_IMODE(st.st_mode):o})")


def private_dir(path, what: str = "SSLDYN_CACHE_DIR") -> Path:
    """``path`` as an absolute folder, created (mode 0700) if missing, owned by the user and not
    writable by group or others; else ParameterError naming ``what``.

    Examples
    --------
    >>> import os, tempfile
    >>> from symbolic.trust import private_dir
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     oct(os.stat(private_dir(os.path.join(tmp, "c"))).st_mode & 0o777)
    '0o700'
    """
    p = Path(os.path.abspath(os.fspath(path)))
    try:
        p.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        pass
    except OSError as e:
        raise ParameterError(f"{what} cannot be created ({e.strerror or e}); got {str(p)!r}") from None
    try:
        st = os.stat(p)
    except OSError as e:
        raise ParameterError(f"{what} cannot be read ({e.strerror or e}); got {str(p)!r}") from None
    if not stat.S_ISDIR(st.st_mode):
        kind = "a file" if stat.S_ISREG(st.st_mode) else "not a folder"
        raise ParameterError(f"{what} must be a folder; got {str(p)!r} ({kind})")
    _check_private(p, st, what)
    return p


@lru_cache(maxsize=None)
def _key_at(path: str) -> bytes:
    p = Path(path)
    try:
        folder = private_dir(p.parent, "the ssldyn key folder")
    except ParameterError:
        if p.parent.exists():
            raise
        return secrets.token_bytes(32)             # no configuration folder: a key for this process
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        data = secrets.token_bytes(32)
        tmp = folder / f".cache.key.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.link(tmp, p)                        # never replaces a key another process made meanwhile
        except FileExistsError:
            pass
        except OSError:
            return data                            # a read-only folder: a key for this process
        finally:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as e:
        raise ParameterError(f"the ssldyn key cannot be read ({e.strerror or e}); got {str(p)!r}") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        _check_private(p, st, "the ssldyn key")
        if st.st_mode & 0o077:
            raise ParameterError(f"the ssldyn key must be readable by you only (chmod 600); got {str(p)!r} "
                                 f"(mode {stat.S_IMODE(st.st_mode):o})")
        data = f.read(4096)
    if len(data) < 32:
        raise ParameterError(f"the ssldyn key must hold 32 bytes or more (delete it to make a new one); got {str(p)!r}")
    return data


def key() -> bytes:
    """The per-user secret (made on first use), see the module docstring."""
    return _key_at(str(key_path()))


def mac(purpose: str, data: bytes) -> str:
    """HMAC-SHA256 (hex) of ``data`` for ``purpose`` (a file name, a kind of entry) under :func:`key`.

    Examples
    --------
    >>> from symbolic.trust import mac, verify
    >>> tag = mac("example", b"text")
    >>> verify("example", b"text", tag), verify("example", b"text!", tag), verify("other", b"text", tag)
    (True, False, False)
    """
    return hmac.new(key(), purpose.encode() + b"\0" + data, hashlib.sha256).hexdigest()


def verify(purpose: str, data: bytes, tag) -> bool:
    """Whether ``tag`` is :func:`mac` of ``purpose`` and ``data`` (constant-time comparison)."""
    return isinstance(tag, str) and hmac.compare_digest(mac(purpose, data), tag)


def signed(purpose: str, header: bytes, body: bytes) -> bytes:
    """``header + mac + newline + body``: a file whose first line carries the HMAC of the rest."""
    return header + mac(purpose, body).encode() + b"\n" + body


def read_signed(path, purpose: str, header: bytes) -> tuple[bytes, bytes] | None:
    """``(whole file, body)`` of a file written as :func:`signed`, or None if it is missing,
    unreadable or its first line is not ``header`` followed by the HMAC of the rest. The bytes
    returned are the ones checked: use them, never read the file again."""
    try:
        with open(path, "rb") as f:
            text = f.read()
    except OSError:
        return None
    head, nl, body = text.partition(b"\n")
    if not nl or not head.startswith(header):
        return None
    return (text, body) if verify(purpose, body, head[len(header):].decode("ascii", "replace")) else None
