"""Terragrunt: each unit (a directory with ``terragrunt.hcl``) as the root module Terragrunt runs.

Enters: the ``terragrunt.hcl`` / ``terragrunt.hcl.json`` files discovery found (and the files they
include or read). Leaves: a ``ParseOutput`` whose resources are the unit's root module evaluated
as Terraform would plan it (``parsers.terraform``), with provenance through the Terragrunt files
(``inputs.region (live/prod/terragrunt.hcl:4) <- local.region (live/prod/region.hcl:1)``).

- ``files``: reading configuration files (native and JSON syntax), within the scanned paths.
- ``functions``: Terragrunt's built-in functions; the pure ones evaluate, the ones that need the
  outside world (``run_cmd``, ``get_aws_account_id``, ``sops_decrypt_file``) are unknown.
- ``config``: one unit's configuration: ``include`` (``expose``, merge strategies), ``locals``,
  ``dependency``, ``read_terragrunt_config``, ``inputs``, ``terraform``, ``generate``.
- ``unit``: the root module a unit runs: ``terraform.source`` (local, ``//`` subdirectories,
  remote sources through ``[module_sources]``), the unit's own files, generated files, inputs as
  ``TF_VAR_`` values; outputs for other units' ``dependency`` blocks.
- ``parser``: ``TerragruntParser``. It parses before the Terraform reader and records the
  directories units run (``ParseContext.wrapped_roots``) so they are never scanned twice.

Nothing is executed: no ``run_cmd``, no hooks, no ``terragrunt`` binary. Registered by
``ciiguard.plugins.builtin`` (``ciiguard_parsers`` hook), ahead of the Terraform reader.
"""
