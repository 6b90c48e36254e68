"""Report formats: a ``Report`` (the gated result) in, text out.

Enters: ``reporters.base.Report`` (violations with their gate status, errors, warnings, the
resolved resources). Leaves: the rendered text of one format. The built-in formats (text, json,
sarif, junit, github, markdown) are registered by ``ciiguard.plugins.builtin`` through the
``ciiguard_reporters`` hook, each imported only when a report is rendered in it; plugins add
more through the same hook. Reporters know only the report, never a file format or a parser.
"""
