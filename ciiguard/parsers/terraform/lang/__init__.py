"""The Terraform expression language, evaluated without providers and without running code.

Enters: a syntax-tree expression and a scope (variables, locals, resources' configured values).
Leaves: a value with Terraform's semantics, or ``Unknown`` saying why it cannot be decided.
``evaluator`` is total (it never raises on any input), ``functions`` holds Terraform's built-in
functions, ``re2`` Go's regular-expression syntax on Python's ``re``.
"""
