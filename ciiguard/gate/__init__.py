"""Stage 4, the gate: what becomes of each violation after the policies ran, and the exit code.

Enters: the ``ScanResult`` (policies' violations) and the settings. Leaves: every violation with
its status (violation, approved transfer, suppressed, exempted, baselined) and whether it blocks.

- ``stage``: approvals with expiry, inline suppressions, exemptions, baseline, ``--fail-on``.
- ``config``/``config_files``: ``ciiguard.toml`` or ``[tool.ciiguard]``: discovery, validation,
  the ``Settings`` it yields; ``baseline``: fingerprints and the baseline file.

Called by the command line (``ciiguard.cli.pipeline``) and the CrossGuard bridge
(``ciiguard.pulumi``); no hook registers it: the gate is not pluggable.
"""
