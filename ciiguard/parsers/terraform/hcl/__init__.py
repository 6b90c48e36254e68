"""HCL text (native and JSON syntax) into one immutable syntax tree (``nodes``).

Enters: source text and its display path. Leaves: an ``HclFile`` (body, comments with lines), or
an ``InputError`` naming file and line. ``reader.parse_hcl`` runs the hand-written ``fast`` reader
and falls back to python-hcl2's ``grammar`` (the reference) for whatever it is not sure of;
``templates`` holds the string and heredoc rules both share; ``json_syntax`` reads ``.tf.json``
into the same nodes; ``loader`` reads a directory's files through the parse cache.
"""
