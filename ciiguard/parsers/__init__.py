"""Stage 1, parsers: input files in, ``Resource``s with their region and its provenance out.

Enters: the files discovery gave a parser (``Parser.claims``) and a ``ParseContext`` (settings,
catalogue, scanned roots). Leaves: a ``ParseOutput`` (resources, gaps, errors, warnings). A
parser resolves each resource's effective region with the chain of hops that produced it; it
knows nothing of policies, the gate or reports.

- ``terraform/``: HCL and JSON syntax, plan JSON (see its package docstring).
- ``pulumi/``: Pulumi YAML, preview/export JSON, Python programs under the SDK's mocks.
- ``base``: the ``Parser`` protocol and ``ParseContext``; ``reading``: safe file reads with a size
  limit; ``provider_defaults``: environment and documented defaults every input shares;
  ``nesting``/``surrogates``: limits that keep hostile input from crashing a reader.

Registered by ``ciiguard.plugins.builtin`` through the ``ciiguard_parsers`` hook (the plan and
Pulumi readers lazily); plugins add formats through the same hook.
"""
