"""Every cache ciiguard keeps, and what each one trusts.

- ``store``: the on-disk store (``$CIIGUARD_CACHE_DIR``, else the user cache directory). Keys are
  content hashes, writes are atomic and happen in a forked child that may outlive the command
  (the next command line waits for it through ``writers.lock``; ``store.settle`` waits for it
  from outside), entries are unpickled into ciiguard's own classes only. An entry counts only when every directory down to it and the
  entry itself are the current user's and writable by nobody else (no link followed), and it
  carries the HMAC of this installation's key (``store.key_file``, outside the cache directory).
- the parse cache (``DiskCache("parse")``, kept by ``parsers/terraform/hcl/loader``): syntax
  trees per module directory, keyed by the bytes parsed and the reader's version, written the
  second time the same content is parsed. Bypassed with ``--no-cache``.
- ``roots``: per scan key (the ``results`` key), each module directory's local module calls and
  each root module's evaluation, resolved resources, built-in findings and their summary, with
  the content hash of every file and listing it read; reused root by root, so an edit
  re-evaluates only the roots that read it, and reads a reused root's resources only when
  something needs every resource. A file whose signature (device, inode, size, modification and
  change times, read through a descriptor opened on it) is the one recorded when it was hashed
  at rest is not hashed again.
  Nothing that errored is stored. Bypassed as ``results``; a scan with errors still stores its
  clean roots.
- ``results``: a whole ``ScanResult``, keyed by version, ciiguard's code, settings, environment
  and plugins, and checked against the listing and content digest of every file the scan read.
  Bypassed with ``--no-cache``, ``--run-programs``, and when a plugin failed or the scan errored.
- ``replay``: a whole run's exit code, stdout, stderr and report files, keyed like ``results``
  plus the command line, config file, date and terminal state. Bypassed as ``results``, and for
  runs with plugins other than the built-in one, ``--explain`` and ``--create-baseline``.

``results`` and ``replay`` keep the last four versions per key (``versions``), each checked
against the tree when used: going back to an earlier tree (a reverted edit, another branch) is
answered without scanning.

A cache never changes a verdict: the suite compares cold, warm, replayed and ``--no-cache`` runs
byte for byte.
"""
