"""Terraform: configuration directories (HCL and JSON syntax) and plan JSON into resources.

Enters: ``.tf``/``.tf.json``/``.tfvars`` files of module directories, or a ``terraform show -json``
plan. Leaves: a ``ParseOutput`` whose resources carry Terraform addresses and regions resolved as
Terraform would plan them (resource argument > provider configuration > environment > default).

- ``hcl/``: text to syntax tree (``nodes``) for both syntaxes: the fast reader, python-hcl2's
  grammar as the reference, templates, JSON syntax, and the loader with its parse cache.
- ``lang/``: the expression language: a total evaluator, Terraform's functions, RE2 regexes.
- ``numbers``: Terraform's 512-bit binary floats (shared by the readers and the language).
- ``module_def``, ``files``, ``overrides``: one module directory's declarations, its files and
  variable values, override files and what Terraform rejects as declared twice.
- ``parser``: ``TerraformParser``: root modules, module calls, providers and aliases,
  ``count``/``for_each``/``dynamic`` expansion, effective regions.
- ``plan``: ``TerraformPlanParser`` for plan JSON (``--source`` maps it back to ``.tf`` lines).

``TerraformParser`` is registered by ``ciiguard.plugins.builtin`` (``ciiguard_parsers`` hook);
``TerraformPlanParser`` too, imported only when a file could be a plan.
"""
