"""Pulumi: YAML programs, preview/export JSON and Python programs into resources.

Enters: ``Pulumi.yaml`` projects with their stack files, ``pulumi preview --json`` or ``pulumi
stack export`` files. Leaves: a ``ParseOutput`` whose resources are addressed by URN, typed by the
catalogue's canonical type (``catalogue/data/pulumi.json``) with camelCase inputs mapped onto the
same arguments, and regions resolved as Pulumi would (own input > provider > stack config >
environment).

- ``common``: type tokens, inputs, projects, stack config, providers and regions (no ``pulumi``
  import); ``yaml_program``: ``runtime: yaml``; ``state``: preview and export JSON; ``program``:
  ``runtime: python`` under the SDK's mocks (only with ``--run-programs``).

All three are registered lazily by ``ciiguard.plugins.builtin`` (``ciiguard_parsers`` hook).
"""
