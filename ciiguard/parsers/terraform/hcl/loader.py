"""Load ``.tf`` / ``.tf.json`` files: content-hash parse cache, and a worker pool for big parses.

Files not in the cache are parsed here, or in worker processes when there is a lot to parse and
enough cores for the pool to pay (see PARALLEL_BYTES); results are the same AST either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from ciiguard import __version__
from ciiguard.cache.store import DiskCache, digest, in_background
from ciiguard.errors import InputError
from ciiguard.parsers.terraform.hcl.nodes import AST_VERSION, HclFile
from ciiguard.settings import processes

# Uncached source bytes before a worker pool pays off. Parsing is ~4 MB/s per core; sending
# the trees back to this process costs about half of that, so workers only help on many cores
# with a lot to parse (measured in benchmarks/: on 2 cores and 10 MB, serial is as fast).
PARALLEL_BYTES = 16 << 20
PARALLEL_MIN_JOBS = 4
_HCL2_VERSION: str | None = None


def _parser_version() -> str:
    """What python-hcl2 contributes to a parse (its grammar and post-lexer, which the Lark path
    uses), as a digest of those files: found without importing hcl2 or importlib.metadata."""
    global _HCL2_VERSION
    if _HCL2_VERSION is None:
        import importlib.util

        spec = importlib.util.find_spec("hcl2")
        parts: list[bytes] = []
        for location in (spec.submodule_search_locations or []) if spec else []:
            for name in ("hcl2.lark", "postlexer.py"):
                try:
                    parts.append(Path(location, name).read_bytes())
                except OSError:
                    parts.append(b"?")
        _HCL2_VERSION = digest(*parts) if parts else "?"
    return _HCL2_VERSION


def parse_source(data: bytes, shown: str, json_syntax: bool) -> HclFile:
    """Decode and parse one file's bytes (shared by the main process and the workers)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(shown, line, "file is not valid UTF-8") from None
    if json_syntax:
        from ciiguard.parsers.terraform.hcl.json_syntax import parse_tf_json

        return parse_tf_json(text, shown)
    from ciiguard.parsers.terraform.hcl.reader import parse_hcl

    return parse_hcl(text, shown)


def _worker(
    batch: list[tuple[bytes, str, bool]],
) -> list[HclFile | tuple[str | None, int | None, str]]:
    out: list[HclFile | tuple[str | None, int | None, str]] = []
    for data, shown, js in batch:
        try:
            out.append(parse_source(data, shown, js))
        except InputError as exc:
            out.append((exc.file, exc.line, exc.message))
        except RecursionError:
            out.append((shown, None, "nested too deeply to parse"))
    return out


class HclLoader:
    """Reads and parses files once per scan, through the cache and a worker pool."""

    def __init__(
        self,
        read_bytes: Callable[[Path, str], bytes],
        display: Callable[[Path], str],
        use_cache: bool = True,
        jobs: int | None = None,
    ) -> None:
        self.read_bytes = read_bytes
        self.display = display
        self.cache = DiskCache("parse") if use_cache else None
        self.jobs = processes(jobs)
        self.done: dict[Path, HclFile | InputError] = {}

    def _key(self, data: bytes, json_syntax: bool) -> str:
        return digest(
            "hcl",
            __version__,
            str(AST_VERSION),
            _parser_version(),
            "json" if json_syntax else "hcl",
            data,
        )

    def preload(self, paths: Iterable[Path]) -> None:
        """Parse every given file now (in worker processes when there is a lot to parse).

        The cache holds one entry per directory (a module is the unit that changes together), so
        a large tree costs one cache read and write per module, not per file.
        """
        groups: dict[Path, list[tuple[Path, bytes, str, bool, str]]] = {}
        for path in paths:
            if path in self.done:
                continue
            shown = self.display(path)
            try:
                data = self.read_bytes(path, shown)
            except InputError as exc:
                self.done[path] = exc
                continue
            js = path.name.endswith(".json")
            groups.setdefault(path.parent, []).append((path, data, shown, js, self._key(data, js)))
        todo: list[tuple[Path, bytes, str, bool, str]] = []
        missed: dict[str, list[tuple[Path, bytes, str, bool, str]]] = {}
        for group in groups.values():
            pack_key = digest("pack", *sorted(item[4] for item in group))
            pack = self.cache.get(pack_key) if self.cache else None
            if isinstance(pack, dict) and all(isinstance(pack.get(i[4]), HclFile) for i in group):
                for path, _, shown, _, key in group:
                    cached = pack[key]
                    self.done[path] = HclFile(shown, cached.body, cached.comments)
                continue
            todo.extend(group)
            missed[pack_key] = group
        if not todo:
            return
        size = sum(len(item[1]) for item in todo)
        if self.jobs >= PARALLEL_MIN_JOBS and size >= PARALLEL_BYTES:
            results = self._parallel(todo)
        else:
            results = _worker([(d, s, j) for _, d, s, j, _ in todo])
        for (path, *_), res in zip(todo, results, strict=True):
            self.done[path] = res if isinstance(res, HclFile) else InputError(*res)
        if self.cache is None:
            return
        # Admission: a directory's pack is written the second time the same content is parsed.
        # A first scan of a tree is answered again by the result cache; only a scan after a
        # change parses again, and then the unchanged directories are worth keeping. Pickling
        # every tree on the first scan cost as much as parsing it.
        cache = self.cache
        packs: list[tuple[str, dict[str, HclFile]]] = []
        first: list[str] = []
        for pack_key, group in missed.items():
            parsed = [h for h in (self.done[p] for p, *_ in group) if isinstance(h, HclFile)]
            if len(parsed) != len(group):
                continue  # errors are never cached
            if not cache.seen(pack_key):
                first.append(pack_key)
                continue
            entries = {
                i[4]: HclFile("", h.body, h.comments) for i, h in zip(group, parsed, strict=True)
            }
            packs.append((pack_key, entries))

        def write() -> None:
            cache.mark(first)
            for key, entries in packs:
                cache.put(key, entries)

        in_background(write)

    def _parallel(
        self, todo: list[tuple[Path, bytes, str, bool, str]]
    ) -> list[HclFile | tuple[str | None, int | None, str]]:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        workers = min(self.jobs, max(1, len(todo) // 8))
        size = max(1, min(64, len(todo) // (workers * 4) or 1))
        batches = [
            [(d, s, j) for _, d, s, j, _ in todo[i : i + size]] for i in range(0, len(todo), size)
        ]
        from ciiguard.parsers.terraform.hcl.grammar import lark_parser

        lark_parser()  # build once here: forked workers inherit it instead of each building one
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        try:
            with ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context(method)
            ) as pool:
                return [r for batch in pool.map(_worker, batches) for r in batch]
        except (OSError, RuntimeError):
            return _worker([(d, s, j) for _, d, s, j, _ in todo])  # no pool here: parse serially

    def load(self, path: Path) -> HclFile:
        if path not in self.done:
            self.preload([path])
        result = self.done[path]
        if isinstance(result, InputError):
            raise result
        return result
