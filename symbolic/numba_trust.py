"""numba's cache of the generated modules, under the cache's trust rule (:mod:`symbolic.trust`).

numba keeps the machine code of a ``cache=True`` function in an index (``.nbi``) and data files
(``.nbc``); both are pickles, so loading a planted one runs its code. For the modules the tool
generates (their file names start with ``ssldyn_``) every such file is written with an
HMAC-SHA256 header under the per-user key and read back only when the header matches its name
and bytes: a missing, copied, planted or edited file is a cache miss (numba compiles again and
rewrites it signed), and nothing in it is unpickled. Other modules' numba caches are untouched.
"""
from __future__ import annotations

import io
import os
import pickle

from .trust import read_signed, signed

_MAGIC = b"ssldyn-hmac-sha256 "
_PREFIX = "ssldyn_"


def _read(path) -> bytes | None:
    """The payload of the signed file at ``path``, None if missing or not signed for its name."""
    got = read_signed(path, "numba:" + os.path.basename(path), _MAGIC)
    return None if got is None else got[1]


def _signed(path, body: bytes) -> bytes:
    return signed("numba:" + os.path.basename(path), _MAGIC, body)


def install() -> None:
    """Make numba sign and verify the cache files of the ``ssldyn_*`` modules (idempotent)."""
    from numba.core import caching

    base = caching.IndexDataCacheFile
    if getattr(base, "_ssldyn_signed", False):
        return

    class SignedIndexDataCacheFile(base):  # type: ignore[valid-type, misc]  # numba's class, found at run time
        _ssldyn_signed = True

        def __init__(self, cache_path, filename_base, source_stamp):
            super().__init__(cache_path, filename_base, source_stamp)
            self._signed = filename_base.startswith(_PREFIX)

        def _load_index(self):
            if not self._signed:
                return super()._load_index()
            body = _read(self._index_path)
            if body is None:
                return {}
            f = io.BytesIO(body)
            if pickle.load(f) != self._version:
                return {}
            stamp, overloads = pickle.loads(f.read())
            return overloads if stamp == self._source_stamp else {}

        def _save_index(self, overloads):
            if not self._signed:
                return super()._save_index(overloads)
            body = pickle.dumps(self._version, protocol=-1) + self._dump((self._source_stamp, overloads))
            with self._open_for_write(self._index_path) as f:
                f.write(_signed(self._index_path, body))

        def _load_data(self, name):
            if not self._signed:
                return super()._load_data(name)
            body = _read(self._data_path(name))
            if body is None:
                raise OSError(f"unsigned numba cache file {name}")     # load() treats it as a miss
            return pickle.loads(body)

        def _save_data(self, name, data):
            if not self._signed:
                return super()._save_data(name, data)
            path = self._data_path(name)
            with self._open_for_write(path) as f:
                f.write(_signed(path, self._dump(data)))

    caching.IndexDataCacheFile = SignedIndexDataCacheFile  # type: ignore[misc]
